//! The citizens file: a JSON array of records, read with errors that name
//! the entry and the field, addresses held to the portal's own rules.
use std::path::Path;

use serde_json::{Map, Value};
use time::Date;
use time::macros::format_description;
use uslugi_app::registries::Sex;
use uslugi_domain::{Address, AddressForm, PersonName, Snils};

use super::{Citizen, CitizensError, PassportRecord, PassportStatus, SimRegistry, entry_error};

const CITIZEN_FIELDS: [&str; 8] = [
    "snils",
    "surname",
    "given_name",
    "patronymic",
    "sex",
    "birth_date",
    "passport",
    "registration_address",
];
const PASSPORT_FIELDS: [&str; 4] = ["series_number", "issue_date", "department_code", "status"];
/// The fields of the portal's address (`building` and `flat` may be null).
const ADDRESS_FIELDS: [&str; 7] = [
    "postal_code",
    "region",
    "locality",
    "street",
    "house",
    "building",
    "flat",
];

impl SimRegistry {
    pub fn from_file(path: &Path) -> Result<Self, CitizensError> {
        let text = std::fs::read_to_string(path).map_err(|source| CitizensError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&text).map_err(|problem| CitizensError::InFile {
            path: path.to_owned(),
            problem: Box::new(problem),
        })
    }

    /// Reads the citizens file format: a JSON array of
    /// `{"snils","surname","given_name","patronymic","sex","birth_date",
    /// "passport":{"series_number","issue_date","department_code","status"}}`.
    pub fn from_json(text: &str) -> Result<Self, CitizensError> {
        let value: Value = serde_json::from_str(text).map_err(CitizensError::NotJson)?;
        let Value::Array(entries) = value else {
            return Err(CitizensError::NotAnArray);
        };
        let citizens = entries
            .iter()
            .enumerate()
            .map(|(index, entry)| citizen_from(index, entry))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_citizens(citizens)
    }
}

/// The fields of one JSON object, read with errors that name the entry and
/// the field.
struct Fields<'a> {
    index: usize,
    /// `""` for the citizen, `"passport."` for their passport,
    /// `"registration_address."` for their address.
    prefix: &'static str,
    object: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn of(
        index: usize,
        prefix: &'static str,
        value: &'a Value,
        expected: &[&str],
    ) -> Result<Self, CitizensError> {
        let Value::Object(object) = value else {
            return Err(entry_error(
                index,
                prefix.trim_end_matches('.'),
                format!("expected an object, found {}", kind_of(value)),
            ));
        };
        if let Some(unknown) = object.keys().find(|key| !expected.contains(&key.as_str())) {
            return Err(entry_error(
                index,
                &format!("{prefix}{unknown}"),
                format!("unknown field; expected {}", expected.join(", ")),
            ));
        }
        Ok(Self {
            index,
            prefix,
            object,
        })
    }

    fn error(&self, field: &str, problem: impl Into<String>) -> CitizensError {
        entry_error(self.index, &format!("{}{field}", self.prefix), problem)
    }

    fn value(&self, field: &str) -> Result<&'a Value, CitizensError> {
        self.object
            .get(field)
            .ok_or_else(|| self.error(field, "missing"))
    }

    /// `None` when absent.
    fn optional_value(&self, field: &str) -> Option<&'a Value> {
        self.object.get(field)
    }

    /// `None` for `null`.
    fn optional_text(&self, field: &str) -> Result<Option<&'a str>, CitizensError> {
        match self.value(field)? {
            Value::Null => Ok(None),
            Value::String(text) => Ok(Some(text)),
            other => Err(self.error(
                field,
                format!("expected a string or null, found {}", kind_of(other)),
            )),
        }
    }

    fn text(&self, field: &str) -> Result<&'a str, CitizensError> {
        match self.value(field)? {
            Value::String(text) => Ok(text),
            other => Err(self.error(
                field,
                format!("expected a string, found {}", kind_of(other)),
            )),
        }
    }

    fn name(&self, field: &str) -> Result<PersonName, CitizensError> {
        let text = self.text(field)?;
        PersonName::parse(text).map_err(|e| self.error(field, format!("{e}: {text:?}")))
    }

    fn date(&self, field: &str) -> Result<Date, CitizensError> {
        let text = self.text(field)?;
        Date::parse(text, format_description!("[year]-[month]-[day]"))
            .map_err(|_| self.error(field, format!("expected a date YYYY-MM-DD, found {text:?}")))
    }

    /// One of `choices`, named by its JSON spelling.
    fn choice<T: Copy>(&self, field: &str, choices: &[(&str, T)]) -> Result<T, CitizensError> {
        let text = self.text(field)?;
        choices
            .iter()
            .find(|(spelling, _)| *spelling == text)
            .map(|(_, value)| *value)
            .ok_or_else(|| {
                let spellings: Vec<&str> = choices.iter().map(|(spelling, _)| *spelling).collect();
                self.error(
                    field,
                    format!("expected one of {}, found {text:?}", spellings.join(", ")),
                )
            })
    }

    /// `text` in `layout`, where `N` stands for a digit and anything else
    /// for itself.
    fn laid_out(&self, field: &str, layout: &str) -> Result<String, CitizensError> {
        let text = self.text(field)?;
        if fits_layout(text, layout) {
            Ok(text.to_owned())
        } else {
            Err(self.error(field, format!("expected {layout}, found {text:?}")))
        }
    }
}

/// `N` in `layout` stands for an ASCII digit, anything else for itself.
pub(crate) fn fits_layout(text: &str, layout: &str) -> bool {
    text.len() == layout.len()
        && text.bytes().zip(layout.bytes()).all(|(c, l)| match l {
            b'N' => c.is_ascii_digit(),
            _ => c == l,
        })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn citizen_from(index: usize, entry: &Value) -> Result<Citizen, CitizensError> {
    let fields = Fields::of(index, "", entry, &CITIZEN_FIELDS)?;
    let snils_text = fields.text("snils")?;
    let snils = Snils::parse(snils_text)
        .map_err(|e| fields.error("snils", format!("{e}: {snils_text:?}")))?;
    let surname = fields.name("surname")?;
    let given_name = fields.name("given_name")?;
    let patronymic = match fields.optional_text("patronymic")? {
        Some(text) if !text.trim().is_empty() => Some(
            PersonName::parse(text)
                .map_err(|e| fields.error("patronymic", format!("{e}: {text:?}")))?,
        ),
        _ => None,
    };
    let sex = fields.choice("sex", &[("male", Sex::Male), ("female", Sex::Female)])?;
    let birth_date = fields.date("birth_date")?;
    let passport = Fields::of(
        index,
        "passport.",
        fields.value("passport")?,
        &PASSPORT_FIELDS,
    )?;
    let passport = PassportRecord {
        series_number: passport.laid_out("series_number", "NNNN NNNNNN")?,
        issue_date: passport.date("issue_date")?,
        department_code: passport.laid_out("department_code", "NNN-NNN")?,
        status: passport.choice(
            "status",
            &[
                ("valid", PassportStatus::Valid),
                ("lost", PassportStatus::Lost),
                ("expired", PassportStatus::Expired),
                ("replaced", PassportStatus::Replaced),
            ],
        )?,
    };
    let registration_address = match fields.optional_value("registration_address") {
        None | Some(Value::Null) => None,
        Some(value) => Some(address_from(index, value)?),
    };
    Ok(Citizen {
        snils,
        surname,
        given_name,
        patronymic,
        sex,
        birth_date,
        passport,
        registration_address,
    })
}

/// The address as the portal's form would take it: the same rules, so the
/// ministry's answer is always an address the portal can use.
fn address_from(index: usize, value: &Value) -> Result<Address, CitizensError> {
    let fields = Fields::of(index, "registration_address.", value, &ADDRESS_FIELDS)?;
    let optional = |field: &str| -> Result<String, CitizensError> {
        Ok(match fields.optional_value(field) {
            None => String::new(),
            Some(_) => fields.optional_text(field)?.unwrap_or_default().to_owned(),
        })
    };
    let form = AddressForm {
        postal_code: fields.text("postal_code")?.to_owned(),
        region: fields.text("region")?.to_owned(),
        locality: fields.text("locality")?.to_owned(),
        street: fields.text("street")?.to_owned(),
        house: fields.text("house")?.to_owned(),
        building: optional("building")?,
        flat: optional("flat")?,
    };
    form.parse().map_err(|problems| match problems.first() {
        Some(p) => fields.error(p.field, address_problem(p.problem)),
        None => fields.error("", "not a valid address"),
    })
}

fn address_problem(p: uslugi_domain::personal::Problem) -> String {
    use uslugi_domain::personal::Problem;
    match p {
        Problem::Missing => "missing".into(),
        Problem::PostalCodeFormat => "expected 6 digits".into(),
        Problem::TooLong { max } => format!("longer than {max} characters"),
        other => format!("not valid ({other:?})"),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::citizens::DEMO_CITIZENS_JSON;

    const GOOD: &str = r#"{"snils":"112-233-445 95","surname":"Иванов","given_name":"Иван","patronymic":"Иванович","sex":"male","birth_date":"1980-05-17","passport":{"series_number":"4510 123456","issue_date":"2000-06-01","department_code":"770-001","status":"valid"}}"#;

    /// `GOOD` as the second entry, with `from` replaced by `to`.
    fn with_second(from: &str, to: &str) -> String {
        let second = GOOD.replacen(from, to, 1);
        assert_ne!(second, GOOD, "{from} is not in the good entry");
        let first = GOOD
            .replace("112-233-445 95", "123-456-789 64")
            .replace("4510 123456", "4505 234567");
        format!("[{first},{second}]")
    }

    fn problem(text: &str) -> String {
        SimRegistry::from_json(text).unwrap_err().to_string()
    }

    #[test]
    fn reads_the_exact_format() {
        let registry = SimRegistry::from_json(&format!("[{GOOD}]")).unwrap();
        let citizen = &registry.citizens()[0];
        assert_eq!(citizen.snils.digits(), "11223344595");
        assert_eq!(
            citizen.patronymic.as_ref().map(PersonName::as_str),
            Some("Иванович")
        );
        assert_eq!(citizen.passport.issue_date, date!(2000 - 06 - 01));
        assert!(SimRegistry::from_json("[]").unwrap().citizens().is_empty());
        for no_patronymic in [r#""patronymic":null"#, r#""patronymic":"""#] {
            let text = format!(
                "[{}]",
                GOOD.replace(r#""patronymic":"Иванович""#, no_patronymic)
            );
            let registry = SimRegistry::from_json(&text).unwrap();
            assert_eq!(registry.citizens()[0].patronymic, None);
        }
    }

    #[test]
    fn malformed_files_name_the_entry_and_field() {
        assert!(problem("[{").starts_with("not valid JSON"));
        assert_eq!(
            problem(r#"{"snils":"1"}"#),
            "expected a JSON array of citizens"
        );
        assert_eq!(
            problem(&format!("[{GOOD},7]")),
            "citizens[1]: expected an object, found a number"
        );
        for (from, to, expected) in [
            (
                "112-233-445 95",
                "112-233-445 96",
                "citizens[1].snils: SNILS check number does not match: \"112-233-445 96\"",
            ),
            (
                r#""surname":"Иванов""#,
                r#""surname":"Ivanов""#,
                "citizens[1].surname: name mixes Cyrillic and Latin letters: \"Ivanов\"",
            ),
            (
                r#""given_name":"Иван","#,
                "",
                "citizens[1].given_name: missing",
            ),
            (
                r#""patronymic":"Иванович""#,
                r#""patronimic":"Иванович""#,
                "citizens[1].patronimic: unknown field; expected snils, surname, given_name, patronymic, sex, birth_date, passport, registration_address",
            ),
            (
                r#""sex":"male""#,
                r#""sex":"M""#,
                "citizens[1].sex: expected one of male, female, found \"M\"",
            ),
            (
                r#""birth_date":"1980-05-17""#,
                r#""birth_date":"17.05.1980""#,
                "citizens[1].birth_date: expected a date YYYY-MM-DD, found \"17.05.1980\"",
            ),
            (
                r#""birth_date":"1980-05-17""#,
                r#""birth_date":19800517"#,
                "citizens[1].birth_date: expected a string, found a number",
            ),
            (
                "2000-06-01",
                "2000-02-30",
                "citizens[1].passport.issue_date: expected a date YYYY-MM-DD, found \"2000-02-30\"",
            ),
            (
                "4510 123456",
                "4510123456",
                "citizens[1].passport.series_number: expected NNNN NNNNNN, found \"4510123456\"",
            ),
            (
                "770-001",
                "770001",
                "citizens[1].passport.department_code: expected NNN-NNN, found \"770001\"",
            ),
            (
                r#""status":"valid""#,
                r#""status":"stolen""#,
                "citizens[1].passport.status: expected one of valid, lost, expired, replaced, found \"stolen\"",
            ),
            (
                r#""status":"valid""#,
                r#""status":"valid","photo":null"#,
                "citizens[1].passport.photo: unknown field; expected series_number, issue_date, department_code, status",
            ),
            (
                r#""passport":{"series_number":"4510 123456","issue_date":"2000-06-01","department_code":"770-001","status":"valid"}"#,
                r#""passport":null"#,
                "citizens[1].passport: expected an object, found null",
            ),
            (
                r#""patronymic":"Иванович""#,
                r#""patronymic":false"#,
                "citizens[1].patronymic: expected a string or null, found a boolean",
            ),
        ] {
            assert_eq!(problem(&with_second(from, to)), expected, "{to}");
        }
        assert!(matches!(
            SimRegistry::from_json(&with_second("\"given_name\":\"Иван\",", "")),
            Err(CitizensError::Entry { index: 1, .. })
        ));
    }

    #[test]
    fn a_registration_address_is_read_by_the_portals_rules() {
        let address = r#""registration_address":{"postal_code":"248000","region":"Калужская обл.","locality":"г. Калуга","street":"ул. Ленина","house":"5","building":null,"flat":"12"}"#;
        let text = format!(
            "[{}]",
            GOOD.replace(r#""sex":"male""#, &format!(r#""sex":"male",{address}"#))
        );
        let registry = SimRegistry::from_json(&text).unwrap();
        let a = registry.citizens()[0].registration_address.clone().unwrap();
        assert_eq!(a.postal_code.as_str(), "248000");
        assert_eq!(a.flat.as_ref().map(|f| f.as_str()), Some("12"));
        assert_eq!(a.building, None);
        let without_flat = text.replace(r#","flat":"12""#, "");
        let a = SimRegistry::from_json(&without_flat).unwrap().citizens()[0]
            .registration_address
            .clone()
            .unwrap();
        assert_eq!(a.flat, None);
        assert_eq!(
            problem(&text.replace("248000", "24800")),
            "citizens[0].registration_address.postal_code: expected 6 digits"
        );
        assert_eq!(
            problem(&text.replace(r#""house":"5""#, r#""house":"""#)),
            "citizens[0].registration_address.house: missing"
        );
        assert_eq!(
            problem(&text.replace(r#""house":"5""#, r#""house":"5","room":"1""#)),
            "citizens[0].registration_address.room: unknown field; expected postal_code, region, locality, street, house, building, flat"
        );
    }

    #[test]
    fn one_snils_or_passport_is_one_citizen() {
        let same_snils = format!("[{GOOD},{}]", GOOD.replace("4510 123456", "4505 234567"));
        assert_eq!(
            problem(&same_snils),
            "citizens[1].snils: 112-233-445 95 is also the SNILS of citizens[0]"
        );
        let same_passport = format!(
            "[{GOOD},{}]",
            GOOD.replace("112-233-445 95", "123-456-789 64")
        );
        assert_eq!(
            problem(&same_passport),
            "citizens[1].passport.series_number: 4510 123456 is also the passport of citizens[0]"
        );
    }

    #[test]
    fn files_are_named_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("absent.json");
        let error = SimRegistry::from_file(&missing).unwrap_err();
        assert!(matches!(error, CitizensError::Read { .. }));
        assert!(error.to_string().contains("absent.json"), "{error}");

        let broken = dir.path().join("people.json");
        std::fs::write(&broken, with_second("770-001", "77-0001")).unwrap();
        let error = SimRegistry::from_file(&broken).unwrap_err().to_string();
        assert!(error.starts_with("the citizens file "), "{error}");
        assert!(
            error.ends_with("people.json: citizens[1].passport.department_code: expected NNN-NNN, found \"77-0001\""),
            "{error}"
        );

        let good = dir.path().join("good.json");
        std::fs::write(&good, DEMO_CITIZENS_JSON).unwrap();
        assert_eq!(SimRegistry::from_file(&good).unwrap().citizens().len(), 6);
    }

    #[test]
    fn layouts() {
        assert!(fits_layout("4510 123456", "NNNN NNNNNN"));
        assert!(!fits_layout("4510 12345", "NNNN NNNNNN"));
        assert!(!fits_layout("4510-123456", "NNNN NNNNNN"));
        assert!(!fits_layout("45١0 123456", "NNNN NNNNNN"));
        assert!(fits_layout("770-001", "NNN-NNN"));
    }
}
