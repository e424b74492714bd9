//! The personal data form as typed, and its parsing into [`PersonalData`]
//! with every problem named at once.
use serde::{Deserialize, Serialize};
use time::Date;

use super::dates::{MIN_AGE, birthday, format_iso, parse_date};
use super::document::{DepartmentCode, DocumentType, IdentityDocument, PassportNumber};
use super::person::{Citizenship, PersonalData, Sex};
use super::problem::{FieldProblem, Problem, Problems, name, optional_name, required, text};
use super::text::{MAX_AUTHORITY, MAX_PLACE};
use crate::snils::{Snils, SnilsError};

/// The entries of the personal data form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PersonalDataForm {
    pub surname: String,
    pub given_name: String,
    pub patronymic: String,
    pub sex: String,
    pub birth_date: String,
    pub birth_place: String,
    pub snils: String,
    pub citizenship: String,
    pub document: DocumentForm,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocumentForm {
    #[serde(rename = "type")]
    pub kind: String,
    pub series_number: String,
    pub issue_date: String,
    pub issued_by: String,
    pub department_code: String,
}

impl PersonalDataForm {
    /// Every problem at once, one per field at most, in the form's order.
    pub fn parse(&self, today: Date) -> Result<PersonalData, Vec<FieldProblem>> {
        let mut p = Problems(Vec::new());
        let surname = p.take("surname", name(&self.surname));
        let given_name = p.take("given_name", name(&self.given_name));
        let patronymic = p.take("patronymic", optional_name(&self.patronymic));
        let sex = p.take(
            "sex",
            required(&self.sex, |s| Sex::parse(s).ok_or(Problem::UnknownSex)),
        );
        let birth_date = p.take(
            "birth_date",
            parse_date(&self.birth_date).and_then(|d| {
                if d >= today {
                    Err(Problem::BirthDateInFuture)
                } else if birthday(d, MIN_AGE).is_none_or(|b| b > today) {
                    Err(Problem::TooYoung)
                } else {
                    Ok(d)
                }
            }),
        );
        let birth_place = p.take("birth_place", text(&self.birth_place, MAX_PLACE));
        let snils = p.take(
            "snils",
            Snils::parse(&self.snils).map_err(|e| match e {
                SnilsError::Empty => Problem::Missing,
                other => Problem::Snils(other),
            }),
        );
        let citizenship = p.take("citizenship", Citizenship::parse(&self.citizenship));
        let d = &self.document;
        let kind = p.take("document.type", DocumentType::parse(&d.kind));
        let series_number = p.take(
            "document.series_number",
            required(&d.series_number, PassportNumber::parse),
        );
        let issue_date = p.take(
            "document.issue_date",
            parse_date(&d.issue_date).and_then(|issued| {
                if issued > today {
                    return Err(Problem::IssueDateInFuture);
                }
                match birth_date.and_then(|b| birthday(b, MIN_AGE)) {
                    Some(fourteen) if issued < fourteen => Err(Problem::IssuedBeforeFourteen),
                    _ => Ok(issued),
                }
            }),
        );
        let issued_by = p.take("document.issued_by", text(&d.issued_by, MAX_AUTHORITY));
        let department_code = p.take(
            "document.department_code",
            required(&d.department_code, DepartmentCode::parse),
        );
        match (
            surname,
            given_name,
            patronymic,
            sex,
            birth_date,
            birth_place,
            snils,
            citizenship,
            kind,
            series_number,
            issue_date,
            issued_by,
            department_code,
        ) {
            (
                Some(surname),
                Some(given_name),
                Some(patronymic),
                Some(sex),
                Some(birth_date),
                Some(birth_place),
                Some(snils),
                Some(citizenship),
                Some(kind),
                Some(series_number),
                Some(issue_date),
                Some(issued_by),
                Some(department_code),
            ) if p.0.is_empty() => Ok(PersonalData {
                surname,
                given_name,
                patronymic,
                sex,
                birth_date,
                birth_place,
                snils,
                citizenship,
                document: IdentityDocument {
                    kind,
                    series_number,
                    issue_date,
                    issued_by,
                    department_code,
                },
            }),
            _ => Err(p.0),
        }
    }

    pub fn from_data(d: &PersonalData) -> Self {
        Self {
            surname: d.surname.as_str().to_owned(),
            given_name: d.given_name.as_str().to_owned(),
            patronymic: d
                .patronymic
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            sex: d.sex.as_str().to_owned(),
            birth_date: format_iso(d.birth_date),
            birth_place: d.birth_place.as_str().to_owned(),
            snils: d.snils.to_string(),
            citizenship: d.citizenship.as_str().to_owned(),
            document: DocumentForm {
                kind: d.document.kind.as_str().to_owned(),
                series_number: d.document.series_number.as_str().to_owned(),
                issue_date: format_iso(d.document.issue_date),
                issued_by: d.document.issued_by.as_str().to_owned(),
                department_code: d.document.department_code.as_str().to_owned(),
            },
        }
    }
}
