//! Parts of a person's name as written in their documents.
use std::fmt;
use std::str::FromStr;

const MAX_NAME_CHARS: usize = 100;

/// A surname, given name or patronymic: letters of one script (Cyrillic or
/// Latin) joined by single hyphens, apostrophes or spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum NameError {
    #[error("name is empty")]
    Empty,
    #[error("name is too long")]
    TooLong,
    #[error("name contains invalid characters")]
    InvalidCharacters,
    #[error("name mixes Cyrillic and Latin letters")]
    MixedScripts,
    #[error("name has a misplaced hyphen, apostrophe or space")]
    MisplacedSeparator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Cyrillic,
    Latin,
}

enum Kind {
    Letter(Script),
    Separator,
}

impl PersonName {
    /// Trims, collapses inner runs of whitespace to one space and checks the
    /// result; at most 100 characters.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let collapsed = compose_cyrillic(&input.split_whitespace().collect::<Vec<_>>().join(" "));
        if collapsed.is_empty() {
            return Err(NameError::Empty);
        }
        if collapsed.chars().count() > MAX_NAME_CHARS {
            return Err(NameError::TooLong);
        }
        let kinds = collapsed
            .chars()
            .map(kind_of)
            .collect::<Option<Vec<_>>>()
            .ok_or(NameError::InvalidCharacters)?;
        let mut scripts = kinds.iter().filter_map(|kind| match kind {
            Kind::Letter(script) => Some(*script),
            Kind::Separator => None,
        });
        if let Some(first) = scripts.next()
            && scripts.any(|script| script != first)
        {
            return Err(NameError::MixedScripts);
        }
        let starts_and_ends_with_letter = matches!(kinds.first(), Some(Kind::Letter(_)))
            && matches!(kinds.last(), Some(Kind::Letter(_)));
        let separators_apart = kinds
            .windows(2)
            .all(|pair| !matches!(pair, [Kind::Separator, Kind::Separator]));
        if !starts_and_ends_with_letter || !separators_apart {
            return Err(NameError::MisplacedSeparator);
        }
        Ok(Self(collapsed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lower-cased, `ё` read as `е` and `’` as `'`, because registries and
    /// people spell the same name both ways; for comparing with registries
    /// and for password checks.
    pub fn normalized_for_comparison(&self) -> String {
        fold_for_comparison(&self.0)
    }
}

/// The folding behind [`PersonName::normalized_for_comparison`], shared with
/// the password rules so that both sides of a comparison fold alike.
pub(crate) fn fold_for_comparison(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ё' => 'е',
            '’' => '\'',
            other => other,
        })
        .collect()
}

/// Text copied from some PDFs and macOS carries `й` and `ё` decomposed into a
/// base letter and a combining mark; those are common in Russian names and
/// must not be refused as invalid characters.
fn compose_cyrillic(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let composed = match (c, chars.peek()) {
            ('и', Some('\u{306}')) => Some('й'),
            ('И', Some('\u{306}')) => Some('Й'),
            ('е', Some('\u{308}')) => Some('ё'),
            ('Е', Some('\u{308}')) => Some('Ё'),
            _ => None,
        };
        match composed {
            Some(letter) => {
                out.push(letter);
                chars.next();
            }
            None => out.push(c),
        }
    }
    out
}

fn kind_of(c: char) -> Option<Kind> {
    match c {
        '-' | '\'' | '’' | ' ' => Some(Kind::Separator),
        'A'..='Z' | 'a'..='z' => Some(Kind::Letter(Script::Latin)),
        // Latin-1 Supplement letters, leaving out × and ÷.
        '\u{c0}'..='\u{ff}' if c != '×' && c != '÷' => Some(Kind::Letter(Script::Latin)),
        // Latin Extended-A is letters only.
        '\u{100}'..='\u{17f}' => Some(Kind::Letter(Script::Latin)),
        // The Cyrillic block also holds signs and combining marks.
        '\u{400}'..='\u{4ff}' if c.is_alphabetic() => Some(Kind::Letter(Script::Cyrillic)),
        _ => None,
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PersonName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for PersonName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

deserialize_by_parse!(PersonName);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_names_of_one_script() {
        for (input, expected) in [
            ("Иванов", "Иванов"),
            ("  Салтыков-Щедрин ", "Салтыков-Щедрин"),
            ("Артём", "Артём"),
            ("Оглы Мамед\t\n Кызы", "Оглы Мамед Кызы"),
            ("Д'Артаньян", "Д'Артаньян"),
            ("О’Коннор", "О’Коннор"),
            ("Һәйдәр", "Һәйдәр"),
            ("Ӧльӧксандр", "Ӧльӧксандр"),
            ("Müller-Lüdenscheidt", "Müller-Lüdenscheidt"),
            ("Łukasz", "Łukasz"),
            ("José María", "José María"),
            ("O'Brien", "O'Brien"),
            ("Я", "Я"),
        ] {
            assert_eq!(
                PersonName::parse(input).unwrap().as_str(),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn composes_decomposed_letters() {
        let name = PersonName::parse("Арте\u{308}м Андрии\u{306}").unwrap();
        assert_eq!(name.as_str(), "Артём Андрий");
    }

    #[test]
    fn refuses_invalid_names() {
        use NameError::*;
        for (input, error) in [
            ("", Empty),
            (" \t ", Empty),
            ("Иванов2", InvalidCharacters),
            ("Иванов.", InvalidCharacters),
            ("Ivanov_", InvalidCharacters),
            ("Ива\u{301}нов", InvalidCharacters),
            ("Ива҂нов", InvalidCharacters),
            ("Ива\u{483}нов", InvalidCharacters),
            ("Иванов×", InvalidCharacters),
            ("ªna", InvalidCharacters),
            ("Ivanovα", InvalidCharacters),
            ("Иванов😀", InvalidCharacters),
            ("Ивaнов", MixedScripts),
            ("Ivanov Иванов", MixedScripts),
            ("-Иванов", MisplacedSeparator),
            ("Иванов-", MisplacedSeparator),
            ("'Иванов", MisplacedSeparator),
            ("Салтыков--Щедрин", MisplacedSeparator),
            ("Салтыков - Щедрин", MisplacedSeparator),
            ("Д''Артаньян", MisplacedSeparator),
            ("-", MisplacedSeparator),
        ] {
            assert_eq!(PersonName::parse(input), Err(error), "{input}");
        }
    }

    #[test]
    fn length_counts_characters() {
        assert!(PersonName::parse(&"ж".repeat(100)).is_ok());
        assert_eq!(PersonName::parse(&"ж".repeat(101)), Err(NameError::TooLong));
        let padded = format!("   {}   ", "ж".repeat(100));
        assert!(PersonName::parse(&padded).is_ok());
    }

    #[test]
    fn comparison_form() {
        let name = PersonName::parse("Артём Ёлкин-О’Нил").unwrap();
        assert_eq!(name.normalized_for_comparison(), "артем елкин-о'нил");
        assert_eq!(
            PersonName::parse("ÉLODIE")
                .unwrap()
                .normalized_for_comparison(),
            "élodie"
        );
    }

    fn word(letters: &'static str) -> impl Strategy<Value = String> {
        let letters: Vec<char> = letters.chars().collect();
        proptest::collection::vec(proptest::sample::select(letters), 1..12)
            .prop_map(|chars| chars.into_iter().collect())
    }

    fn name_in(letters: &'static str) -> impl Strategy<Value = String> {
        (
            word(letters),
            proptest::collection::vec(
                (
                    prop_oneof![Just('-'), Just('\''), Just('’'), Just(' ')],
                    word(letters),
                ),
                0..4,
            ),
        )
            .prop_map(|(first, rest)| {
                let mut name = first;
                for (separator, word) in rest {
                    name.push(separator);
                    name.push_str(&word);
                }
                name
            })
    }

    fn valid_name() -> impl Strategy<Value = String> {
        prop_oneof![
            name_in(
                "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯӘәҺһӨөҮүҢңІі"
            ),
            name_in("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéèöüßçñÅøłŁŠšžŒœ"),
        ]
    }

    proptest! {
        #[test]
        fn valid_names_survive_padding(
            name in valid_name(),
            before in "[ \t\n\u{a0}]{0,4}",
            after in "[ \t\n\u{a0}]{0,4}",
        ) {
            let plain = PersonName::parse(&name).unwrap();
            prop_assert_eq!(plain.as_str(), name.as_str());
            let padded = PersonName::parse(&format!("{before}{name}{after}")).unwrap();
            prop_assert_eq!(&padded, &plain);
            prop_assert_eq!(PersonName::parse(&plain.to_string()).unwrap(), plain.clone());
            prop_assert!(!plain.normalized_for_comparison().contains('ё'));
        }

        #[test]
        fn inner_whitespace_runs_collapse(name in valid_name(), gap in "[ \t\n]{1,4}") {
            let spread = name.replace(' ', &gap);
            let parsed = PersonName::parse(&spread).unwrap();
            prop_assert_eq!(parsed.as_str(), name.as_str());
        }

        #[test]
        fn names_over_100_chars_are_refused(
            name in proptest::collection::vec(proptest::sample::select(vec!['а', 'б', 'Ж', 'ё', 'ю']), 101..300),
        ) {
            let name: String = name.into_iter().collect();
            prop_assert_eq!(PersonName::parse(&name), Err(NameError::TooLong));
        }

        #[test]
        fn names_with_digits_are_refused(
            name in valid_name(),
            digit in proptest::char::range('0', '9'),
            at in any::<proptest::sample::Index>(),
        ) {
            let mut chars: Vec<char> = name.chars().collect();
            let position = at.index(chars.len() + 1);
            chars.insert(position, digit);
            let with_digit: String = chars.into_iter().collect();
            prop_assert_eq!(PersonName::parse(&with_digit), Err(NameError::InvalidCharacters));
        }

        #[test]
        fn never_panics(input in ".*") {
            if let Ok(name) = PersonName::parse(&input) {
                let _ = name.normalized_for_comparison();
            }
        }
    }
}
