//! The rules that refuse a password: length, the common list, the account
//! holder's own data, repetitions and sequences, the service's name.
use std::collections::HashSet;
use std::sync::LazyLock;

use super::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PasswordContext, PasswordProblem};
use crate::email::Email;
use crate::name::{PersonName, fold_for_comparison};
use crate::phone::PhoneNumber;

/// Names and e-mail names shorter than this are not searched for in the
/// password: two letters turn up in too many good passwords by chance.
const MIN_PERSONAL_CHARS: usize = 3;

/// The phone's last seven digits identify it as well as all ten do, and
/// people often leave out the operator code.
const PHONE_DIGITS_CHECKED: usize = 7;

/// The 10,000 most common passwords, lower-cased; see `data/README.md`.
pub(super) static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
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

pub(super) fn problems_of(password: &str, ctx: &PasswordContext<'_>) -> Vec<PasswordProblem> {
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
    let digits: Vec<char> = without_separators(password).collect();
    digits
        .windows(11)
        .filter(|w| w.iter().all(char::is_ascii_digit))
        .map(|w| w.iter().collect())
        .collect()
}

/// The password without whitespace and `-.()+`: what people type between
/// the digits of a phone number or a SNILS.
fn without_separators(password: &str) -> impl Iterator<Item = char> + '_ {
    password
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '(' | ')' | '+'))
}

fn contains_phone(password: &str, phone: &PhoneNumber) -> bool {
    let national = phone.national_digits();
    let tail = &national[national.len() - PHONE_DIGITS_CHECKED..];
    let squeezed: String = without_separators(password).collect();
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
