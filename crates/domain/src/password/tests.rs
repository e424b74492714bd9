//! The password policy through its public face: every rule, the strength
//! estimate, and the secret kept out of `Debug`.
use std::collections::HashSet;

use proptest::prelude::*;

use super::rules::COMMON_PASSWORDS;
use super::*;
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
