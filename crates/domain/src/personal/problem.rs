//! Why a field of a form was refused, and the parsing helpers that name
//! the problem of each field in turn.
use crate::name::{NameError, PersonName};
use crate::snils::SnilsError;

use super::text::{FreeText, TextProblem};

/// Why a field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Missing,
    TooLong {
        max: usize,
    },
    Text(TextProblem),
    Name(NameError),
    Snils(SnilsError),
    UnknownSex,
    UnsupportedCitizenship,
    UnsupportedDocument,
    PassportFormat,
    DepartmentCodeFormat,
    PostalCodeFormat,
    /// Not a real date in `ДД.ММ.ГГГГ` or `ГГГГ-ММ-ДД`.
    DateFormat,
    BirthDateInFuture,
    /// Younger than [`MIN_AGE`](super::MIN_AGE) today.
    TooYoung,
    IssueDateInFuture,
    /// Issued before the 14th birthday.
    IssuedBeforeFourteen,
}

impl From<TextProblem> for Problem {
    fn from(p: TextProblem) -> Self {
        match p {
            TextProblem::Empty => Self::Missing,
            TextProblem::TooLong { max } => Self::TooLong { max },
            other => Self::Text(other),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub problem: Problem,
}

/// Collects the problems of a form, field by field.
pub(super) struct Problems(pub(super) Vec<FieldProblem>);

impl Problems {
    pub(super) fn take<T>(&mut self, field: &'static str, r: Result<T, Problem>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(problem) => {
                self.0.push(FieldProblem { field, problem });
                None
            }
        }
    }
}

pub(super) fn name(input: &str) -> Result<PersonName, Problem> {
    PersonName::parse(input).map_err(|e| match e {
        NameError::Empty => Problem::Missing,
        other => Problem::Name(other),
    })
}

pub(super) fn optional_name(input: &str) -> Result<Option<PersonName>, Problem> {
    if input.trim().is_empty() {
        Ok(None)
    } else {
        name(input).map(Some)
    }
}

pub(super) fn text(input: &str, max: usize) -> Result<FreeText, Problem> {
    FreeText::parse(input, max).map_err(Problem::from)
}

pub(super) fn optional_text(input: &str, max: usize) -> Result<Option<FreeText>, Problem> {
    if input.trim().is_empty() {
        Ok(None)
    } else {
        text(input, max).map(Some)
    }
}

pub(super) fn required<T>(
    input: &str,
    parse: impl FnOnce(&str) -> Result<T, Problem>,
) -> Result<T, Problem> {
    if input.trim().is_empty() {
        Err(Problem::Missing)
    } else {
        parse(input)
    }
}
