//! The estimate of a password's strength in bits that the browser repeats.
use std::collections::HashSet;

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
