//! The two bundled faces and the few metrics the layout and the PDF need.

use ttf_parser::{Face, GlyphId};

static REGULAR_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans-subset.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold-subset.ttf");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Regular,
    Bold,
}

impl Style {
    pub(crate) const ALL: [Style; 2] = [Style::Regular, Style::Bold];

    pub(crate) fn index(self) -> usize {
        match self {
            Style::Regular => 0,
            Style::Bold => 1,
        }
    }
}

pub(crate) struct Font {
    pub(crate) style: Style,
    pub(crate) data: &'static [u8],
    face: Face<'static>,
    units_per_em: f32,
}

/// Font metrics in PDF glyph space (1000 units per em).
pub(crate) struct Metrics {
    pub(crate) bbox: [i32; 4],
    pub(crate) ascent: i32,
    pub(crate) descent: i32,
    pub(crate) cap_height: i32,
    pub(crate) italic_angle: f32,
    pub(crate) stem_v: i32,
}

impl Font {
    fn load(style: Style) -> Font {
        let data = match style {
            Style::Regular => REGULAR_TTF,
            Style::Bold => BOLD_TTF,
        };
        let face =
            Face::parse(data, 0).expect("the font compiled into the crate is valid TrueType");
        let units_per_em = f32::from(face.units_per_em());
        Font {
            style,
            data,
            face,
            units_per_em,
        }
    }

    /// The subset is small, so a character outside it is expected input, not an error.
    pub(crate) fn glyph(&self, c: char) -> Option<u16> {
        self.face.glyph_index(c).map(|g| g.0)
    }

    pub(crate) fn advance_units(&self, gid: u16) -> u16 {
        self.face.glyph_hor_advance(GlyphId(gid)).unwrap_or(0)
    }

    /// Advance in PDF glyph space, the unit of the /W array.
    pub(crate) fn advance_1000(&self, gid: u16) -> i32 {
        self.to_1000(i32::from(self.advance_units(gid)))
    }

    /// Width of `text` set at `size` points with `spacing` points added between glyphs
    /// (the PDF Tc operator adds it after the last glyph too, but that adds no ink).
    pub(crate) fn width(&self, text: &str, size: f32, spacing: f32) -> f32 {
        let mut units = 0u32;
        let mut count = 0u16;
        for c in text.chars() {
            units += u32::from(self.advance_units(self.glyph(c).unwrap_or(0)));
            count = count.saturating_add(1);
        }
        let gaps = f32::from(count.saturating_sub(1));
        units as f32 * size / self.units_per_em + spacing * gaps
    }

    pub(crate) fn postscript_name(&self) -> &'static str {
        match self.style {
            Style::Regular => "DejaVuSans",
            Style::Bold => "DejaVuSans-Bold",
        }
    }

    pub(crate) fn metrics(&self) -> Metrics {
        let b = self.face.global_bounding_box();
        let ascent = self.to_1000(i32::from(self.face.ascender()));
        let cap_height = self
            .face
            .capital_height()
            .map(|h| self.to_1000(i32::from(h)))
            .or_else(|| {
                // DejaVu's OS/2 table predates the cap-height field; the H outline says it.
                let h = self.face.glyph_index('H')?;
                let bbox = self.face.glyph_bounding_box(h)?;
                Some(self.to_1000(i32::from(bbox.y_max)))
            })
            .unwrap_or(ascent * 7 / 10);
        // Viewers only use StemV as a hint for synthetic rendering; scale it by weight.
        let weight = i32::from(self.face.weight().to_number());
        Metrics {
            bbox: [
                self.to_1000(i32::from(b.x_min)),
                self.to_1000(i32::from(b.y_min)),
                self.to_1000(i32::from(b.x_max)),
                self.to_1000(i32::from(b.y_max)),
            ],
            ascent,
            descent: self.to_1000(i32::from(self.face.descender())),
            cap_height,
            italic_angle: self.face.italic_angle(),
            stem_v: 80 + (weight - 400).max(0) / 5,
        }
    }

    fn to_1000(&self, units: i32) -> i32 {
        (units as f32 * 1000.0 / self.units_per_em).round() as i32
    }
}

pub(crate) struct Fonts {
    faces: [Font; 2],
}

impl Fonts {
    pub(crate) fn load() -> Fonts {
        Fonts {
            faces: [Font::load(Style::Regular), Font::load(Style::Bold)],
        }
    }

    pub(crate) fn get(&self, style: Style) -> &Font {
        &self.faces[style.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_faces_cover_russian_text_and_the_sign_of_number() {
        let fonts = Fonts::load();
        for style in Style::ALL {
            let font = fonts.get(style);
            for c in "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя«»„“”…–—№ ₽"
                .chars()
            {
                assert!(font.glyph(c).is_some(), "{style:?} lacks {c:?}");
            }
            assert_eq!(font.glyph('漢'), None);
            assert!(font.width("Код", 12.0, 0.0) > 10.0);
        }
    }

    #[test]
    fn metrics_are_plausible() {
        let m = Fonts::load().get(Style::Regular).metrics();
        assert!(m.ascent > 700 && m.ascent < 1100, "{}", m.ascent);
        assert!(m.descent < 0);
        assert!(m.cap_height > 600 && m.cap_height < 800, "{}", m.cap_height);
        assert!(m.bbox[0] < 0 && m.bbox[2] > 1000);
    }
}
