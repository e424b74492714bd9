//! Where every line and bar of a page goes. Coordinates are points from the
//! top-left corner of the page, the way the layout is thought about; the PDF
//! writer flips them.

mod document;
mod letter;
mod pen;
mod wrap;

use crate::font::{Fonts, Style};
use crate::{PrintedLetter, Sender};
pub(crate) use document::pages as document_pages;
use letter::{empty_batch_page, letter_page};

pub(crate) const PAGE_WIDTH: f32 = 595.0;
pub(crate) const PAGE_HEIGHT: f32 = 842.0;
pub(crate) const MARGIN_LEFT: f32 = 50.0;
pub(crate) const MARGIN_RIGHT: f32 = PAGE_WIDTH - 50.0;
const MARGIN_TOP: f32 = 42.0;
/// Nothing but the footer goes below this.
pub(crate) const CONTENT_BOTTOM: f32 = 786.0;
const FOOTER_BASELINE: f32 = 810.0;

/// The sender block leaves the envelope window to the recipient.
const SENDER_WIDTH: f32 = 230.0;
/// A DL envelope's right window (90 × 45 mm, 20 mm from the right edge) shows
/// the A4 sheet folded in three from about 105 to 195 mm across and 48 to 93 mm
/// down; C5 right-window envelopes show the same corner of the half-folded sheet.
const WINDOW_LEFT: f32 = 300.0;
const WINDOW_TOP: f32 = 136.0;

/// The smallest type on a page: the letters go to people of every age and eyesight.
pub(crate) const MIN_SIZE: f32 = 11.0;
const LABEL_GRAY: f32 = 0.3;

/// A line of text, set in one run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TextLine {
    pub(crate) style: Style,
    pub(crate) size: f32,
    pub(crate) x: f32,
    pub(crate) baseline: f32,
    /// Extra space between glyphs (the PDF Tc operator), in points.
    pub(crate) spacing: f32,
    /// 0 is black.
    pub(crate) gray: f32,
    pub(crate) width: f32,
    pub(crate) text: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Paint {
    Fill,
    /// Outline of the given line width.
    Stroke(f32),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rect {
    pub(crate) x: f32,
    pub(crate) top: f32,
    pub(crate) width: f32,
    pub(crate) height: f32,
    pub(crate) paint: Paint,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Page {
    pub(crate) lines: Vec<TextLine>,
    pub(crate) rects: Vec<Rect>,
}

/// The pages of a batch in print order; an empty batch still gets a page
/// saying so, so that the file is a valid PDF and the operator sees why.
pub(crate) fn batch(
    fonts: &Fonts,
    sender: &Sender,
    batch_date: &str,
    letters: &[PrintedLetter],
) -> Vec<Page> {
    if letters.is_empty() {
        return vec![empty_batch_page(fonts, batch_date)];
    }
    let total = letters.len();
    letters
        .iter()
        .enumerate()
        .map(|(i, letter)| letter_page(fonts, sender, batch_date, letter, i + 1, total))
        .collect()
}
