//! E-mail addresses, a contact and login.
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

const MAX_ADDRESS_LEN: usize = 254;
const MAX_LOCAL_PART_LEN: usize = 64;
const MAX_LABEL_LEN: usize = 63;

/// An e-mail address: the local part as typed, the domain lower-cased.
///
/// Two addresses are equal when they differ only in case: mail providers
/// treat the local part without case, and one person must not be able to
/// register `Ivan@mail.ru` next to `ivan@mail.ru`.
#[derive(Debug, Clone)]
pub struct Email {
    address: String,
    at: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum EmailError {
    #[error("e-mail address is empty")]
    Empty,
    #[error("e-mail address has no @")]
    MissingAt,
    #[error("e-mail address has an invalid local part")]
    InvalidLocalPart,
    #[error("e-mail address has an invalid domain")]
    InvalidDomain,
    #[error("e-mail address is too long")]
    TooLong,
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(EmailError::Empty);
        }
        // Split at the last @ so that a second @ is blamed on the local part,
        // where it would have to be quoted, and the domain is still judged.
        let Some((local, domain)) = input.rsplit_once('@') else {
            return Err(EmailError::MissingAt);
        };
        if input.len() > MAX_ADDRESS_LEN {
            return Err(EmailError::TooLong);
        }
        if !is_valid_local_part(local) {
            return Err(EmailError::InvalidLocalPart);
        }
        let domain = domain.to_ascii_lowercase();
        if !is_valid_domain(&domain) {
            return Err(EmailError::InvalidDomain);
        }
        Ok(Self {
            address: format!("{local}@{domain}"),
            at: local.len(),
        })
    }

    /// The address as normalised: local part as typed, domain lower-cased.
    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The whole address lower-cased, for comparisons and lookups.
    pub fn canonical(&self) -> String {
        self.address.to_ascii_lowercase()
    }

    pub fn local_part(&self) -> &str {
        &self.address[..self.at]
    }

    pub fn domain(&self) -> &str {
        &self.address[self.at + 1..]
    }

    /// `iv***@mail.ru`: two characters of the local part, one if it has
    /// three or fewer, so that a short local part is not shown whole.
    pub fn masked(&self) -> String {
        let local = self.local_part();
        let shown = if local.len() > 3 { 2 } else { 1 };
        format!("{}***@{}", &local[..shown], self.domain())
    }
}

/// Dot-atom text of RFC 5322: the printable ASCII that needs no quoting.
/// The specials it leaves out (`,;<>()[]\":` and `@`) would otherwise let one
/// address read as several recipients or as a display name in a mail header.
fn is_valid_local_part(local: &str) -> bool {
    let is_atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b);
    (1..=MAX_LOCAL_PART_LEN).contains(&local.len())
        && local.bytes().all(is_atext)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
}

/// Expects the domain lower-cased already.
fn is_valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let Some(tld) = labels.last() else {
        return false;
    };
    let label_ok = |label: &&str| {
        (1..=MAX_LABEL_LEN).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let tld_ok = (tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_lowercase()))
        || (tld.starts_with("xn--") && tld.len() > 4);
    labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.address.eq_ignore_ascii_case(&other.address)
    }
}

impl Eq for Email {}

impl Hash for Email {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Must agree with `eq`, which ignores ASCII case; the address is
        // ASCII only, so hashing the lower-cased bytes is enough.
        for byte in self.address.bytes() {
            state.write_u8(byte.to_ascii_lowercase());
        }
        state.write_u8(0xff);
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}

impl FromStr for Email {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash_of(email: &Email) -> u64 {
        let mut hasher = DefaultHasher::new();
        email.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn normalises_the_domain_only() {
        let email = Email::parse("  Ivan.Petrov+uslugi@Mail.RU \n").unwrap();
        assert_eq!(email.as_str(), "Ivan.Petrov+uslugi@mail.ru");
        assert_eq!(email.to_string(), "Ivan.Petrov+uslugi@mail.ru");
        assert_eq!(email.local_part(), "Ivan.Petrov+uslugi");
        assert_eq!(email.domain(), "mail.ru");
        assert_eq!(email.canonical(), "ivan.petrov+uslugi@mail.ru");
        assert_eq!(email, Email::parse("ivan.petrov+USLUGI@mail.ru").unwrap());
        assert_ne!(email, Email::parse("ivan.petrov@mail.ru").unwrap());
    }

    #[test]
    fn accepts_real_addresses() {
        for input in [
            "a@b.ru",
            "ivan_petrov-1985@yandex.ru",
            "o'brien@example.co.uk",
            "user@xn--80ajghhoc2aj1c8b.xn--p1ai",
            "x@sub-domain.example.travel",
            "first.last@123.example.com",
        ] {
            assert!(Email::parse(input).is_ok(), "{input}");
        }
    }

    #[test]
    fn refuses_malformed_addresses() {
        use EmailError::*;
        for (input, error) in [
            ("", Empty),
            ("   ", Empty),
            ("ivan.mail.ru", MissingAt),
            ("@mail.ru", InvalidLocalPart),
            ("iv an@mail.ru", InvalidLocalPart),
            (".ivan@mail.ru", InvalidLocalPart),
            ("ivan.@mail.ru", InvalidLocalPart),
            ("iv..an@mail.ru", InvalidLocalPart),
            ("ivan@petrov@mail.ru", InvalidLocalPart),
            ("иван@mail.ru", InvalidLocalPart),
            ("a,b@mail.ru", InvalidLocalPart),
            ("<a>@mail.ru", InvalidLocalPart),
            ("\"a b\"@mail.ru", InvalidLocalPart),
            ("ivan@", InvalidDomain),
            ("ivan@mail", InvalidDomain),
            ("ivan@mail.", InvalidDomain),
            ("ivan@.mail.ru", InvalidDomain),
            ("ivan@mail..ru", InvalidDomain),
            ("ivan@-mail.ru", InvalidDomain),
            ("ivan@mail-.ru", InvalidDomain),
            ("ivan@mail_box.ru", InvalidDomain),
            ("ivan@mail.r", InvalidDomain),
            ("ivan@mail.r2", InvalidDomain),
            ("ivan@mail.123", InvalidDomain),
            ("ivan@xn--.ru.xn--", InvalidDomain),
            ("ivan@почта.рф", InvalidDomain),
            ("ivan@[127.0.0.1]", InvalidDomain),
        ] {
            assert_eq!(Email::parse(input), Err(error), "{input}");
        }
    }

    #[test]
    fn length_limits() {
        let local64 = "a".repeat(64);
        assert!(Email::parse(&format!("{local64}@mail.ru")).is_ok());
        assert_eq!(
            Email::parse(&format!("{local64}a@mail.ru")),
            Err(EmailError::InvalidLocalPart)
        );
        let label63 = "b".repeat(63);
        assert!(Email::parse(&format!("a@{label63}.ru")).is_ok());
        assert_eq!(
            Email::parse(&format!("a@{label63}b.ru")),
            Err(EmailError::InvalidDomain)
        );
        // 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254.
        let longest = format!("{local64}@{label63}.{label63}.{}", "c".repeat(61));
        assert_eq!(longest.len(), 254);
        assert!(Email::parse(&longest).is_ok());
        assert_eq!(
            Email::parse(&format!("{longest}c")),
            Err(EmailError::TooLong)
        );
    }

    #[test]
    fn masking() {
        assert_eq!(
            Email::parse("ivan@mail.ru").unwrap().masked(),
            "iv***@mail.ru"
        );
        assert_eq!(
            Email::parse("Ivan.Petrov@Mail.ru").unwrap().masked(),
            "Iv***@mail.ru"
        );
        assert_eq!(
            Email::parse("ivn@mail.ru").unwrap().masked(),
            "i***@mail.ru"
        );
        assert_eq!(Email::parse("i@mail.ru").unwrap().masked(), "i***@mail.ru");
    }

    fn address() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_+'-]{1,20}(\\.[A-Za-z0-9_+-]{1,10}){0,2}@([a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\\.){1,3}(ru|com|org|xn--p1ai)"
    }

    fn flip_case(s: &str, flips: &[bool]) -> String {
        s.chars()
            .zip(flips.iter().cycle())
            .map(|(c, &flip)| match (flip, c.is_ascii_lowercase()) {
                (false, _) => c,
                (true, true) => c.to_ascii_uppercase(),
                (true, false) => c.to_ascii_lowercase(),
            })
            .collect()
    }

    proptest! {
        #[test]
        fn case_variants_are_equal(
            input in address(),
            flips in proptest::collection::vec(any::<bool>(), 1..8),
        ) {
            let a = Email::parse(&input).unwrap();
            let b = Email::parse(&flip_case(&input, &flips)).unwrap();
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(hash_of(&a), hash_of(&b));
            prop_assert_eq!(a.canonical(), b.canonical());
            prop_assert_eq!(a.domain(), b.domain());
        }

        #[test]
        fn surrounding_whitespace_is_ignored(
            input in address(),
            before in "[ \t\n]{0,3}",
            after in "[ \t\n]{0,3}",
        ) {
            let plain = Email::parse(&input).unwrap();
            let padded = Email::parse(&format!("{before}{input}{after}")).unwrap();
            prop_assert_eq!(plain.as_str(), padded.as_str());
        }

        #[test]
        fn display_reparses_to_an_equal_value(input in address()) {
            let email = Email::parse(&input).unwrap();
            let again = Email::parse(&email.to_string()).unwrap();
            prop_assert_eq!(again.as_str(), email.as_str());
            prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email.clone());
            prop_assert_eq!(email.canonical(), input.to_ascii_lowercase());
            prop_assert!(email.masked().ends_with(email.domain()));
        }

        #[test]
        fn never_panics(input in ".*") {
            if let Ok(email) = Email::parse(&input) {
                let _ = (email.masked(), email.canonical(), email.local_part(), email.domain());
            }
        }
    }
}
