//! Breaking text into lines: tidying, greedy wrap, abbreviations kept with
//! what they abbreviate, long words broken where a person would.

/// Control characters would print as boxes; runs of spaces would look like
/// missing words.
pub(super) fn clean(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    spaced
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Greedy word wrap at spaces; a word longer than the line (a URL, a long
/// compound name) is broken between characters rather than let out of the margin.
pub(super) fn wrap(measure: &dyn Fn(&str) -> f32, text: &str, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in &glued_words(text) {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if measure(&candidate) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word.as_str();
        while measure(rest) > width {
            let cut = longest_fitting_prefix(measure, rest, width);
            lines.push(rest[..cut].to_owned());
            rest = &rest[cut..];
        }
        line = rest.to_owned();
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Words, with an abbreviation kept on the line of what it abbreviates
/// («кв. 2», «д. 117», «г. Калуга», «№ 5»), as Russian typesetting does.
fn glued_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut glue_next = false;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        match out.last_mut() {
            Some(last) if glue_next => {
                last.push(' ');
                last.push_str(word);
            }
            _ => out.push(word.to_owned()),
        }
        glue_next = word == "№" || (word.ends_with('.') && word.chars().count() <= 4);
    }
    out
}

/// Byte length of the longest prefix within `width`, at least one character so
/// that wrapping always advances; a double surname or a URL breaks after its
/// last hyphen or slash that fits, as a person would break it.
fn longest_fitting_prefix(measure: &dyn Fn(&str) -> f32, text: &str, width: f32) -> usize {
    let mut ends = text.char_indices().map(|(i, c)| i + c.len_utf8());
    let first = ends.next().unwrap_or(0);
    let mut best = first;
    for end in ends {
        if measure(&text[..end]) > width {
            break;
        }
        best = end;
    }
    match text[..best].rfind(['-', '/']) {
        Some(at) if at > 0 && at + 1 < best => at + 1,
        _ => best,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_then_inside_words() {
        let measure = |s: &str| s.chars().count() as f32;
        assert_eq!(wrap(&measure, "один два три", 8.0), vec!["один два", "три"]);
        assert_eq!(
            wrap(&measure, "абвгдежзий", 4.0),
            vec!["абвг", "дежз", "ий"]
        );
        assert_eq!(wrap(&measure, "", 4.0), Vec::<String>::new());
        // Narrower than one character still advances.
        assert_eq!(wrap(&measure, "аб", 0.5), vec!["а", "б"]);
        assert_eq!(
            wrap(&measure, "ул. Мира, д. 1, кв. 20", 15.0),
            vec!["ул. Мира, д. 1,", "кв. 20"]
        );
        assert_eq!(
            wrap(&measure, "Римская-Корсакова", 12.0),
            vec!["Римская-", "Корсакова"]
        );
        assert_eq!(
            wrap(&measure, "https://a.ru/me/identity", 16.0),
            vec!["https://a.ru/me/", "identity"]
        );
        assert_eq!(clean("a\n\tb   c"), "a b c");
    }
}
