//! Printable PDFs. The identity-confirmation letters of one mailing batch:
//! an A4 page per letter with the addresses placed for a right-window
//! envelope, the tracking number with its barcode, the code and what to do
//! with it. And a document of labelled values over as many pages as it
//! needs (what the portal holds about a person, «Скачать мои данные»).
//!
//! The PDF is written here rather than with a PDF crate: it needs one kind of
//! font, text, rectangles and nothing else, and the whole of it fits in
//! `pdf.rs`. The fonts are DejaVu Sans subsets bundled in `fonts/`.

mod font;
mod itf;
mod layout;
mod pdf;
#[cfg(feature = "readback")]
pub mod readback;

use std::fmt;

/// Who the letters are from (printed in the sender block of every page).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sender {
    /// For example "Госуслуги (uslugi)".
    pub name: String,
    /// For example `["102000", "г. Москва", "Почтамт, а/я 1"]`.
    pub address_lines: Vec<String>,
}

/// One letter of the batch.
///
/// Its `Debug` shows nothing of it: the code is a secret and the rest is
/// personal data, and both would otherwise end up in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct PrintedLetter {
    /// ШПИ, 14 digits, e.g. "10200012000017"; printed with an Interleaved 2 of 5
    /// barcode when it is an even number of digits.
    pub tracking_number: String,
    /// "Иванов Иван Иванович".
    pub recipient: String,
    /// Postal code first: `["248000", "Калужская обл.", "г. Калуга", "ул. Ленина, д. 1, кв. 2"]`.
    /// The line of exactly six digits is printed large on a line of its own.
    pub address_lines: Vec<String>,
    /// Grouped as printed: "ABCD-EFGH".
    pub code: String,
    /// Already formatted: "31.12.2026".
    pub valid_until: String,
    /// "https://uslugi.example.ru".
    pub portal_url: String,
}

impl fmt::Debug for PrintedLetter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrintedLetter(***)")
    }
}

/// The whole batch as one PDF: one A4 page per letter, in the given order.
///
/// An empty batch gives a one-page PDF saying «Писем за {batch_date} нет.».
/// Text too long for its place wraps, then shrinks, and as a last resort is
/// cut with «…»; a character outside the bundled fonts prints as a box but
/// still extracts as itself. Nothing here fails: the fonts are compiled in.
#[must_use]
pub fn letters_pdf(sender: &Sender, batch_date: &str, letters: &[PrintedLetter]) -> Vec<u8> {
    let fonts = font::Fonts::load();
    let pages = layout::batch(&fonts, sender, batch_date, letters);
    pdf::document(
        &fonts,
        &pages,
        &format!("Письма с кодом подтверждения личности, партия от {batch_date}"),
    )
}

/// A document of labelled values: a title and a line under it, then
/// sections of rows, flowing over A4 pages, each with a footer.
///
/// Its `Debug` shows nothing of it: it is personal data.
#[derive(Clone, PartialEq, Eq)]
pub struct Document {
    pub title: String,
    /// For example when it was made.
    pub subtitle: String,
    pub sections: Vec<Section>,
    /// On every page, before the page number: the portal's name.
    pub footer: String,
    /// The page number's words: the first `{}` is the page, the second the
    /// number of pages («стр. {} из {}»).
    pub page_of: String,
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Document(***)")
    }
}

/// A heading and its rows; a section without rows shows its heading alone.
#[derive(Clone, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
    pub rows: Vec<Row>,
}

/// A label (in gray, at the left) and its value; both wrap.
#[derive(Clone, PartialEq, Eq)]
pub struct Row {
    pub label: String,
    pub value: String,
}

/// The document as a PDF. Nothing here fails: a row too long for a page is
/// cut with «…», a character outside the bundled fonts prints as a box but
/// still extracts as itself.
#[must_use]
pub fn document_pdf(doc: &Document) -> Vec<u8> {
    let fonts = font::Fonts::load();
    let pages = layout::document_pages(&fonts, doc);
    pdf::document(&fonts, &pages, &doc.title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_letter() {
        let letter = PrintedLetter {
            tracking_number: "10200012000017".to_owned(),
            recipient: "Иванов Иван Иванович".to_owned(),
            address_lines: vec!["248000".to_owned(), "г. Калуга".to_owned()],
            code: "ABCD-EFGH".to_owned(),
            valid_until: "31.12.2026".to_owned(),
            portal_url: "https://uslugi.example.ru".to_owned(),
        };
        let shown = format!("{letter:?} {letter:#?} {:?}", vec![letter.clone()]);
        for secret in [
            "ABCD",
            "EFGH",
            "Иванов",
            "Калуга",
            "248000",
            "10200012000017",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_eq!(format!("{letter:?}"), "PrintedLetter(***)");
    }
}
