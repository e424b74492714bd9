//! Password policy after NIST SP 800-63B: a length range, no composition
//! rules, and refusal of passwords that are common, repetitive or built from
//! the account holder's own data.
use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use strum::{EnumIter, EnumString, IntoStaticStr};

use crate::Token;
use crate::email::Email;
use crate::name::{PersonName, fold_for_comparison};
use crate::phone::PhoneNumber;

/// Length limits count Unicode characters (code points), not bytes.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Below this many estimated bits an acceptable password is
/// [`PasswordStrength::Medium`]; at or above it, [`PasswordStrength::Strong`].
pub const STRONG_PASSWORD_BITS: f64 = 45.0;

/// Names and e-mail names shorter than this are not searched for in the
/// password: two letters turn up in too many good passwords by chance.
const MIN_PERSONAL_CHARS: usize = 3;

/// The phone's last seven digits identify it as well as all ten do, and
/// people often leave out the operator code.
const PHONE_DIGITS_CHECKED: usize = 7;

/// The 10,000 most common passwords, lower-cased; see `data/README.md`.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});

/// Runs along which a password counts as a sequence, all lower-case. Each is
/// also checked backwards. The Cyrillic alphabet appears with and without
/// `ё` because people skip it when typing.
const SEQUENCES: &[&str] = &[
    "01234567890",
    "abcdefghijklmnopqrstuvwxyz",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "абвгдежзийклмнопрстуфхцчшщъыьэюя",
    "`1234567890-=",
    "~!@#$%^&*()_+",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "ё1234567890-=",
    "йцукенгшщзхъ\\",
    "фывапролджэ",
    "ячсмитьбю.",
];

/// What the account holder may know about, to keep out of the password.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordContext<'a> {
    pub surname: Option<&'a PersonName>,
    pub given_name: Option<&'a PersonName>,
    pub phone: Option<&'a PhoneNumber>,
    pub email: Option<&'a Email>,
}

/// Why a password is refused. Listed in [`PasswordAssessment::problems`] in
/// the order of this enum, each at most once.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error, IntoStaticStr, EnumString, EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum PasswordProblem {
    #[error("password is too short")]
    TooShort,
    #[error("password is too long")]
    TooLong,
    #[error("password is too common")]
    Common,
    #[error("password contains the phone number")]
    ContainsPhone,
    #[error("password contains the e-mail name")]
    ContainsEmailName,
    #[error("password contains the person's name")]
    ContainsName,
    #[error("password is a repetition or a sequence")]
    Repetitive,
    /// The portal's own name, give or take digits and punctuation: the
    /// first thing a guesser tries here.
    #[error("password is the service's name")]
    ServiceName,
    /// Contains the account's SNILS. Checked by the application against
    /// the account's blind index (the SNILS itself is not at hand), with
    /// the runs that [`eleven_digit_runs`] gives.
    #[error("password contains the SNILS")]
    ContainsSnils,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, IntoStaticStr, EnumString, EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum PasswordStrength {
    /// Has at least one [`PasswordProblem`]; refused.
    Weak,
    /// Acceptable, under [`STRONG_PASSWORD_BITS`] by [`estimated_bits`].
    Medium,
    /// Acceptable, at or over [`STRONG_PASSWORD_BITS`] by [`estimated_bits`].
    Strong,
}

impl fmt::Display for PasswordStrength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordAssessment {
    pub strength: PasswordStrength,
    pub problems: Vec<PasswordProblem>,
}

impl PasswordAssessment {
    pub fn is_acceptable(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks a password against the policy and estimates its strength.
///
/// The rules, each giving one [`PasswordProblem`]:
/// - `TooShort` / `TooLong`: fewer than [`MIN_PASSWORD_CHARS`] or more than
///   [`MAX_PASSWORD_CHARS`] Unicode characters.
/// - `Common`: among the 10,000 most common passwords, compared lower-cased.
/// - `ContainsPhone`: with whitespace and `-.()+` removed, the password
///   contains the last seven national digits of the phone.
/// - `ContainsEmailName`: the password contains the e-mail local part, if that
///   has at least three characters.
/// - `ContainsName`: the password contains the surname or given name, or one
///   of their parts between spaces, hyphens and apostrophes, if that has at
///   least three characters.
/// - `Repetitive`: the password has at least three characters and, compared
///   lower-cased, has fewer than three distinct characters (`aaaaaaa1`), is
///   one chunk repeated whole (`abcabcabc`), or is a run along the digits,
///   the Latin or Cyrillic alphabet or a Latin or Russian keyboard row,
///   forwards or backwards (`12345678`, `hgfedcba`, `qwertyui`, `йцукенгш`).
///
/// Containment is compared lower-cased, with `ё` read as `е` and `’` as `'`.
///
/// Any problem makes the password [`PasswordStrength::Weak`]; otherwise the
/// strength follows [`estimated_bits`] and [`STRONG_PASSWORD_BITS`].
pub fn assess_password(password: &str, ctx: &PasswordContext<'_>) -> PasswordAssessment {
    let problems = problems_of(password, ctx);
    let strength = if !problems.is_empty() {
        PasswordStrength::Weak
    } else if estimated_bits(password) < STRONG_PASSWORD_BITS {
        PasswordStrength::Medium
    } else {
        PasswordStrength::Strong
    };
    PasswordAssessment { strength, problems }
}

/// A rough, explainable estimate of a password's strength in bits. The
/// browser runs a copy of it to show strength while typing, so it must stay
/// exactly this:
///
/// 1. Take the password as Unicode code points (`Array.from(password)` in
///    JavaScript, not UTF-16 units).
/// 2. The charset size is the sum of the sizes of the classes present:
///    - ASCII digits `0`–`9`: 10
///    - Latin lower-case `a`–`z`: 26
///    - Latin upper-case `A`–`Z`: 26
///    - Cyrillic lower-case `а`–`я` (U+0430–U+044F) and `ё` (U+0451): 33
///    - Cyrillic upper-case `А`–`Я` (U+0410–U+042F) and `Ё` (U+0401): 33
///    - every other code point, together: 33
///
///    An upper-case letter (of either alphabet) as the first code point does
///    not make its class present; one anywhere else does. Capitalising the
///    first letter is what nearly everyone does, so guessers try it first.
/// 3. The effective length counts each code point 1 the first time it
///    occurs and 0.5 every further time the same code point occurs
///    (case-sensitive).
/// 4. bits = effective length × log2(charset size), and 0 when the charset
///    size is 0 (the empty password, or one upper-case letter).
///
/// For example `Tr0ub4dor`: classes lower-case Latin and digits, charset 36;
/// effective length 8.5 (the second `r` counts 0.5); 8.5 × log2 36 ≈ 43.9.
/// `correct horse`: lower-case Latin and other (the space), charset 59;
/// effective length 10.5; ≈ 61.8.
pub fn estimated_bits(password: &str) -> f64 {
    let mut digits = false;
    let mut latin_lower = false;
    let mut latin_upper = false;
    let mut cyrillic_lower = false;
    let mut cyrillic_upper = false;
    let mut other = false;
    let mut seen = HashSet::new();
    let mut effective_length = 0.0;
    for (position, c) in password.chars().enumerate() {
        match c {
            '0'..='9' => digits = true,
            'a'..='z' => latin_lower = true,
            'A'..='Z' => latin_upper |= position > 0,
            'а'..='я' | 'ё' => cyrillic_lower = true,
            'А'..='Я' | 'Ё' => cyrillic_upper |= position > 0,
            _ => other = true,
        }
        effective_length += if seen.insert(c) { 1.0 } else { 0.5 };
    }
    let charset: u32 = [
        (digits, 10),
        (latin_lower, 26),
        (latin_upper, 26),
        (cyrillic_lower, 33),
        (cyrillic_upper, 33),
        (other, 33),
    ]
    .iter()
    .filter(|(present, _)| *present)
    .map(|(_, size)| size)
    .sum();
    if charset == 0 {
        return 0.0;
    }
    effective_length * f64::from(charset).log2()
}

fn problems_of(password: &str, ctx: &PasswordContext<'_>) -> Vec<PasswordProblem> {
    let mut problems = Vec::new();
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        problems.push(PasswordProblem::TooShort);
    }
    if length > MAX_PASSWORD_CHARS {
        problems.push(PasswordProblem::TooLong);
    }
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.contains(lower.as_str()) {
        problems.push(PasswordProblem::Common);
    }
    if ctx
        .phone
        .is_some_and(|phone| contains_phone(password, phone))
    {
        problems.push(PasswordProblem::ContainsPhone);
    }
    let folded = fold_for_comparison(password);
    if ctx
        .email
        .is_some_and(|email| contains_email_name(&folded, email))
    {
        problems.push(PasswordProblem::ContainsEmailName);
    }
    if [ctx.surname, ctx.given_name]
        .into_iter()
        .flatten()
        .any(|name| contains_name(&folded, name))
    {
        problems.push(PasswordProblem::ContainsName);
    }
    if is_repetitive(&lower) {
        problems.push(PasswordProblem::Repetitive);
    }
    if is_service_name(&folded) {
        problems.push(PasswordProblem::ServiceName);
    }
    problems
}

/// The names this portal goes by, in both alphabets.
const SERVICE_NAMES: &[&str] = &[
    "uslugi",
    "gosuslugi",
    "услуги",
    "госуслуги",
    "esia",
    "есиа",
    "gosuslugiru",
    "госуслугиру",
];

/// The password's letters alone (digits, spaces and punctuation dropped)
/// are one of the service's names: `Gosuslugi2026!`, `госуслуги.ру`.
fn is_service_name(folded_password: &str) -> bool {
    let letters: String = folded_password
        .chars()
        .filter(|c| c.is_alphabetic())
        .collect();
    SERVICE_NAMES.contains(&letters.as_str())
}

/// Every run of eleven digits in the password once spaces and `-.()+` are
/// dropped: what a SNILS typed into a password looks like.
pub fn eleven_digit_runs(password: &str) -> Vec<String> {
    let digits: Vec<char> = password
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '(' | ')' | '+'))
        .collect();
    digits
        .windows(11)
        .filter(|w| w.iter().all(char::is_ascii_digit))
        .map(|w| w.iter().collect())
        .collect()
}

fn contains_phone(password: &str, phone: &PhoneNumber) -> bool {
    let national = phone.national_digits();
    let tail = &national[national.len() - PHONE_DIGITS_CHECKED..];
    let squeezed: String = password
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '(' | ')' | '+'))
        .collect();
    squeezed.contains(tail)
}

fn contains_email_name(folded_password: &str, email: &Email) -> bool {
    let local = fold_for_comparison(email.local_part());
    local.chars().count() >= MIN_PERSONAL_CHARS && folded_password.contains(&local)
}

fn contains_name(folded_password: &str, name: &PersonName) -> bool {
    let whole = name.normalized_for_comparison();
    std::iter::once(whole.as_str())
        .chain(whole.split([' ', '-', '\'']))
        .filter(|part| part.chars().count() >= MIN_PERSONAL_CHARS)
        .any(|part| folded_password.contains(part))
}

/// Expects the password lower-cased.
fn is_repetitive(lower: &str) -> bool {
    let chars: Vec<char> = lower.chars().collect();
    if chars.len() < 3 {
        return false;
    }
    let distinct: HashSet<char> = chars.iter().copied().collect();
    if distinct.len() < 3 {
        return true;
    }
    let repeats_a_chunk = (1..=chars.len() / 2)
        .filter(|period| chars.len().is_multiple_of(*period))
        .any(|period| {
            chars
                .iter()
                .zip(chars.iter().cycle().skip(period))
                .all(|(a, b)| a == b)
        });
    if repeats_a_chunk {
        return true;
    }
    let reversed: String = chars.iter().rev().collect();
    SEQUENCES
        .iter()
        .any(|sequence| sequence.contains(lower) || sequence.contains(&reversed))
}

/// A password that meets the policy, ready to be hashed. It never prints
/// itself: there is no `Display`, and `Debug` shows `NewPassword(***)`.
pub struct NewPassword(String);

impl NewPassword {
    /// Accepts the password exactly as typed, without trimming or other
    /// changes, so that it matches at login; otherwise returns every problem.
    pub fn parse(password: &str, ctx: &PasswordContext<'_>) -> Result<Self, Vec<PasswordProblem>> {
        let problems = problems_of(password, ctx);
        if problems.is_empty() {
            Ok(Self(password.to_owned()))
        } else {
            Err(problems)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use crate::Token;

    // The codes name the form errors in the API and the pages' texts.
    #[test]
    fn problem_and_strength_codes_are_fixed() {
        assert_eq!(
            PasswordProblem::forms(),
            [
                "too_short",
                "too_long",
                "common",
                "contains_phone",
                "contains_email_name",
                "contains_name",
                "repetitive",
                "service_name",
                "contains_snils"
            ]
        );
        assert_eq!(PasswordStrength::forms(), ["weak", "medium", "strong"]);
    }

    use super::*;

    #[test]
    fn the_services_name_is_no_password() {
        for p in [
            "Gosuslugi2026!",
            "госуслуги.ру",
            "USLUGI 12345",
            "Госуслуги 1234",
        ] {
            assert!(
                assess_password(p, &NO_CONTEXT)
                    .problems
                    .contains(&PasswordProblem::ServiceName),
                "{p}"
            );
        }
        assert!(
            !assess_password("мои госуслуги в порядке", &NO_CONTEXT)
                .problems
                .contains(&PasswordProblem::ServiceName)
        );
    }

    #[test]
    fn runs_of_eleven_digits_are_found_through_separators() {
        assert_eq!(eleven_digit_runs("мой 112-233-445 95!"), ["11223344595"]);
        assert_eq!(eleven_digit_runs("1234567890123").len(), 3);
        assert!(eleven_digit_runs("12345 abc 67890").is_empty());
    }
    use proptest::prelude::*;

    const NO_CONTEXT: PasswordContext<'static> = PasswordContext {
        surname: None,
        given_name: None,
        phone: None,
        email: None,
    };

    fn problems(password: &str) -> Vec<PasswordProblem> {
        assess_password(password, &NO_CONTEXT).problems
    }

    /// A long text without repetition of a chunk, to cut test passwords from.
    const PROSE: &str = "Съешь же ещё этих мягких французских булок, да выпей чаю! \
        The quick brown fox jumps over the lazy dog; 1984 & 2024 — Pack my box \
        with five dozen liquor jugs. Широкая электрификация южных губерний даст \
        мощный толчок подъёму сельского хозяйства.";

    fn prose(chars: usize) -> String {
        let text: String = PROSE.chars().take(chars).collect();
        assert_eq!(text.chars().count(), chars);
        text
    }

    #[test]
    fn the_common_list_is_loaded() {
        assert_eq!(COMMON_PASSWORDS.len(), 10_000);
        assert!(COMMON_PASSWORDS.iter().all(|p| *p == p.to_lowercase()));
    }

    #[test]
    fn refuses_common_passwords_in_any_case() {
        for password in [
            "password",
            "qwerty123",
            "12345678",
            "PassWord",
            "QWERTY123",
            "iloveyou",
            "Sunshine",
        ] {
            assert!(
                problems(password).contains(&PasswordProblem::Common),
                "{password}"
            );
            assert_eq!(
                assess_password(password, &NO_CONTEXT).strength,
                PasswordStrength::Weak
            );
        }
    }

    #[test]
    fn length_limits() {
        assert_eq!(problems("kw7#Rt2m"), vec![]);
        assert_eq!(problems("kw7#Rt2"), vec![PasswordProblem::TooShort]);
        assert_eq!(problems(""), vec![PasswordProblem::TooShort]);
        assert_eq!(problems(&prose(8)), vec![]);
        assert_eq!(problems(&prose(64)), vec![]);
        assert_eq!(problems(&prose(128)), vec![]);
        assert_eq!(problems(&prose(129)), vec![PasswordProblem::TooLong]);
        assert_eq!(problems(&prose(7)), vec![PasswordProblem::TooShort]);
        // Characters, not bytes: eight Cyrillic letters are sixteen bytes.
        assert_eq!(problems("мягкобу"), vec![PasswordProblem::TooShort]);
        assert_eq!(problems("мягкобул"), vec![]);
    }

    #[test]
    fn refuses_personal_data() {
        let phone = PhoneNumber::parse("+7 (925) 391-02-02").unwrap();
        let email = Email::parse("Ivan.Petrov@mail.ru").unwrap();
        let surname = PersonName::parse("Ёлкин-Палкин").unwrap();
        let given_name = PersonName::parse("Артём").unwrap();
        let ctx = PasswordContext {
            surname: Some(&surname),
            given_name: Some(&given_name),
            phone: Some(&phone),
            email: Some(&email),
        };
        let check = |password: &str| assess_password(password, &ctx).problems;

        assert_eq!(check("kotik3910202"), vec![PasswordProblem::ContainsPhone]);
        assert_eq!(
            check("moi 391-02-02!"),
            vec![PasswordProblem::ContainsPhone]
        );
        assert_eq!(
            check("+7(925)391-02-02"),
            vec![PasswordProblem::ContainsPhone]
        );
        assert_eq!(
            check("zvonite 39102 02"),
            vec![PasswordProblem::ContainsPhone]
        );
        assert_eq!(check("kotik391020"), vec![]);

        assert_eq!(
            check("IVAN.petrov!2024"),
            vec![PasswordProblem::ContainsEmailName]
        );
        assert_eq!(check("ivanpetrov!2024"), vec![]);

        assert_eq!(
            check("елкин-палкин-1999"),
            vec![PasswordProblem::ContainsName]
        );
        assert_eq!(
            check("ПАЛКИН и сыновья"),
            vec![PasswordProblem::ContainsName]
        );
        assert_eq!(check("мойАртем2000"), vec![PasswordProblem::ContainsName]);
        assert_eq!(check("моя ёлка 2000"), vec![]);

        assert_eq!(
            check("елкин 3910202 ivan.petrov"),
            vec![
                PasswordProblem::ContainsPhone,
                PasswordProblem::ContainsEmailName,
                PasswordProblem::ContainsName
            ]
        );
    }

    #[test]
    fn short_personal_data_is_not_searched() {
        let email = Email::parse("ab@mail.ru").unwrap();
        let given_name = PersonName::parse("Ян").unwrap();
        let ctx = PasswordContext {
            given_name: Some(&given_name),
            email: Some(&email),
            ..PasswordContext::default()
        };
        assert_eq!(assess_password("янтарный ab закат", &ctx).problems, vec![]);
    }

    #[test]
    fn refuses_repetitions_and_sequences() {
        for password in [
            "aaaaaaaaaa",
            "ZZZZZZZZZ",
            "1111111112",
            "ababababab",
            "abcabcabc",
            "QwE1qWe1",
            "passwordpassword",
            "abcdefghi",
            "ihgfedcba",
            "012345678",
            "98765432",
            "qwertyuio",
            "ASDFGHJKL",
            "йцукенгш",
            "абвгдеёж",
            "абвгдежз",
            "фывапрол",
        ] {
            assert!(
                problems(password).contains(&PasswordProblem::Repetitive),
                "{password}"
            );
        }
        for password in ["abcdefgz", "qwertyuz", "kw7#Rt2m", "Tr0ub4dor"] {
            assert!(
                !problems(password).contains(&PasswordProblem::Repetitive),
                "{password}"
            );
        }
    }

    #[test]
    fn strength() {
        let strength = |password: &str| assess_password(password, &NO_CONTEXT).strength;
        assert_eq!(strength("Tr0ub4dor"), PasswordStrength::Medium);
        assert_eq!(strength("correct horse"), PasswordStrength::Strong);
        assert_eq!(
            strength("correct horse battery staple"),
            PasswordStrength::Strong
        );
        assert_eq!(strength("73915284"), PasswordStrength::Medium);
        assert_eq!(strength("xK9$mQ2p"), PasswordStrength::Strong);
        assert_eq!(strength("password"), PasswordStrength::Weak);
        assert_eq!(PasswordStrength::Strong.as_str(), "strong");
        assert_eq!(PasswordStrength::Medium.to_string(), "medium");
        assert_eq!(PasswordStrength::Weak.as_str(), "weak");
    }

    #[test]
    fn estimate_matches_its_documentation() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(estimated_bits(""), 0.0));
        assert!(close(estimated_bits("A"), 0.0));
        assert!(close(estimated_bits("Tr0ub4dor"), 8.5 * 36f64.log2()));
        assert!(close(estimated_bits("correct horse"), 10.5 * 59f64.log2()));
        // An upper-case letter past the first position brings its class in.
        // `R` and `r` are different code points, so neither is a repeat.
        assert!(close(estimated_bits("tR0ub4dor"), 9.0 * 62f64.log2()));
        assert!(close(estimated_bits("Пароль"), 6.0 * 33f64.log2()));
        assert!(close(estimated_bits("пАроль"), 6.0 * 66f64.log2()));
        // Other code points share one class of 33; ѣ is outside а–я.
        assert!(close(estimated_bits("ѣ€ "), 3.0 * 33f64.log2()));
        assert!(close(
            estimated_bits("aaAA"),
            (1.0 + 0.5 + 1.0 + 0.5) * 52f64.log2()
        ));
    }

    #[test]
    fn new_password_keeps_the_secret_out_of_debug() {
        let password = NewPassword::parse("  kw7#Rt2m ", &NO_CONTEXT).unwrap();
        assert_eq!(password.expose(), "  kw7#Rt2m ");
        assert_eq!(format!("{password:?}"), "NewPassword(***)");
        assert_eq!(
            NewPassword::parse("password", &NO_CONTEXT).unwrap_err(),
            vec![PasswordProblem::Common]
        );
        assert_eq!(
            NewPassword::parse("aaaa", &NO_CONTEXT).unwrap_err(),
            vec![PasswordProblem::TooShort, PasswordProblem::Repetitive]
        );
    }

    #[test]
    fn problem_codes_are_distinct() {
        use PasswordProblem::*;
        let all = [
            TooShort,
            TooLong,
            Common,
            ContainsPhone,
            ContainsEmailName,
            ContainsName,
            Repetitive,
        ];
        let codes: HashSet<&str> = all.iter().map(|p| p.as_str()).collect();
        assert_eq!(codes.len(), all.len());
    }

    fn large_alphabet() -> Vec<char> {
        ('!'..='~')
            .chain('а'..='я')
            .chain('А'..='Я')
            .chain("ёЁ €ßéüłж✓".chars())
            .collect()
    }

    proptest! {
        #[test]
        fn random_passwords_from_a_large_alphabet_are_acceptable(
            chars in proptest::collection::vec(proptest::sample::select(large_alphabet()), 8..=64),
        ) {
            let password: String = chars.into_iter().collect();
            let assessment = assess_password(&password, &NO_CONTEXT);
            prop_assert!(assessment.is_acceptable(), "{password:?}: {:?}", assessment.problems);
            prop_assert_ne!(assessment.strength, PasswordStrength::Weak);
            let accepted = NewPassword::parse(&password, &NO_CONTEXT).unwrap();
            prop_assert_eq!(accepted.expose(), password.as_str());
        }

        #[test]
        fn assess_never_panics(password in any::<String>(), other in ".{0,200}") {
            let phone = PhoneNumber::parse("89253910202").unwrap();
            let email = Email::parse("x.y.z@example.org").unwrap();
            let name = PersonName::parse("Мария-Луиза").unwrap();
            let ctx = PasswordContext {
                surname: Some(&name),
                given_name: Some(&name),
                phone: Some(&phone),
                email: Some(&email),
            };
            for candidate in [&password, &other] {
                let assessment = assess_password(candidate, &ctx);
                prop_assert_eq!(assessment.is_acceptable(), assessment.strength != PasswordStrength::Weak);
                prop_assert!(estimated_bits(candidate).is_finite());
            }
        }
    }
}
