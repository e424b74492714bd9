//! Reads back what this crate writes, the way a viewer would: the
//! cross-reference table, the page tree, the fonts, and the text of each
//! page decoded through the ToUnicode CMaps. For tests (this crate's, and
//! those of a product that serves its PDFs): it panics on anything it does
//! not understand, and understands only what `pdf.rs` writes.
#![expect(
    clippy::missing_panics_doc,
    reason = "a reader for tests: it panics on what it cannot read"
)]

use std::collections::BTreeMap;

pub struct Pdf {
    pub bytes: Vec<u8>,
    pub offsets: BTreeMap<u32, usize>,
    pub root: u32,
}

pub struct Object {
    pub dict: String,
    pub stream: Option<Vec<u8>>,
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

pub fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// The end (exclusive) of the dictionary starting at `start`, past nested
/// dictionaries, hex strings and literal strings.
fn dict_end(b: &[u8], start: usize) -> usize {
    let mut depth = 0;
    let mut i = start;
    while i < b.len() {
        if b[i..].starts_with(b"<<") {
            depth += 1;
            i += 2;
        } else if b[i..].starts_with(b">>") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else if b[i] == b'<' {
            i = find(b, b">", i).expect("hex string end") + 1;
        } else if b[i] == b'(' {
            i += 1;
            while b[i] != b')' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else {
            i += 1;
        }
    }
    panic!("unterminated dictionary at {start}");
}

fn number_after(text: &str, key: &str) -> u64 {
    let at = text.find(key).unwrap_or_else(|| panic!("{key} in {text}")) + key.len();
    let digits: String = text[at..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("a number after {key} in {text}"))
}

/// The object number of `key N 0 R` in a dictionary.
pub fn reference(dict: &str, key: &str) -> u32 {
    let at = dict.find(key).unwrap_or_else(|| panic!("{key} in {dict}")) + key.len();
    let rest = dict[at..].trim_start();
    let mut words = rest.split_whitespace();
    let id = words
        .next()
        .and_then(|w| w.parse().ok())
        .expect("object number");
    assert_eq!(words.next(), Some("0"));
    assert!(words.next().is_some_and(|w| w.starts_with('R')), "{rest}");
    id
}

/// All `N 0 R` in a piece of a dictionary, in order.
fn references(text: &str) -> Vec<u32> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(3)
        .filter(|w| w[1] == "0" && w[2].trim_end_matches([']', '>']) == "R")
        .filter_map(|w| w[0].trim_start_matches('[').parse().ok())
        .collect()
}

impl Pdf {
    /// Checks the header, the trailer and every cross-reference entry on the way.
    pub fn parse(bytes: Vec<u8>) -> Pdf {
        assert!(bytes.starts_with(b"%PDF-1."), "header");
        assert!(bytes.ends_with(b"%%EOF"), "end marker");
        let start = rfind(&bytes, b"startxref").expect("startxref");
        let tail = String::from_utf8_lossy(&bytes[start..]).into_owned();
        let xref_at = number_after(&tail, "startxref") as usize;
        assert!(
            bytes[xref_at..].starts_with(b"xref\n"),
            "startxref points at the table"
        );

        let mut at = xref_at + 5;
        let line_end = find(&bytes, b"\n", at).expect("subsection header");
        let header = String::from_utf8_lossy(&bytes[at..line_end]).into_owned();
        let mut parts = header
            .split_whitespace()
            .map(|p| p.parse::<u32>().expect("number"));
        assert_eq!(parts.next(), Some(0), "one subsection from object 0");
        let count = parts.next().expect("entry count");
        at = line_end + 1;

        let mut offsets = BTreeMap::new();
        for id in 0..count {
            let entry = &bytes[at..at + 20];
            assert!(
                entry.ends_with(b"\r\n") || entry.ends_with(b" \n"),
                "20-byte entry {id}"
            );
            let text = std::str::from_utf8(&entry[..18]).expect("ASCII entry");
            let offset: usize = text[..10].parse().expect("offset");
            let kind = &text[17..18];
            if id == 0 {
                assert_eq!(kind, "f");
            } else {
                assert_eq!(kind, "n", "object {id} is in use");
                let expected = format!("{id} 0 obj");
                assert!(
                    bytes[offset..].starts_with(expected.as_bytes()),
                    "xref entry {id} points at {:?}",
                    String::from_utf8_lossy(&bytes[offset..offset + 20])
                );
                offsets.insert(id, offset);
            }
            at += 20;
        }
        let trailer = String::from_utf8_lossy(&bytes[at..]).into_owned();
        assert!(trailer.starts_with("trailer"), "{trailer}");
        assert_eq!(number_after(&trailer, "/Size"), u64::from(count));
        let root = reference(&trailer, "/Root");
        Pdf {
            bytes,
            offsets,
            root,
        }
    }

    pub fn object(&self, id: u32) -> Object {
        let start = self.offsets[&id];
        let body = find(&self.bytes, b"obj\n", start).expect("obj keyword") + 4;
        if !self.bytes[body..].starts_with(b"<<") {
            let end = find(&self.bytes, b"\nendobj", body).expect("endobj");
            return Object {
                dict: String::from_utf8_lossy(&self.bytes[body..end]).into_owned(),
                stream: None,
            };
        }
        let end = dict_end(&self.bytes, body);
        let dict = String::from_utf8_lossy(&self.bytes[body..end]).into_owned();
        let after = &self.bytes[end..];
        if after.starts_with(b"\nendobj") {
            return Object { dict, stream: None };
        }
        assert!(
            after.starts_with(b"\nstream\n"),
            "object {id} is a dictionary or a stream"
        );
        let length = number_after(&dict, "/Length ") as usize;
        let data_start = end + 8;
        let data = &self.bytes[data_start..data_start + length];
        assert!(
            self.bytes[data_start + length..].starts_with(b"\nendstream\nendobj"),
            "/Length of {id}"
        );
        let stream = if dict.contains("/FlateDecode") {
            miniz_oxide::inflate::decompress_to_vec_zlib(data).expect("a valid Flate stream")
        } else {
            data.to_vec()
        };
        Object {
            dict,
            stream: Some(stream),
        }
    }

    pub fn pages(&self) -> Vec<u32> {
        let catalog = self.object(self.root).dict;
        assert!(catalog.contains("/Type /Catalog"));
        let tree = self.object(reference(&catalog, "/Pages")).dict;
        let kids_at = tree.find("/Kids").expect("kids");
        let kids_end = tree[kids_at..].find(']').expect("end of kids") + kids_at;
        let kids = references(&tree[kids_at..=kids_end]);
        assert_eq!(number_after(&tree, "/Count"), kids.len() as u64);
        kids
    }

    /// Resource name of each font on the page, with its glyph-to-text map.
    pub fn page_fonts(&self, page: &Object) -> BTreeMap<String, BTreeMap<u16, String>> {
        let at = page.dict.find("/Font <<").expect("font resources") + 8;
        let end = page.dict[at..].find(">>").expect("end of fonts") + at;
        let words: Vec<&str> = page.dict[at..end].split_whitespace().collect();
        let mut out = BTreeMap::new();
        for entry in words.chunks(4) {
            let name = entry[0].trim_start_matches('/').to_owned();
            let font = self.object(entry[1].parse().expect("font object")).dict;
            assert!(
                font.contains("/Subtype /Type0") && font.contains("/Encoding /Identity-H"),
                "{font}"
            );
            let descendant = self.object(reference(&font, "/DescendantFonts [")).dict;
            assert!(
                descendant.contains("/Subtype /CIDFontType2"),
                "{descendant}"
            );
            assert!(descendant.contains("/CIDToGIDMap /Identity"));
            assert!(descendant.contains("/W ["));
            let descriptor = self.object(reference(&descendant, "/FontDescriptor")).dict;
            let file = self.object(reference(&descriptor, "/FontFile2"));
            let ttf = file.stream.expect("font program");
            assert_eq!(number_after(&file.dict, "/Length1") as usize, ttf.len());
            assert_eq!(&ttf[..4], &[0, 1, 0, 0], "a TrueType font program");
            let cmap = self
                .object(reference(&font, "/ToUnicode"))
                .stream
                .expect("CMap stream");
            out.insert(
                name,
                parse_cmap(&String::from_utf8(cmap).expect("ASCII CMap")),
            );
        }
        out
    }

    /// Text of every page, one string per page, one line per positioned run.
    pub fn texts(&self) -> Vec<String> {
        self.pages()
            .into_iter()
            .map(|id| {
                let page = self.object(id);
                assert!(page.dict.contains("/Type /Page "), "{}", page.dict);
                assert!(
                    page.dict.contains("/MediaBox [0 0 595 842]"),
                    "A4: {}",
                    page.dict
                );
                let fonts = self.page_fonts(&page);
                let content = self
                    .object(reference(&page.dict, "/Contents"))
                    .stream
                    .expect("content");
                decode_text(&content, &fonts)
            })
            .collect()
    }
}

fn utf16_hex(hex: &str) -> String {
    let units: Vec<u16> = hex
        .as_bytes()
        .chunks(4)
        .map(|c| u16::from_str_radix(std::str::from_utf8(c).expect("hex"), 16).expect("hex"))
        .collect();
    String::from_utf16(&units).expect("UTF-16")
}

fn parse_cmap(cmap: &str) -> BTreeMap<u16, String> {
    let mut map = BTreeMap::new();
    let mut rest = cmap;
    while let Some(at) = rest.find("beginbfchar") {
        let end = rest[at..].find("endbfchar").expect("endbfchar") + at;
        for line in rest[at + 11..end].lines().filter(|l| !l.trim().is_empty()) {
            let mut parts = line.split_whitespace().map(|p| p.trim_matches(['<', '>']));
            let code = u16::from_str_radix(parts.next().expect("code"), 16).expect("hex code");
            map.insert(code, utf16_hex(parts.next().expect("unicode")));
        }
        rest = &rest[end..];
    }
    assert!(
        !cmap.contains("beginbfrange"),
        "the reader handles only bfchar"
    );
    map
}

#[derive(Debug)]
enum Token {
    Hex(String),
    Name(String),
    Number,
    Open,
    Close,
    /// A property dictionary, reduced to its ActualText if it has one.
    Dict(Option<String>),
    Operator(String),
}

fn tokens(content: &[u8]) -> Vec<Token> {
    let text = std::str::from_utf8(content).expect("content streams are ASCII");
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if text[i..].starts_with("<<") {
            let end = dict_end(b, i);
            let dict = &text[i..end];
            let actual = dict.find("/ActualText").map(|a| {
                let open = dict[a..].find('<').expect("hex string") + a + 1;
                let close = dict[open..].find('>').expect("hex end") + open;
                utf16_hex(&dict[open..close])
                    .trim_start_matches('\u{feff}')
                    .to_owned()
            });
            out.push(Token::Dict(actual));
            i = end;
        } else if c == b'<' {
            let close = text[i..].find('>').expect("hex end") + i;
            out.push(Token::Hex(text[i + 1..close].to_owned()));
            i = close + 1;
        } else if c == b'[' || c == b']' {
            out.push(if c == b'[' { Token::Open } else { Token::Close });
            i += 1;
        } else {
            let end = text[i + 1..]
                .find(|ch: char| ch.is_ascii_whitespace() || "<>[]/".contains(ch))
                .map_or(b.len(), |e| e + i + 1);
            let word = &text[i..end];
            out.push(if let Some(name) = word.strip_prefix('/') {
                Token::Name(name.to_owned())
            } else if word.parse::<f64>().is_ok() {
                Token::Number
            } else {
                Token::Operator(word.to_owned())
            });
            i = end;
        }
    }
    out
}

fn decode_text(content: &[u8], fonts: &BTreeMap<String, BTreeMap<u16, String>>) -> String {
    let mut out = String::new();
    let mut font: Option<&BTreeMap<u16, String>> = None;
    let mut actual: Option<String> = None;
    let mut operands: Vec<Token> = Vec::new();
    let show = |out: &mut String,
                font: Option<&BTreeMap<u16, String>>,
                actual: &mut Option<String>,
                hex: &str| {
        if let Some(text) = actual.take() {
            out.push_str(&text);
            return;
        }
        let map = font.expect("a font is set before text is shown");
        for code in hex.as_bytes().chunks(4) {
            let cid =
                u16::from_str_radix(std::str::from_utf8(code).expect("hex"), 16).expect("hex");
            out.push_str(
                map.get(&cid)
                    .unwrap_or_else(|| panic!("glyph {cid} missing from ToUnicode")),
            );
        }
    };
    for token in tokens(content) {
        match token {
            Token::Operator(op) => {
                match op.as_str() {
                    "Tf" => {
                        let name = operands.iter().find_map(|t| match t {
                            Token::Name(n) => Some(n.clone()),
                            _ => None,
                        });
                        font = Some(&fonts[&name.expect("font name")]);
                    }
                    "Tm" | "Td" | "TD" | "T*" | "ET" => out.push('\n'),
                    "Tj" | "TJ" => {
                        for t in &operands {
                            if let Token::Hex(hex) = t {
                                show(&mut out, font, &mut actual, hex);
                            }
                        }
                    }
                    "BDC" => {
                        actual = operands.iter().find_map(|t| match t {
                            Token::Dict(a) => a.clone(),
                            _ => None,
                        });
                    }
                    "EMC" => actual = None,
                    _ => {}
                }
                operands.clear();
            }
            Token::Open | Token::Close | Token::Number => operands.push(token),
            other => operands.push(other),
        }
    }
    out
}

/// Lines joined with spaces, so that a phrase the layout wrapped still matches.
pub fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn count_page_objects(pdf: &[u8]) -> usize {
    let mut count = 0;
    let mut at = 0;
    while let Some(i) = find(pdf, b"/Type /Page", at) {
        if pdf.get(i + 11) != Some(&b's') {
            count += 1;
        }
        at = i + 11;
    }
    count
}
