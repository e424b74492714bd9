/// The languages of the interface and of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl Lang {
    pub const fn code(self) -> &'static str {
        match self {
            Self::Ru => "ru",
            Self::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ru" => Some(Self::Ru),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// Picks the first language of an `Accept-Language` header we speak,
    /// honouring q-values; Russian when none fits.
    pub fn from_accept_language(header: &str) -> Self {
        let mut best: Option<(f32, Self)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("");
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Self::parse(primary)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_is_honoured() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("ru-RU,ru;q=0.9,en;q=0.8"),
            Lang::Ru
        );
        assert_eq!(
            Lang::from_accept_language("de-DE,en;q=0.5,ru;q=0.7"),
            Lang::Ru
        );
        assert_eq!(Lang::from_accept_language("fr"), Lang::Ru);
        assert_eq!(Lang::from_accept_language(""), Lang::Ru);
        assert_eq!(Lang::from_accept_language("en;q=0"), Lang::Ru);
    }
}
