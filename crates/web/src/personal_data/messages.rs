//! What the personal data's forms say: each field's label, each problem's
//! message, and the error summary above a form (the console's too).
use uslugi_domain::{FieldProblem, Problem, SnilsError, TextProblem};

use crate::error::FieldErrors;
use crate::i18n::Tr;

/// The fields of the form, in its order, with their labels.
pub(crate) fn labels(t: &Tr) -> [(&'static str, &'static str); 13] {
    let p = t.pd;
    [
        ("surname", t.surname),
        ("given_name", t.given_name),
        ("patronymic", p.patronymic),
        ("sex", p.sex),
        ("birth_date", p.birth_date),
        ("birth_place", p.birth_place),
        ("snils", p.snils),
        ("citizenship", p.citizenship),
        ("document.type", p.document_type),
        ("document.series_number", p.series_number),
        ("document.issue_date", p.issue_date),
        ("document.issued_by", p.issued_by),
        ("document.department_code", p.department_code),
    ]
}

pub(crate) fn address_label(t: &Tr, field: &str) -> &'static str {
    let p = t.pd;
    match field.rsplit('.').next().unwrap_or(field) {
        "postal_code" => p.postal_code,
        "region" => p.region,
        "locality" => p.locality,
        "street" => p.street,
        "house" => p.house,
        "building" => p.building,
        _ => p.flat,
    }
}

/// A field's length limit as the count a plural form is chosen by.
fn count(max: usize) -> i64 {
    i64::try_from(max).unwrap_or(i64::MAX)
}

pub fn problem_message(t: &Tr, problem: &Problem) -> String {
    let p = t.pd;
    match problem {
        Problem::Missing => p.err_required.to_owned(),
        Problem::TooLong { max } => p.err_too_long.fill(count(*max)),
        Problem::Text(TextProblem::Empty) => p.err_required.to_owned(),
        Problem::Text(TextProblem::TooLong { max }) => p.err_too_long.fill(count(*max)),
        Problem::Text(_) => p.err_text.to_owned(),
        Problem::Name(e) => t.name_error(*e).to_owned(),
        Problem::Snils(SnilsError::Empty) => p.err_required.to_owned(),
        Problem::Snils(SnilsError::InvalidCharacters) => p.err_snils_characters.to_owned(),
        Problem::Snils(SnilsError::WrongLength) => p.err_snils_length.to_owned(),
        Problem::Snils(SnilsError::CheckNumberMismatch) => p.err_snils_check.to_owned(),
        Problem::UnknownSex => p.err_sex.to_owned(),
        Problem::UnsupportedCitizenship => p.err_citizenship.to_owned(),
        Problem::UnsupportedDocument => p.err_document.to_owned(),
        Problem::PassportFormat => p.err_passport.to_owned(),
        Problem::DepartmentCodeFormat => p.err_department_code.to_owned(),
        Problem::PostalCodeFormat => p.err_postal_code.to_owned(),
        Problem::DateFormat => p.err_date.to_owned(),
        Problem::BirthDateInFuture => p.err_birth_future.to_owned(),
        Problem::TooYoung => p.err_too_young.to_owned(),
        Problem::IssueDateInFuture => p.err_issue_future.to_owned(),
        Problem::IssuedBeforeFourteen => p.err_issued_before_14.to_owned(),
    }
}

pub fn field_errors(t: &Tr, problems: &[FieldProblem]) -> FieldErrors {
    problems
        .iter()
        .map(|fp| (fp.field.to_owned(), problem_message(t, &fp.problem)))
        .collect()
}

/// The error summary: form order, each message led by its field's label.
pub(crate) fn summary(
    t: &Tr,
    errors: &FieldErrors,
    order: &[(&'static str, &'static str)],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = order
        .iter()
        .filter_map(|(field, label)| {
            errors
                .get(*field)
                .map(|m| ((*field).to_owned(), format!("{label}: {m}")))
        })
        .collect();
    for (field, message) in errors {
        if !order.iter().any(|(f, _)| f == field) {
            let label = if field.starts_with("registration.")
                || field.starts_with("actual.")
                || field.starts_with("address.")
            {
                address_label(t, field)
            } else {
                ""
            };
            let text = if label.is_empty() {
                message.clone()
            } else {
                format!("{label}: {message}")
            };
            out.push((field.clone(), text));
        }
    }
    out
}
