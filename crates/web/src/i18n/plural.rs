use super::fill;

/// A text about a count, in each plural form of its language (CLDR rules
/// for integers): «1 секунду», «2 секунды», «5 секунд», «21 секунду»;
/// «1 second», «21 seconds». `static/app.js` picks the same forms.
#[derive(Debug, Clone, Copy)]
pub enum Plural {
    /// one: 1, 21, 101…; few: 2–4, 22–24…; many: 0, 5–20, 25–30, 111…
    Ru {
        one: &'static str,
        few: &'static str,
        many: &'static str,
    },
    /// one: 1; other: everything else.
    En {
        one: &'static str,
        other: &'static str,
    },
}

impl Plural {
    /// The form for `n`, with `{}` in place of the number.
    pub fn form(&self, n: i64) -> &'static str {
        let n = n.unsigned_abs();
        match *self {
            Self::Ru { one, few, many } => match (n % 10, n % 100) {
                (1, r) if r != 11 => one,
                (2..=4, r) if !(12..=14).contains(&r) => few,
                _ => many,
            },
            Self::En { one, other } => {
                if n == 1 {
                    one
                } else {
                    other
                }
            }
        }
    }

    /// The text for `n`, the number put in.
    pub fn fill(&self, n: i64) -> String {
        fill(self.form(n), n)
    }

    /// The rule's name, for a page's script to count down with
    /// (`data-plural`, with the forms in `data-one`, `data-few`, `data-many`).
    pub fn rule(&self) -> &'static str {
        match self {
            Self::Ru { .. } => "ru",
            Self::En { .. } => "en",
        }
    }

    pub fn one(&self) -> &'static str {
        match *self {
            Self::Ru { one, .. } | Self::En { one, .. } => one,
        }
    }

    /// English has no `few`: its `other`.
    pub fn few(&self) -> &'static str {
        match *self {
            Self::Ru { few, .. } => few,
            Self::En { other, .. } => other,
        }
    }

    pub fn many(&self) -> &'static str {
        match *self {
            Self::Ru { many, .. } => many,
            Self::En { other, .. } => other,
        }
    }
}
