//! Setting text: a pen that measures and places lines on the page, and
//! blocks, the columns that text flows down.
use super::wrap::{clean, wrap};
use super::{
    FOOTER_BASELINE, LABEL_GRAY, MARGIN_LEFT, MARGIN_RIGHT, MIN_SIZE, Page, Paint, Rect, TextLine,
};
use crate::font::{Fonts, Style};

pub(super) const LEADING: f32 = 1.3;
/// Baseline below the top of a line box, about DejaVu's ascender.
pub(super) const ASCENT: f32 = 0.93;
const CAP_HEIGHT: f32 = 0.73;

pub(super) struct Pen<'f> {
    fonts: &'f Fonts,
    pub(super) page: Page,
}

impl<'f> Pen<'f> {
    pub(super) fn new(fonts: &'f Fonts) -> Self {
        Pen {
            fonts,
            page: Page::default(),
        }
    }

    #[expect(clippy::too_many_arguments, reason = "mirrors the fields of TextLine")]
    pub(super) fn text(
        &mut self,
        style: Style,
        size: f32,
        x: f32,
        baseline: f32,
        spacing: f32,
        gray: f32,
        text: String,
    ) {
        let width = self.fonts.get(style).width(&text, size, spacing);
        self.page.lines.push(TextLine {
            style,
            size,
            x,
            baseline,
            spacing,
            gray,
            width,
            text,
        });
    }

    /// The page's one line at its foot, in gray, cut with «…» if too long.
    pub(super) fn footer(&mut self, text: &str) {
        let line = self
            .fit(
                Style::Regular,
                MIN_SIZE,
                0.0,
                text,
                MARGIN_RIGHT - MARGIN_LEFT,
                1,
            )
            .remove(0);
        self.text(
            Style::Regular,
            MIN_SIZE,
            MARGIN_LEFT,
            FOOTER_BASELINE,
            0.0,
            LABEL_GRAY,
            line,
        );
    }

    /// Wrapped to `width`, cut to `max_lines` with an ellipsis so that the cut shows.
    pub(super) fn fit(
        &self,
        style: Style,
        size: f32,
        spacing: f32,
        text: &str,
        width: f32,
        max_lines: usize,
    ) -> Vec<String> {
        let font = self.fonts.get(style);
        let measure = |s: &str| font.width(s, size, spacing);
        let mut lines = wrap(&measure, &clean(text), width);
        if lines.len() > max_lines.max(1) {
            lines.truncate(max_lines.max(1));
            if let Some(last) = lines.last_mut() {
                while !last.is_empty() && measure(&format!("{last}…")) > width {
                    last.pop();
                }
                *last = format!("{}…", last.trim_end());
            }
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
        lines
    }
}

/// A column that text flows down.
pub(super) struct Block {
    pub(super) x: f32,
    pub(super) width: f32,
    /// Top of the next line box.
    pub(super) cursor: f32,
}

impl Block {
    pub(super) fn new(x: f32, width: f32, top: f32) -> Self {
        Block {
            x,
            width,
            cursor: top,
        }
    }

    pub(super) fn skip(&mut self, points: f32) {
        self.cursor += points;
    }

    pub(super) fn para(
        &mut self,
        pen: &mut Pen,
        style: Style,
        size: f32,
        text: &str,
        max_lines: usize,
        gray: f32,
    ) {
        for line in pen.fit(style, size, 0.0, text, self.width, max_lines) {
            self.line(pen, style, size, 0.0, gray, line);
        }
    }

    /// Several paragraphs sharing one budget of lines, each also held to its own.
    pub(super) fn paras(
        &mut self,
        pen: &mut Pen,
        style: Style,
        size: f32,
        texts: &[String],
        each: usize,
        total: usize,
    ) {
        let mut left = total;
        for text in texts.iter().filter(|t| !t.trim().is_empty()) {
            if left == 0 {
                break;
            }
            let lines = pen.fit(style, size, 0.0, text, self.width, each.min(left));
            left -= lines.len();
            for line in lines {
                self.line(pen, style, size, 0.0, 0.0, line);
            }
        }
    }

    pub(super) fn spaced_line(
        &mut self,
        pen: &mut Pen,
        style: Style,
        size: f32,
        text: &str,
        spacing: f32,
    ) {
        self.line(pen, style, size, spacing, 0.0, clean(text));
    }

    /// One line set at the top of the block, which moves down past it.
    fn line(
        &mut self,
        pen: &mut Pen,
        style: Style,
        size: f32,
        spacing: f32,
        gray: f32,
        line: String,
    ) {
        pen.text(
            style,
            size,
            self.x,
            self.cursor + size * ASCENT,
            spacing,
            gray,
            line,
        );
        self.cursor += size * LEADING;
    }

    pub(super) fn numbered(
        &mut self,
        pen: &mut Pen,
        size: f32,
        marker: &str,
        text: &str,
        max_lines: usize,
        indent: f32,
    ) {
        let baseline = self.cursor + size * ASCENT;
        pen.text(
            Style::Bold,
            size,
            self.x,
            baseline,
            0.0,
            0.0,
            marker.to_owned(),
        );
        let mut hanging = Block::new(self.x + indent, self.width - indent, self.cursor);
        hanging.para(pen, Style::Regular, size, text, max_lines, 0.0);
        self.cursor = hanging.cursor;
    }

    /// The code, centred in a frame, spaced out so that each character reads on
    /// its own; type shrinks only if a code is ever too long for the line.
    pub(super) fn code_box(
        &mut self,
        pen: &mut Pen,
        code: &str,
        size: f32,
        pad_x: f32,
        pad_y: f32,
    ) {
        const SPACING: f32 = 0.12;
        const MIN_CODE_SIZE: f32 = 28.0;
        let font = pen.fonts.get(Style::Bold);
        let room = self.width - 2.0 * pad_x;
        let natural = font.width(&clean(code), size, size * SPACING);
        let size = if natural > room {
            (size * room / natural).max(MIN_CODE_SIZE)
        } else {
            size
        };
        let spacing = size * SPACING;
        let lines = pen.fit(Style::Bold, size, spacing, code, room, 2);
        let widest = lines
            .iter()
            .map(|l| font.width(l, size, spacing))
            .fold(0.0, f32::max);
        let line_gap = size * (LEADING - CAP_HEIGHT);
        let rows = lines.len() as f32;
        let height = 2.0 * pad_y + rows * size * CAP_HEIGHT + (rows - 1.0) * line_gap;
        let frame_width = widest + 2.0 * pad_x;
        pen.page.rects.push(Rect {
            x: self.x + (self.width - frame_width) / 2.0,
            top: self.cursor,
            width: frame_width,
            height,
            paint: Paint::Stroke(1.2),
        });
        let mut baseline = self.cursor + pad_y + size * CAP_HEIGHT;
        for line in lines {
            let width = font.width(&line, size, spacing);
            let x = self.x + (self.width - width) / 2.0;
            pen.text(Style::Bold, size, x, baseline, spacing, 0.0, line);
            baseline += size * CAP_HEIGHT + line_gap;
        }
        self.cursor += height;
    }
}
