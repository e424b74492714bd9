//! The PDF file itself: objects, cross-reference table and trailer, with the
//! fonts embedded as Type0/CIDFontType2 so that Cyrillic both prints and
//! extracts as text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::font::{Font, Fonts, Style};
use crate::layout::{PAGE_HEIGHT, PAGE_WIDTH, Page, Paint};

/// The characters each glyph of a font stood for, to build its /W and /ToUnicode.
#[derive(Default)]
struct GlyphUse {
    /// A glyph reached from two characters (none does in DejaVu) keeps the first.
    chars: BTreeMap<u16, char>,
}

pub(crate) fn document(fonts: &Fonts, pages: &[Page], title: &str) -> Vec<u8> {
    let mut used = [GlyphUse::default(), GlyphUse::default()];
    let contents: Vec<Vec<u8>> = pages
        .iter()
        .map(|p| content_stream(fonts, p, &mut used))
        .collect();

    let mut doc = Objects::default();
    let catalog = doc.reserve();
    let page_tree = doc.reserve();
    let info = doc.reserve();

    let mut font_refs = String::new();
    for style in Style::ALL {
        let glyphs = &used[style.index()];
        if glyphs.chars.is_empty() {
            continue;
        }
        let id = embed_font(&mut doc, fonts.get(style), glyphs);
        let _ = write!(font_refs, " /{} {id} 0 R", resource_name(style));
    }

    let mut kids = Vec::with_capacity(pages.len());
    for content in &contents {
        let page = doc.reserve();
        let stream = doc.stream("", content);
        doc.set(
            page,
            format!(
                "<< /Type /Page /Parent {page_tree} 0 R /MediaBox [0 0 {} {}] \
                 /Resources << /Font <<{font_refs} >> >> /Contents {stream} 0 R >>",
                num(PAGE_WIDTH),
                num(PAGE_HEIGHT)
            )
            .into_bytes(),
        );
        kids.push(format!("{page} 0 R"));
    }
    doc.set(
        page_tree,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            kids.len()
        )
        .into_bytes(),
    );
    // Scaling to fit the printable area would move the address out of the envelope window.
    doc.set(
        catalog,
        format!(
            "<< /Type /Catalog /Pages {page_tree} 0 R /Lang (ru-RU) \
             /ViewerPreferences << /PrintScaling /None /DisplayDocTitle true >> >>"
        )
        .into_bytes(),
    );
    doc.set(
        info,
        format!(
            "<< /Title {} /Producer (uslugi-print) >>",
            text_string(title)
        )
        .into_bytes(),
    );
    doc.finish(catalog, info)
}

fn resource_name(style: Style) -> &'static str {
    match style {
        Style::Regular => "F1",
        Style::Bold => "F2",
    }
}

fn content_stream(fonts: &Fonts, page: &Page, used: &mut [GlyphUse; 2]) -> Vec<u8> {
    let mut out = String::new();
    for rect in &page.rects {
        let y = PAGE_HEIGHT - rect.top - rect.height;
        let (x, w, h) = (num(rect.x), num(rect.width), num(rect.height));
        match rect.paint {
            Paint::Fill => {
                let _ = writeln!(out, "0 g {x} {} {w} {h} re f", num(y));
            }
            Paint::Stroke(line_width) => {
                let _ = writeln!(out, "0 G {} w {x} {} {w} {h} re S", num(line_width), num(y));
            }
        }
    }

    out.push_str("BT\n");
    // Text state outlives BT/ET and starts at zero: only changes are written.
    let mut current_font: Option<(Style, f32)> = None;
    let mut current_gray = 0.0;
    let mut current_spacing = 0.0;
    for line in &page.lines {
        if current_font != Some((line.style, line.size)) {
            let _ = writeln!(out, "/{} {} Tf", resource_name(line.style), num(line.size));
            current_font = Some((line.style, line.size));
        }
        if line.gray != current_gray {
            let _ = writeln!(out, "{} g", num(line.gray));
            current_gray = line.gray;
        }
        if line.spacing != current_spacing {
            let _ = writeln!(out, "{} Tc", num(line.spacing));
            current_spacing = line.spacing;
        }
        let _ = writeln!(
            out,
            "1 0 0 1 {} {} Tm",
            num(line.x),
            num(PAGE_HEIGHT - line.baseline)
        );
        show_text(
            &mut out,
            fonts.get(line.style),
            &line.text,
            &mut used[line.style.index()],
        );
    }
    out.push_str("ET\n");
    out.into_bytes()
}

/// Glyph ids as two-byte codes (Identity-H). A character the font lacks is
/// drawn as .notdef inside an ActualText span, so that extraction still yields
/// that very character even when several different ones share glyph 0.
fn show_text(out: &mut String, font: &Font, text: &str, used: &mut GlyphUse) {
    let mut run = String::new();
    let flush = |out: &mut String, run: &mut String| {
        if !run.is_empty() {
            let _ = writeln!(out, "<{run}> Tj");
            run.clear();
        }
    };
    for c in text.chars() {
        match font.glyph(c) {
            Some(gid) => {
                used.chars.entry(gid).or_insert(c);
                let _ = write!(run, "{gid:04X}");
            }
            None => {
                flush(out, &mut run);
                used.chars.entry(0).or_insert(c);
                let _ = writeln!(
                    out,
                    "/Span << /ActualText {} >> BDC <0000> Tj EMC",
                    text_string(&c.to_string())
                );
            }
        }
    }
    flush(out, &mut run);
}

fn embed_font(doc: &mut Objects, font: &Font, used: &GlyphUse) -> u32 {
    // The six-letter tag marks the font as a subset, which it is (see fonts/README.md).
    let name = match font.style {
        Style::Regular => format!("USLGRA+{}", font.postscript_name()),
        Style::Bold => format!("USLGBD+{}", font.postscript_name()),
    };
    let m = font.metrics();
    let file = doc.stream(&format!("/Length1 {}", font.data.len()), font.data);
    let descriptor = doc.add(
        format!(
            "<< /Type /FontDescriptor /FontName /{name} /Flags 4 /FontBBox [{} {} {} {}] \
             /ItalicAngle {} /Ascent {} /Descent {} /CapHeight {} /StemV {} /FontFile2 {file} 0 R >>",
            m.bbox[0],
            m.bbox[1],
            m.bbox[2],
            m.bbox[3],
            num(m.italic_angle),
            m.ascent,
            m.descent,
            m.cap_height,
            m.stem_v
        )
        .into_bytes(),
    );
    let cid_font = doc.add(
        format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{name} \
             /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
             /FontDescriptor {descriptor} 0 R /DW 1000 /W {} /CIDToGIDMap /Identity >>",
            widths(font, used)
        )
        .into_bytes(),
    );
    let to_unicode = doc.stream("", to_unicode_cmap(used).as_bytes());
    doc.add(
        format!(
            "<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H \
             /DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>"
        )
        .into_bytes(),
    )
}

/// `[first [w w …] first [w …]]`, one group per run of consecutive glyph ids.
fn widths(font: &Font, used: &GlyphUse) -> String {
    let mut out = String::from("[");
    let mut previous: Option<u16> = None;
    for &gid in used.chars.keys() {
        match previous {
            Some(p) if p + 1 == gid => out.push(' '),
            Some(_) => {
                let _ = write!(out, "] {gid} [");
            }
            None => {
                let _ = write!(out, "{gid} [");
            }
        }
        let _ = write!(out, "{}", font.advance_1000(gid));
        previous = Some(gid);
    }
    if previous.is_some() {
        out.push(']');
    }
    out.push(']');
    out
}

fn to_unicode_cmap(used: &GlyphUse) -> String {
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(&u16, &char)> = used.chars.iter().collect();
    // A CMap section holds at most 100 entries.
    for chunk in entries.chunks(100) {
        let _ = writeln!(out, "{} beginbfchar", chunk.len());
        for (gid, c) in chunk {
            let _ = writeln!(out, "<{gid:04X}> <{}>", utf16_hex(**c));
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out
}

fn utf16_hex(c: char) -> String {
    let mut units = [0u16; 2];
    c.encode_utf16(&mut units)
        .iter()
        .map(|u| format!("{u:04X}"))
        .collect()
}

/// A PDF text string: UTF-16BE with a byte-order mark, written in hex so that
/// no character needs escaping.
fn text_string(text: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in text.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

/// Two decimals are far below what a printer resolves; trailing zeros go.
fn num(value: f32) -> String {
    let s = format!("{value:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// Object bodies by number (object 1 first), serialised with their offsets.
#[derive(Default)]
struct Objects {
    bodies: Vec<Option<Vec<u8>>>,
}

impl Objects {
    fn reserve(&mut self) -> u32 {
        self.bodies.push(None);
        u32::try_from(self.bodies.len()).expect("a batch has far fewer than 2^32 objects")
    }

    fn set(&mut self, id: u32, body: Vec<u8>) {
        self.bodies[id as usize - 1] = Some(body);
    }

    fn add(&mut self, body: Vec<u8>) -> u32 {
        let id = self.reserve();
        self.set(id, body);
        id
    }

    fn stream(&mut self, extra_entries: &str, data: &[u8]) -> u32 {
        let data = miniz_oxide::deflate::compress_to_vec_zlib(data, 9);
        let mut body = format!("<< /Length {} /Filter /FlateDecode", data.len()).into_bytes();
        if !extra_entries.is_empty() {
            body.push(b' ');
            body.extend_from_slice(extra_entries.as_bytes());
        }
        body.extend_from_slice(b" >>\nstream\n");
        body.extend_from_slice(&data);
        body.extend_from_slice(b"\nendstream");
        self.add(body)
    }

    fn finish(self, root: u32, info: u32) -> Vec<u8> {
        // The binary comment tells transfer tools the file is not text.
        let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
        let mut offsets = Vec::with_capacity(self.bodies.len());
        for (i, body) in self.bodies.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(body.as_deref().expect("every reserved object is filled in"));
            out.extend_from_slice(b"\nendobj\n");
        }
        let id = document_id(&out);
        let xref = out.len();
        let mut table = format!("xref\n0 {}\n0000000000 65535 f\r\n", offsets.len() + 1);
        for offset in offsets {
            // Each entry is exactly 20 bytes, hence the two-byte end of line.
            let _ = write!(table, "{offset:010} 00000 n\r\n");
        }
        let _ = write!(
            table,
            "trailer\n<< /Size {} /Root {root} 0 R /Info {info} 0 R /ID [<{id}> <{id}>] >>\nstartxref\n{xref}\n%%EOF",
            self.bodies.len() + 1
        );
        out.extend_from_slice(table.as_bytes());
        out
    }
}

/// The same batch gives the same file, and so the same ID: FNV-1a, twice seeded.
fn document_id(bytes: &[u8]) -> String {
    let fnv = |seed: u64| {
        bytes.iter().fold(seed, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3)
        })
    };
    format!(
        "{:016X}{:016X}",
        fnv(0xCBF2_9CE4_8422_2325),
        fnv(0x8422_2325_CBF2_9CE4)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_never_negative_zero() {
        assert_eq!(num(595.0), "595");
        assert_eq!(num(12.345), "12.35");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(-0.001), "0");
    }

    #[test]
    fn strings_outside_the_bmp_use_surrogates() {
        assert_eq!(utf16_hex('Ж'), "0416");
        assert_eq!(utf16_hex('😀'), "D83DDE00");
        assert_eq!(text_string("Я"), "<FEFF042F>");
    }

    #[test]
    fn widths_group_consecutive_glyphs() {
        let fonts = Fonts::load();
        let font = fonts.get(Style::Regular);
        let mut used = GlyphUse::default();
        for (gid, c) in [(3u16, 'a'), (4, 'b'), (9, 'c')] {
            used.chars.insert(gid, c);
        }
        let w = widths(font, &used);
        let expected = format!(
            "[3 [{} {}] 9 [{}]]",
            font.advance_1000(3),
            font.advance_1000(4),
            font.advance_1000(9)
        );
        assert_eq!(w, expected);
        assert_eq!(widths(font, &GlyphUse::default()), "[]");
    }

    #[test]
    fn a_missing_character_keeps_its_unicode() {
        let fonts = Fonts::load();
        let mut used = GlyphUse::default();
        let mut out = String::new();
        show_text(&mut out, fonts.get(Style::Regular), "A漢", &mut used);
        assert!(out.contains("/ActualText <FEFF6F22>"), "{out}");
        assert!(out.contains("<0000> Tj"));
        assert_eq!(used.chars.get(&0), Some(&'漢'));
        assert!(to_unicode_cmap(&used).contains("<0000> <6F22>"));
    }
}
