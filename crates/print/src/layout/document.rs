//! A document of labelled values that flows over as many pages as it needs:
//! a title, then sections, each a heading and rows of a label and a value.
//! A row is never split across pages, and a heading never ends a page.
use std::mem;

use super::pen::{ASCENT, LEADING, Pen};
use super::{CONTENT_BOTTOM, LABEL_GRAY, MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, Page};
use crate::font::{Fonts, Style};
use crate::{Document, Section};

const TITLE_SIZE: f32 = 18.0;
const HEADING_SIZE: f32 = 14.0;
const BODY_SIZE: f32 = 11.5;
const LABEL_WIDTH: f32 = 170.0;
const GUTTER: f32 = 12.0;
const ROW_GAP: f32 = 4.0;
/// A value longer than this many lines is cut with «…» (a row must fit a page).
const MAX_ROW_LINES: usize = 40;

struct Flow<'f> {
    pen: Pen<'f>,
    fonts: &'f Fonts,
    pages: Vec<Page>,
    cursor: f32,
}

impl<'f> Flow<'f> {
    fn room(&self) -> f32 {
        CONTENT_BOTTOM - self.cursor
    }

    fn new_page(&mut self) {
        let done = mem::replace(&mut self.pen, Pen::new(self.fonts));
        self.pages.push(done.page);
        self.cursor = MARGIN_TOP;
    }

    /// `lines` set from the cursor down at `x`; the cursor is left alone.
    fn set(&mut self, style: Style, size: f32, x: f32, gray: f32, lines: Vec<String>) {
        let mut top = self.cursor;
        for line in lines {
            self.pen
                .text(style, size, x, top + size * ASCENT, 0.0, gray, line);
            top += size * LEADING;
        }
    }

    fn heading(&mut self, section: &Section, first_row: f32) {
        let lines = self.pen.fit(
            Style::Bold,
            HEADING_SIZE,
            0.0,
            &section.heading,
            MARGIN_RIGHT - MARGIN_LEFT,
            3,
        );
        let height = lines.len() as f32 * HEADING_SIZE * LEADING + 4.0;
        // Never a heading alone at the foot of a page.
        if height + first_row > self.room() && self.cursor > MARGIN_TOP {
            self.new_page();
        }
        self.set(Style::Bold, HEADING_SIZE, MARGIN_LEFT, 0.0, lines);
        self.cursor += height;
    }

    fn row_lines(&self, label: &str, value: &str) -> (Vec<String>, Vec<String>, f32) {
        let value_x = MARGIN_LEFT + LABEL_WIDTH + GUTTER;
        let label_lines = self
            .pen
            .fit(Style::Regular, BODY_SIZE, 0.0, label, LABEL_WIDTH, 6);
        let value_lines = self.pen.fit(
            Style::Regular,
            BODY_SIZE,
            0.0,
            value,
            MARGIN_RIGHT - value_x,
            MAX_ROW_LINES,
        );
        let rows = label_lines.len().max(value_lines.len()) as f32;
        (
            label_lines,
            value_lines,
            rows * BODY_SIZE * LEADING + ROW_GAP,
        )
    }

    fn row(&mut self, label: &str, value: &str) {
        let (label_lines, value_lines, height) = self.row_lines(label, value);
        if height > self.room() {
            self.new_page();
        }
        self.set(
            Style::Regular,
            BODY_SIZE,
            MARGIN_LEFT,
            LABEL_GRAY,
            label_lines,
        );
        self.set(
            Style::Regular,
            BODY_SIZE,
            MARGIN_LEFT + LABEL_WIDTH + GUTTER,
            0.0,
            value_lines,
        );
        self.cursor += height;
    }
}

pub(crate) fn pages(fonts: &Fonts, doc: &Document) -> Vec<Page> {
    let mut flow = Flow {
        pen: Pen::new(fonts),
        fonts,
        pages: Vec::new(),
        cursor: MARGIN_TOP,
    };
    let width = MARGIN_RIGHT - MARGIN_LEFT;
    let title = flow
        .pen
        .fit(Style::Bold, TITLE_SIZE, 0.0, &doc.title, width, 3);
    let title_height = title.len() as f32 * TITLE_SIZE * LEADING;
    flow.set(Style::Bold, TITLE_SIZE, MARGIN_LEFT, 0.0, title);
    flow.cursor += title_height;
    let subtitle = flow
        .pen
        .fit(Style::Regular, BODY_SIZE, 0.0, &doc.subtitle, width, 4);
    let subtitle_height = subtitle.len() as f32 * BODY_SIZE * LEADING;
    flow.set(Style::Regular, BODY_SIZE, MARGIN_LEFT, LABEL_GRAY, subtitle);
    flow.cursor += subtitle_height;
    for section in &doc.sections {
        flow.cursor += 14.0;
        let first = section
            .rows
            .first()
            .map_or(0.0, |r| flow.row_lines(&r.label, &r.value).2);
        flow.heading(section, first);
        for row in &section.rows {
            flow.row(&row.label, &row.value);
        }
    }
    let last = mem::replace(&mut flow.pen, Pen::new(fonts));
    flow.pages.push(last.page);
    let total = flow.pages.len();
    let mut pages = flow.pages;
    for (i, page) in pages.iter_mut().enumerate() {
        let mut pen = Pen::new(fonts);
        pen.footer(&format!(
            "{} · {}",
            doc.footer,
            fill2(&doc.page_of, i + 1, total)
        ));
        page.lines.append(&mut pen.page.lines);
    }
    pages
}

/// `template` with its first `{}` replaced by `a` and the second by `b`.
fn fill2(template: &str, a: usize, b: usize) -> String {
    template
        .replacen("{}", &a.to_string(), 1)
        .replacen("{}", &b.to_string(), 1)
}
