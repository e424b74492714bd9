//! What goes on a letter's page and where: the sender, the recipient in the
//! envelope window, the tracking number and its barcode, the code and the
//! steps, the footer; squeezed in turn until it fits.
use super::pen::{Block, Pen};
use super::{
    CONTENT_BOTTOM, LABEL_GRAY, MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MIN_SIZE, Page, Paint, Rect,
    SENDER_WIDTH, WINDOW_LEFT, WINDOW_TOP,
};
use crate::font::{Fonts, Style};
use crate::{PrintedLetter, Sender, itf};

/// How hard a page is squeezed to fit.
#[derive(Clone, Copy, Debug)]
struct Fit {
    /// Type sizes and gaps are multiplied by this, body text staying at
    /// `MIN_SIZE` or more.
    scale: f32,
    barcode: bool,
}

/// Tried in turn until an unusually long address or URL fits; real letters
/// fit at the first. The barcode, a convenience only, goes last; the line
/// limits make the last step fit whatever the input (the worst-case test
/// holds them to it).
const FITS: [Fit; 5] = [
    Fit {
        scale: 1.0,
        barcode: true,
    },
    Fit {
        scale: 0.93,
        barcode: true,
    },
    Fit {
        scale: 0.87,
        barcode: true,
    },
    Fit {
        scale: 0.8,
        barcode: true,
    },
    Fit {
        scale: 0.8,
        barcode: false,
    },
];

pub(super) fn empty_batch_page(fonts: &Fonts, batch_date: &str) -> Page {
    let mut pen = Pen::new(fonts);
    let mut block = Block::new(MARGIN_LEFT, MARGIN_RIGHT - MARGIN_LEFT, MARGIN_TOP + 40.0);
    block.para(
        &mut pen,
        Style::Bold,
        18.0,
        &format!("Писем за {batch_date} нет."),
        3,
        0.0,
    );
    footer(&mut pen, batch_date, 1, 1);
    pen.page
}

pub(crate) fn letter_page(
    fonts: &Fonts,
    sender: &Sender,
    batch_date: &str,
    letter: &PrintedLetter,
    number: usize,
    total: usize,
) -> Page {
    let mut last = Page::default();
    for fit in FITS {
        let (page, bottom) = letter_page_at(fonts, sender, batch_date, letter, number, total, fit);
        if bottom <= CONTENT_BOTTOM {
            return page;
        }
        last = page;
    }
    last
}

fn letter_page_at(
    fonts: &Fonts,
    sender: &Sender,
    batch_date: &str,
    letter: &PrintedLetter,
    number: usize,
    total: usize,
    fit: Fit,
) -> (Page, f32) {
    let scale = fit.scale;
    let sz = |points: f32| (points * scale).max(MIN_SIZE);
    let gap = |points: f32| points * scale;
    let mut pen = Pen::new(fonts);

    let mut from = Block::new(MARGIN_LEFT, SENDER_WIDTH, MARGIN_TOP);
    from.para(&mut pen, Style::Bold, sz(11.0), "От кого:", 1, LABEL_GRAY);
    from.para(&mut pen, Style::Regular, sz(12.0), &sender.name, 2, 0.0);
    from.paras(
        &mut pen,
        Style::Regular,
        sz(12.0),
        &sender.address_lines,
        2,
        4,
    );

    let mut to = Block::new(WINDOW_LEFT, MARGIN_RIGHT - WINDOW_LEFT, WINDOW_TOP);
    to.para(&mut pen, Style::Bold, sz(11.0), "Кому:", 1, LABEL_GRAY);
    to.para(
        &mut pen,
        Style::Regular,
        sz(14.0),
        &letter.recipient,
        3,
        0.0,
    );
    to.skip(gap(4.0));
    to.para(&mut pen, Style::Bold, sz(11.0), "Куда:", 1, LABEL_GRAY);
    let (postal_code, rest) = split_postal_code(&letter.address_lines);
    to.paras(&mut pen, Style::Regular, sz(13.0), &rest, 6, 7);
    if let Some(code) = postal_code {
        let size = sz(20.0);
        to.spaced_line(&mut pen, Style::Bold, size, code, size * 0.12);
    }
    to.skip(gap(12.0));
    to.para(&mut pen, Style::Bold, sz(12.0), "Заказное письмо", 1, 0.0);
    to.para(
        &mut pen,
        Style::Regular,
        sz(16.0),
        &format!("ШПИ: {}", letter.tracking_number),
        1,
        0.0,
    );
    // 1.2 pt modules keep the symbol within the column with its quiet zones; a
    // number too long to print with modules a scanner resolves gets no barcode.
    let barcode = itf::bars(&letter.tracking_number)
        .map(|(bars, modules)| {
            (
                bars,
                (to.width / (modules + 2 * itf::QUIET_ZONE) as f32).min(1.2),
            )
        })
        .filter(|(_, module)| fit.barcode && *module >= 0.8);
    if let Some((bars, module)) = barcode {
        let height = gap(34.0);
        to.skip(gap(4.0));
        for (offset, width) in bars {
            pen.page.rects.push(Rect {
                x: to.x + offset as f32 * module,
                top: to.cursor,
                width: width as f32 * module,
                height,
                paint: Paint::Fill,
            });
        }
        to.skip(height + gap(4.0));
    }

    let rule = from.cursor.max(to.cursor) + gap(12.0);
    pen.page.rects.push(Rect {
        x: MARGIN_LEFT,
        top: rule,
        width: MARGIN_RIGHT - MARGIN_LEFT,
        height: 0.8,
        paint: Paint::Fill,
    });

    let mut body = Block::new(MARGIN_LEFT, MARGIN_RIGHT - MARGIN_LEFT, rule + gap(18.0));
    body.para(
        &mut pen,
        Style::Bold,
        sz(18.0),
        "Код подтверждения личности",
        1,
        0.0,
    );
    body.skip(gap(8.0));
    body.code_box(&mut pen, &letter.code, sz(36.0), gap(12.0), gap(16.0));
    body.skip(gap(16.0));

    let size = sz(13.0);
    let portal = letter.portal_url.trim_end_matches('/');
    let steps = [
        (
            format!("Откройте портал {portal} и войдите в свою учётную запись."),
            3,
        ),
        (
            format!(
                "Откройте «Мои данные» и нажмите «Подтвердить личность» \
                 (или сразу откройте страницу {portal}/me/identity)."
            ),
            4,
        ),
        (
            "В поле «Введите код» наберите код из этого письма и нажмите «Проверить».".to_owned(),
            2,
        ),
    ];
    for (i, (text, max_lines)) in steps.iter().enumerate() {
        body.numbered(
            &mut pen,
            size,
            &format!("{}.", i + 1),
            text,
            *max_lines,
            gap(22.0),
        );
        body.skip(gap(5.0));
    }
    body.skip(gap(8.0));
    body.para(
        &mut pen,
        Style::Regular,
        size,
        &format!("Код действителен до {}.", letter.valid_until),
        2,
        0.0,
    );
    body.skip(gap(6.0));
    body.para(
        &mut pen,
        Style::Bold,
        size,
        "Никому не сообщайте код: сотрудники портала и центров обслуживания никогда его не спрашивают.",
        3,
        0.0,
    );
    body.skip(gap(6.0));
    body.para(
        &mut pen,
        Style::Regular,
        size,
        "Если вы не заказывали это письмо, не вводите код и обратитесь в службу поддержки.",
        3,
        0.0,
    );

    footer(&mut pen, batch_date, number, total);
    (pen.page, body.cursor)
}

fn footer(pen: &mut Pen, batch_date: &str, number: usize, total: usize) {
    pen.footer(&format!(
        "Партия писем от {batch_date} · лист {number} из {total}"
    ));
}

/// The postal code goes on a line of its own in large type, where the sorting
/// office looks for it; it is the address line of exactly six digits.
fn split_postal_code(lines: &[String]) -> (Option<&str>, Vec<String>) {
    let is_code = |l: &str| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit());
    match lines.iter().position(|l| is_code(l.trim())) {
        Some(i) => {
            let rest = lines
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, l)| l.clone())
                .collect();
            (Some(lines[i].trim()), rest)
        }
        None => (None, lines.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::pen::ASCENT;
    use super::super::{FOOTER_BASELINE, TextLine, batch};
    use super::*;

    /// Below the baseline, a bit more than DejaVu's descender.
    const DESCENT: f32 = 0.24;

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

    fn letter() -> PrintedLetter {
        PrintedLetter {
            tracking_number: "10200012000017".to_owned(),
            recipient: "Иванов Иван Иванович".to_owned(),
            address_lines: vec![
                "248000".to_owned(),
                "Калужская обл.".to_owned(),
                "г. Калуга".to_owned(),
                "ул. Ленина, д. 1, кв. 2".to_owned(),
            ],
            code: "ABCD-EFGH".to_owned(),
            valid_until: "31.12.2026".to_owned(),
            portal_url: "https://uslugi.example.ru".to_owned(),
        }
    }

    /// Every glyph and bar of the page lies inside the margins and above the
    /// footer line, except the footer itself.
    fn assert_on_page(page: &Page) {
        for line in &page.lines {
            assert!(
                line.x >= MARGIN_LEFT - 0.01,
                "{line:?} starts left of the margin"
            );
            assert!(
                line.x + line.width <= MARGIN_RIGHT + 0.01,
                "{line:?} runs past the margin"
            );
            assert!(line.size >= MIN_SIZE, "{line:?} is too small to read");
            assert!(
                line.baseline - line.size * ASCENT >= MARGIN_TOP - 0.01,
                "{line:?} is above the margin"
            );
            if line.baseline != FOOTER_BASELINE {
                assert!(
                    line.baseline + line.size * DESCENT <= CONTENT_BOTTOM,
                    "{line:?} runs into the footer"
                );
            }
        }
        assert!(
            page.lines
                .iter()
                .filter(|l| l.baseline == FOOTER_BASELINE)
                .count()
                == 1
        );
        for rect in &page.rects {
            assert!(
                rect.x >= MARGIN_LEFT - 0.01 && rect.x + rect.width <= MARGIN_RIGHT + 0.01,
                "{rect:?}"
            );
            assert!(
                rect.top >= MARGIN_TOP && rect.top + rect.height <= CONTENT_BOTTOM,
                "{rect:?}"
            );
        }
    }

    fn texts(page: &Page) -> Vec<&str> {
        page.lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn an_ordinary_letter_fits_at_full_size() {
        let fonts = Fonts::load();
        let page = letter_page(&fonts, &sender(), "01.06.2026", &letter(), 1, 3);
        assert_on_page(&page);
        let (_, bottom) = letter_page_at(&fonts, &sender(), "01.06.2026", &letter(), 1, 3, FITS[0]);
        assert!(bottom <= CONTENT_BOTTOM, "{bottom}");

        let code = page
            .lines
            .iter()
            .find(|l| l.text == "ABCD-EFGH")
            .expect("the code is printed");
        assert!(code.size >= 28.0 && code.spacing > 0.0);
        let postal = page
            .lines
            .iter()
            .find(|l| l.text == "248000")
            .expect("the postal code has its own line");
        assert!(postal.size >= 16.0 && postal.x >= WINDOW_LEFT);
        let recipient = page
            .lines
            .iter()
            .find(|l| l.text == "Иванов Иван Иванович")
            .expect("recipient");
        assert!(recipient.x >= WINDOW_LEFT && recipient.baseline > WINDOW_TOP);
        assert!(texts(&page).contains(&"ШПИ: 10200012000017"));
        assert!(texts(&page).contains(&"Партия писем от 01.06.2026 · лист 1 из 3"));
        // The sender's postal code is an ordinary address line.
        assert!(
            page.lines
                .iter()
                .any(|l| l.text == "102000" && l.x == MARGIN_LEFT)
        );
        // Body text is at least 11 pt everywhere, and the bars are there.
        assert!(page.lines.iter().all(|l| l.size >= MIN_SIZE));
        assert_eq!(
            page.rects.iter().filter(|r| r.paint == Paint::Fill).count(),
            39 + 1
        );
    }

    #[test]
    fn a_very_long_address_line_wraps_inside_the_window_column() {
        let fonts = Fonts::load();
        let mut long = letter();
        long.address_lines[3] =
            "ул. Генерала Армии Героя Советского Союза Константина Константиновича \
                                 Рокоссовского, д. 117, корп. 3, стр. 2, кв. 1024"
                .to_owned();
        let page = letter_page(&fonts, &sender(), "01.06.2026", &long, 1, 1);
        assert_on_page(&page);
        let street: Vec<&TextLine> = page
            .lines
            .iter()
            .filter(|l| {
                l.x == WINDOW_LEFT
                    && l.size == 13.0
                    && !l.text.starts_with("г.")
                    && !l.text.starts_with("Калуж")
            })
            .collect();
        assert!(street.len() >= 2, "the long line wraps: {street:?}");
        assert!(street.iter().all(|l| l.x + l.width <= MARGIN_RIGHT));
        let joined = street
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(joined.contains("Рокоссовского"), "{joined}");
        assert!(
            joined.ends_with("кв. 1024"),
            "nothing of a 2-line address is cut: {joined}"
        );
    }

    #[test]
    fn unbroken_text_is_cut_between_characters() {
        let fonts = Fonts::load();
        let mut odd = letter();
        odd.portal_url = format!("https://{}.example.ru", "очень-длинное-имя".repeat(8));
        odd.address_lines[2] = "Ы".repeat(200);
        let page = letter_page(&fonts, &sender(), "01.06.2026", &odd, 1, 1);
        assert_on_page(&page);
    }

    #[test]
    fn even_absurd_input_stays_on_the_page() {
        let fonts = Fonts::load();
        let huge = "Очень длинный текст, который никак не помещается в одну строку ".repeat(12);
        let sender = Sender {
            name: huge.clone(),
            address_lines: vec![huge.clone(); 10],
        };
        let absurd = PrintedLetter {
            tracking_number: "10200012000017".to_owned(),
            recipient: huge.clone(),
            address_lines: std::iter::once("248000".to_owned())
                .chain(vec![huge.clone(); 12])
                .collect(),
            code: "W".repeat(60),
            valid_until: huge.clone(),
            portal_url: format!("https://{}", "w".repeat(500)),
        };
        let (_, bottom) =
            letter_page_at(&fonts, &sender, &huge, &absurd, 1, 1, FITS[FITS.len() - 1]);
        assert!(bottom <= CONTENT_BOTTOM, "the last resort fits: {bottom}");
        let page = letter_page(&fonts, &sender, &huge, &absurd, 9999, 9999);
        assert_on_page(&page);
        let cut = page.lines.iter().filter(|l| l.text.ends_with('…')).count();
        assert!(cut > 0, "something had to give, and it shows");
        // Huge input of a single line, empty fields and blank lines.
        let blank = PrintedLetter {
            tracking_number: String::new(),
            recipient: String::new(),
            address_lines: vec![" ".to_owned(), String::new()],
            code: String::new(),
            valid_until: String::new(),
            portal_url: String::new(),
        };
        assert_on_page(&letter_page(&fonts, &sender, "", &blank, 1, 1));
    }

    #[test]
    fn the_empty_batch_page_says_so() {
        let fonts = Fonts::load();
        let pages = batch(&fonts, &sender(), "01.06.2026", &[]);
        assert_eq!(pages.len(), 1);
        assert_on_page(&pages[0]);
        assert!(texts(&pages[0]).contains(&"Писем за 01.06.2026 нет."));
    }

    #[test]
    fn postal_code_is_found_wherever_it_is() {
        let lines = vec!["г. Калуга".to_owned(), " 248000 ".to_owned()];
        let (code, rest) = split_postal_code(&lines);
        assert_eq!(code, Some("248000"));
        assert_eq!(rest, vec!["г. Калуга".to_owned()]);
        let seven = ["2480001".to_owned()];
        let (code, rest) = split_postal_code(&seven);
        assert_eq!(code, None);
        assert_eq!(rest.len(), 1);
    }
}
