//! The PDF read back the way a viewer would: cross-reference table, page tree,
//! fonts, and the text of each page decoded through the ToUnicode CMaps.

use std::process::Command;

use uslugi_print::readback::{Pdf, count_page_objects, flat, reference, rfind};
use uslugi_print::{PrintedLetter, Sender, letters_pdf};

fn sender() -> Sender {
    Sender {
        name: "Госуслуги (uslugi)".to_owned(),
        address_lines: vec![
            "102000".to_owned(),
            "г. Москва".to_owned(),
            "Почтамт, а/я 1".to_owned(),
        ],
    }
}

fn letter(n: u32, recipient: &str, code: &str) -> PrintedLetter {
    PrintedLetter {
        tracking_number: format!("1020001200{n:03}7"),
        recipient: recipient.to_owned(),
        address_lines: vec![
            "248000".to_owned(),
            "Калужская обл.".to_owned(),
            "г. Калуга".to_owned(),
            format!("ул. Ленина, д. {n}, кв. 2"),
        ],
        code: code.to_owned(),
        valid_until: "31.12.2026".to_owned(),
        portal_url: "https://uslugi.example.ru".to_owned(),
    }
}

fn batch() -> Vec<PrintedLetter> {
    vec![
        letter(1, "Иванов Иван Иванович", "ABCD-EFGH"),
        letter(2, "Петрова Анна Сергеевна", "KMNP-QRST"),
        letter(3, "Сидоров Пётр Ильич", "UVWX-YZ23"),
    ]
}

// ---------------------------------------------------------------- tests

#[test]
fn structure_is_valid_and_there_is_a_page_per_letter() {
    let letters = batch();
    let bytes = letters_pdf(&sender(), "01.06.2026", &letters);
    assert_eq!(count_page_objects(&bytes), letters.len());
    let pdf = Pdf::parse(bytes);
    assert_eq!(pdf.pages().len(), 3);
    let info = pdf.object(reference(
        &String::from_utf8_lossy(&pdf.bytes[rfind(&pdf.bytes, b"trailer").expect("trailer")..]),
        "/Info",
    ));
    assert!(info.dict.contains("/Producer (uslugi-print)"));
}

#[test]
fn an_empty_batch_is_one_page_saying_so() {
    let bytes = letters_pdf(&sender(), "01.06.2026", &[]);
    assert_eq!(count_page_objects(&bytes), 1);
    let pdf = Pdf::parse(bytes);
    let texts = pdf.texts();
    assert_eq!(texts.len(), 1);
    assert!(
        flat(&texts[0]).contains("Писем за 01.06.2026 нет."),
        "{}",
        texts[0]
    );
}

#[test]
fn each_page_reads_back_as_its_own_letter() {
    let letters = batch();
    let pdf = Pdf::parse(letters_pdf(&sender(), "01.06.2026", &letters));
    let texts = pdf.texts();
    assert_eq!(texts.len(), letters.len());
    for (n, (text, letter)) in texts.iter().zip(&letters).enumerate() {
        let lines: Vec<&str> = text.lines().collect();
        let page = flat(text);
        assert!(
            lines.contains(&letter.code.as_str()),
            "page {n} shows its code on a line: {text}"
        );
        assert!(
            page.contains(&format!("ШПИ: {}", letter.tracking_number)),
            "{page}"
        );
        assert!(lines.contains(&letter.recipient.as_str()), "{text}");
        assert!(page.contains("Кому:") && page.contains("Куда:") && page.contains("От кого:"));
        assert!(lines.contains(&"248000"), "postal code on its own line");
        assert!(page.contains(&format!("ул. Ленина, д. {}, кв. 2", n + 1)));
        assert!(page.contains("Код подтверждения личности"));
        assert!(
            page.contains(
                "Откройте портал https://uslugi.example.ru и войдите в свою учётную запись."
            ),
            "{page}"
        );
        assert!(page.contains("наберите код из этого письма"), "{page}");
        assert!(page.contains("Код действителен до 31.12.2026."));
        assert!(page.contains("Никому не сообщайте код"));
        assert!(
            page.contains(&format!("Партия писем от 01.06.2026 · лист {} из 3", n + 1)),
            "{page}"
        );
        for other in letters.iter().filter(|o| o.code != letter.code) {
            assert!(
                !page.contains(&other.code),
                "page {n} has only its own code"
            );
        }
    }
}

#[test]
fn a_character_outside_the_font_still_extracts() {
    let odd = letter(4, "Ли Сяолун 李小龙", "ABCD-EFGH");
    let pdf = Pdf::parse(letters_pdf(&sender(), "01.06.2026", &[odd]));
    let texts = pdf.texts();
    assert!(
        texts[0].lines().any(|l| l == "Ли Сяолун 李小龙"),
        "{}",
        texts[0]
    );
}

#[test]
fn the_same_batch_gives_the_same_bytes() {
    let a = letters_pdf(&sender(), "01.06.2026", &batch());
    let b = letters_pdf(&sender(), "01.06.2026", &batch());
    assert_eq!(a, b);
    assert!(
        a.len() < 200_000,
        "two subset fonts and three pages: {} bytes",
        a.len()
    );
}

/// Poppler, when installed, must agree with the reader above.
#[test]
fn pdftotext_reads_it_too() {
    if Command::new("pdftotext").arg("-v").output().is_err() {
        eprintln!("pdftotext is not installed; skipping the cross-check");
        return;
    }
    let letters = batch();
    let path = std::env::temp_dir().join(format!("uslugi-print-test-{}.pdf", std::process::id()));
    std::fs::write(&path, letters_pdf(&sender(), "01.06.2026", &letters)).expect("write the PDF");
    let output = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("run pdftotext");
    let _ = std::fs::remove_file(&path);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "poppler complains: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let pages: Vec<&str> = text
        .split('\x0c')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert_eq!(pages.len(), letters.len());
    for (page, letter) in pages.iter().zip(&letters) {
        let page = flat(page);
        assert!(page.contains(&letter.code), "{page}");
        assert!(page.contains(&letter.tracking_number), "{page}");
        assert!(page.contains(&letter.recipient), "{page}");
        assert!(page.contains("Никому не сообщайте код"), "{page}");
    }
}

// ---------------------------------------------------------------- the document of labelled values

fn document(rows: usize) -> uslugi_print::Document {
    use uslugi_print::{Document, Row, Section};
    Document {
        title: "Мои данные на портале".to_owned(),
        subtitle: "Выгружено 05.12.2026 в 14:00 (МСК)".to_owned(),
        sections: vec![
            Section {
                heading: "Учётная запись".to_owned(),
                rows: vec![
                    Row {
                        label: "Фамилия и имя".to_owned(),
                        value: "Иванов Иван".to_owned(),
                    },
                    Row {
                        label: "Адрес регистрации".to_owned(),
                        value: "248000, Калужская обл., г. Калуга, ул. Ленина, д. 1, кв. 2, \
                                подъезд 3, этаж 4, домофон 25, вход со двора через арку"
                            .to_owned(),
                    },
                ],
            },
            Section {
                heading: "История".to_owned(),
                rows: (1..=rows)
                    .map(|n| Row {
                        label: format!("{:02}.12.2026 10:{:02}", n % 28 + 1, n % 60),
                        value: format!("Событие номер {n}: вход на портал"),
                    })
                    .collect(),
            },
            Section {
                heading: "Согласия".to_owned(),
                rows: vec![],
            },
        ],
        footer: "Госуслуги (uslugi)".to_owned(),
        page_of: "стр. {} из {}".to_owned(),
    }
}

#[test]
fn a_long_document_flows_over_numbered_pages_with_every_row_whole() {
    let rows = 120;
    let pdf = Pdf::parse(uslugi_print::document_pdf(&document(rows)));
    let texts = pdf.texts();
    let total = texts.len();
    assert!(total >= 3, "{total} pages for {rows} rows");
    let all = texts.iter().map(|t| flat(t)).collect::<Vec<_>>().join(" ");
    assert!(all.starts_with("Мои данные на портале"), "{all}");
    assert!(all.contains("Выгружено 05.12.2026 в 14:00 (МСК)"));
    assert!(
        all.contains("кв. 2, подъезд 3, этаж 4"),
        "a long value wraps, whole"
    );
    for (i, text) in texts.iter().enumerate() {
        assert!(
            flat(text).contains(&format!("Госуслуги (uslugi) · стр. {} из {total}", i + 1)),
            "{text}"
        );
    }
    // Each event once, on one page, its label beside it.
    for n in 1..=rows {
        let event = format!("Событие номер {n}: вход на портал");
        let pages: Vec<usize> = texts
            .iter()
            .enumerate()
            .filter(|(_, t)| flat(t).contains(&event))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(pages.len(), 1, "{event} on {pages:?}");
    }
    // The last section, without rows, keeps its heading; no heading ends a page.
    assert!(flat(&texts[total - 1]).contains("Согласия"));
    for text in &texts {
        let body: Vec<&str> = text.lines().filter(|l| !l.contains("стр. ")).collect();
        assert_ne!(body.last(), Some(&"История"), "{text}");
    }
}

#[test]
fn a_document_hides_itself_from_debug_and_gives_the_same_bytes() {
    let doc = document(3);
    assert_eq!(format!("{doc:?}"), "Document(***)");
    assert_eq!(
        uslugi_print::document_pdf(&doc),
        uslugi_print::document_pdf(&doc)
    );
}
