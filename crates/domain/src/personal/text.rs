//! Free text (a place, an authority, a street) and the bounds of each
//! field that holds it.
use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    Empty,
    TooLong { max: usize },
    ControlCharacters,
}

/// Free text (a place, an authority, a street): trimmed, inner runs of
/// whitespace made one space, no control characters, not empty, bounded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct FreeText(String);

impl FreeText {
    pub fn parse(input: &str, max: usize) -> Result<Self, TextProblem> {
        if input
            .chars()
            .any(|c| (c.is_control() && !c.is_whitespace()) || is_invisible_format(c))
        {
            return Err(TextProblem::ControlCharacters);
        }
        let text = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            return Err(TextProblem::Empty);
        }
        if text.chars().count() > max {
            return Err(TextProblem::TooLong { max });
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for FreeText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // Stored values were bounded when typed; the largest bound applies.
        FreeText::parse(&s, MAX_TEXT).map_err(|_| serde::de::Error::custom("invalid text"))
    }
}

/// Zero-width and direction-changing characters: invisible on screen, they
/// would let an address or an authority read differently from what is stored.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
    )
}

const MAX_TEXT: usize = 250;
pub(super) const MAX_PLACE: usize = 200;
pub(super) const MAX_AUTHORITY: usize = 250;
pub(super) const MAX_ADDRESS_PART: usize = 200;
pub(super) const MAX_HOUSE: usize = 20;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn free_text_refuses_invisible_and_direction_characters() {
        for c in ['\u{200B}', '\u{200E}', '\u{202E}', '\u{2066}', '\u{FEFF}'] {
            let s = format!("ул. Ленина{c}, д. 5");
            assert_eq!(
                FreeText::parse(&s, 100),
                Err(TextProblem::ControlCharacters),
                "{c:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn free_text_never_keeps_runs_of_spaces(s in "\\PC{0,40}") {
            if let Ok(t) = FreeText::parse(&s, 100) {
                prop_assert!(!t.as_str().contains("  "));
                prop_assert_eq!(t.as_str().trim(), t.as_str());
            }
        }
    }
}
