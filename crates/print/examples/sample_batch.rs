//! Writes a made-up batch of three letters, for looking at the layout:
//! `cargo run -p uslugi-print --example sample_batch -- /tmp/letters.pdf`.

use uslugi_print::{PrintedLetter, Sender, letters_pdf};

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: sample_batch OUTPUT.pdf");
        std::process::exit(2);
    };
    let sender = Sender {
        name: "Госуслуги (uslugi)".to_owned(),
        address_lines: vec![
            "102000".to_owned(),
            "г. Москва".to_owned(),
            "Почтамт, а/я 1".to_owned(),
        ],
    };
    let letter = |tracking: &str, recipient: &str, lines: &[&str], code: &str| PrintedLetter {
        tracking_number: tracking.to_owned(),
        recipient: recipient.to_owned(),
        address_lines: lines.iter().map(|l| (*l).to_owned()).collect(),
        code: code.to_owned(),
        valid_until: "31.12.2026".to_owned(),
        portal_url: "https://uslugi.example.ru".to_owned(),
    };
    let letters = [
        letter(
            "10200012000017",
            "Иванов Иван Иванович",
            &[
                "248000",
                "Калужская обл.",
                "г. Калуга",
                "ул. Ленина, д. 1, кв. 2",
            ],
            "ABCD-EFGH",
        ),
        letter(
            "10200012000024",
            "Константинопольская-Преображенская Александра Александровна",
            &[
                "630000",
                "Новосибирская обл., Новосибирский р-н",
                "р.п. Краснообск",
                "ул. Генерала Армии Героя Советского Союза Константина Константиновича Рокоссовского, д. 117, корп. 3, кв. 1024",
            ],
            "KMNP-QRST",
        ),
        letter(
            "10200012000031",
            "Сидоров Пётр Ильич",
            &["190000", "г. Санкт-Петербург", "Невский пр., д. 28"],
            "UVWX-YZ23",
        ),
    ];
    let pdf = letters_pdf(&sender, "01.06.2026", &letters);
    if let Err(e) = std::fs::write(&path, &pdf) {
        eprintln!("cannot write {}: {e}", path.to_string_lossy());
        std::process::exit(1);
    }
    println!("{} bytes, {} pages", pdf.len(), letters.len());
}
