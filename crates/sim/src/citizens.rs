//! The simulated registries' own records, and how each registry compares a
//! request with them.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use time::Date;
use time::macros::format_description;
use uslugi_app::registries::{
    PassportInvalidity, PersonFacts, RegistryAnswer, RegistryRequest, Sex,
};
use uslugi_domain::{Address, AddressForm, PersonName, Snils};

/// The built-in demo set: one citizen for each answer (see the README).
pub const DEMO_CITIZENS_JSON: &str = include_str!("../data/demo-citizens.json");

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassportStatus {
    Valid,
    Lost,
    Expired,
    Replaced,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassportRecord {
    /// `NNNN NNNNNN`.
    pub series_number: String,
    pub issue_date: Date,
    /// `NNN-NNN`.
    pub department_code: String,
    pub status: PassportStatus,
}

/// One person as both registries know them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citizen {
    pub snils: Snils,
    pub surname: PersonName,
    pub given_name: PersonName,
    pub patronymic: Option<PersonName>,
    pub sex: Sex,
    pub birth_date: Date,
    pub passport: PassportRecord,
    /// Where the Interior Ministry has the person registered (прописка);
    /// some records have none.
    pub registration_address: Option<Address>,
}

#[derive(Debug, thiserror::Error)]
pub enum CitizensError {
    #[error("cannot read the citizens file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A problem with the content of the file at `path`.
    #[error("the citizens file {}: {problem}", path.display())]
    InFile {
        path: PathBuf,
        problem: Box<CitizensError>,
    },
    #[error("not valid JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("expected a JSON array of citizens")]
    NotAnArray,
    /// `at` names the entry and field, e.g. `citizens[3].passport.issue_date`
    /// (entries are counted from 0).
    #[error("{at}: {problem}")]
    Entry {
        index: usize,
        at: String,
        problem: String,
    },
}

/// The records of the simulated Social Fund and Interior Ministry.
#[derive(Debug, Clone)]
pub struct SimRegistry {
    citizens: Vec<Citizen>,
    /// SNILS digits → index in `citizens`.
    by_snils: HashMap<String, usize>,
    /// Passport series and number → index in `citizens`.
    by_passport: HashMap<String, usize>,
}

impl SimRegistry {
    /// The built-in demo set.
    pub fn demo() -> Self {
        Self::from_json(DEMO_CITIZENS_JSON)
            .expect("the built-in demo set is valid: a unit test parses it")
    }

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

    /// Refuses two citizens with one SNILS or one passport, since a registry
    /// could not tell which of them a request means.
    pub fn from_citizens(citizens: Vec<Citizen>) -> Result<Self, CitizensError> {
        let mut by_snils = HashMap::with_capacity(citizens.len());
        let mut by_passport = HashMap::with_capacity(citizens.len());
        for (index, citizen) in citizens.iter().enumerate() {
            if let Some(first) = by_snils.insert(citizen.snils.digits().to_owned(), index) {
                return Err(entry_error(
                    index,
                    "snils",
                    format!("{} is also the SNILS of citizens[{first}]", citizen.snils),
                ));
            }
            let passport = &citizen.passport.series_number;
            if let Some(first) = by_passport.insert(passport.clone(), index) {
                return Err(entry_error(
                    index,
                    "passport.series_number",
                    format!("{passport} is also the passport of citizens[{first}]"),
                ));
            }
        }
        Ok(Self {
            citizens,
            by_snils,
            by_passport,
        })
    }

    pub fn citizens(&self) -> &[Citizen] {
        &self.citizens
    }

    /// The registry's answer to `request`. Names are compared as
    /// [`PersonName::normalized_for_comparison`] folds them (letter case and
    /// ё/е do not matter); no patronymic and an empty one are the same.
    pub fn answer(&self, request: &RegistryRequest) -> RegistryAnswer {
        match request {
            RegistryRequest::Sfr { snils, person, sex } => {
                let found = Snils::parse(snils)
                    .ok()
                    .and_then(|snils| self.by_snils.get(snils.digits()))
                    .map(|&index| &self.citizens[index]);
                match found {
                    None => RegistryAnswer::SfrNotFound,
                    Some(citizen) if citizen.sex == *sex && same_person(citizen, person) => {
                        RegistryAnswer::SfrMatch
                    }
                    Some(_) => RegistryAnswer::SfrMismatch,
                }
            }
            RegistryRequest::Mvd {
                series_number,
                issue_date,
                department_code,
                person,
            } => {
                let found = self
                    .by_passport
                    .get(series_number.trim())
                    .map(|&index| &self.citizens[index])
                    .filter(|citizen| {
                        citizen.passport.issue_date == *issue_date
                            && citizen.passport.department_code == department_code.trim()
                            && same_person(citizen, person)
                    });
                match found.map(|citizen| (citizen.passport.status, citizen)) {
                    None => RegistryAnswer::MvdNotFound,
                    Some((PassportStatus::Valid, citizen)) => RegistryAnswer::MvdValid {
                        registration_address: citizen.registration_address.clone(),
                    },
                    Some((PassportStatus::Lost, _)) => RegistryAnswer::MvdInvalid {
                        reason: PassportInvalidity::Lost,
                    },
                    Some((PassportStatus::Expired, _)) => RegistryAnswer::MvdInvalid {
                        reason: PassportInvalidity::Expired,
                    },
                    Some((PassportStatus::Replaced, _)) => RegistryAnswer::MvdInvalid {
                        reason: PassportInvalidity::Replaced,
                    },
                }
            }
        }
    }
}

/// Surname, given name, patronymic and birth date: what both registries
/// compare.
fn same_person(citizen: &Citizen, person: &PersonFacts) -> bool {
    let typed_patronymic = person
        .patronymic
        .as_deref()
        .filter(|patronymic| !patronymic.trim().is_empty());
    let patronymic_equal = match (&citizen.patronymic, typed_patronymic) {
        (None, None) => true,
        (Some(recorded), Some(typed)) => same_name(recorded, typed),
        _ => false,
    };
    citizen.birth_date == person.birth_date
        && same_name(&citizen.surname, &person.surname)
        && same_name(&citizen.given_name, &person.given_name)
        && patronymic_equal
}

/// A typed name that is not a valid name cannot be the recorded one, which
/// always is.
fn same_name(recorded: &PersonName, typed: &str) -> bool {
    PersonName::parse(typed).is_ok_and(|typed| {
        typed.normalized_for_comparison() == recorded.normalized_for_comparison()
    })
}

fn entry_error(index: usize, field: &str, problem: impl Into<String>) -> CitizensError {
    let at = if field.is_empty() {
        format!("citizens[{index}]")
    } else {
        format!("citizens[{index}].{field}")
    };
    CitizensError::Entry {
        index,
        at,
        problem: problem.into(),
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
    use super::*;
    use time::macros::date;

    fn person(surname: &str, given: &str, patronymic: Option<&str>, born: Date) -> PersonFacts {
        PersonFacts {
            surname: surname.into(),
            given_name: given.into(),
            patronymic: patronymic.map(Into::into),
            birth_date: born,
        }
    }

    fn sfr(snils: &str, person: PersonFacts, sex: Sex) -> RegistryRequest {
        RegistryRequest::Sfr {
            snils: snils.into(),
            person,
            sex,
        }
    }

    fn mvd(
        series_number: &str,
        issued: Date,
        department: &str,
        person: PersonFacts,
    ) -> RegistryRequest {
        RegistryRequest::Mvd {
            series_number: series_number.into(),
            issue_date: issued,
            department_code: department.into(),
            person,
        }
    }

    fn ivanov() -> PersonFacts {
        person("Иванов", "Иван", Some("Иванович"), date!(1980 - 05 - 17))
    }

    #[test]
    fn the_demo_set_has_one_citizen_per_outcome() {
        let registry = SimRegistry::demo();
        assert_eq!(registry.citizens().len(), 6);
        let statuses: Vec<_> = registry
            .citizens()
            .iter()
            .map(|c| c.passport.status)
            .collect();
        assert_eq!(
            statuses,
            [
                PassportStatus::Valid,
                PassportStatus::Valid,
                PassportStatus::Lost,
                PassportStatus::Expired,
                PassportStatus::Replaced,
                PassportStatus::Valid
            ]
        );
        let with_address: Vec<bool> = registry
            .citizens()
            .iter()
            .map(|c| c.registration_address.is_some())
            .collect();
        assert_eq!(
            with_address,
            [true, true, true, true, true, false],
            "the last valid passport's holder has no registered address"
        );
        for citizen in registry.citizens() {
            let facts = PersonFacts {
                surname: citizen.surname.to_string(),
                given_name: citizen.given_name.to_string(),
                patronymic: citizen.patronymic.as_ref().map(ToString::to_string),
                birth_date: citizen.birth_date,
            };
            assert_eq!(
                registry.answer(&sfr(citizen.snils.digits(), facts.clone(), citizen.sex)),
                RegistryAnswer::SfrMatch
            );
            let passport = &citizen.passport;
            assert_ne!(
                registry.answer(&mvd(
                    &passport.series_number,
                    passport.issue_date,
                    &passport.department_code,
                    facts
                )),
                RegistryAnswer::MvdNotFound
            );
        }
    }

    #[test]
    fn social_fund_rules() {
        let registry = SimRegistry::demo();
        let male = Sex::Male;
        assert_eq!(
            registry.answer(&sfr("11223344595", ivanov(), male)),
            RegistryAnswer::SfrMatch
        );
        // Any spelling of the number is the same number.
        assert_eq!(
            registry.answer(&sfr("112-233-445 95", ivanov(), male)),
            RegistryAnswer::SfrMatch
        );
        let shouting = person("ИВАНОВ", "иВАН", Some("иванович"), date!(1980 - 05 - 17));
        assert_eq!(
            registry.answer(&sfr("11223344595", shouting, male)),
            RegistryAnswer::SfrMatch
        );
        let with_yo = person("Сидоров", "Пётр", Some("Алексеевич"), date!(1990 - 02 - 14));
        let with_ye = person("СИДОРОВ", "петр", Some("АЛЕКСЕЕВИЧ"), date!(1990 - 02 - 14));
        assert_eq!(
            registry.answer(&sfr("14567890105", with_yo, male)),
            RegistryAnswer::SfrMatch
        );
        assert_eq!(
            registry.answer(&sfr("14567890105", with_ye, male)),
            RegistryAnswer::SfrMatch
        );
        for no_patronymic in [None, Some(""), Some("  ")] {
            let kim = person("Ким", "Елена", no_patronymic, date!(1975 - 08 - 30));
            assert_eq!(
                registry.answer(&sfr("15678901211", kim, Sex::Female)),
                RegistryAnswer::SfrMatch,
                "{no_patronymic:?}"
            );
        }
        let kim_with_patronymic = person("Ким", "Елена", Some("Игоревна"), date!(1975 - 08 - 30));
        assert_eq!(
            registry.answer(&sfr("15678901211", kim_with_patronymic, Sex::Female)),
            RegistryAnswer::SfrMismatch
        );
        let differs = [
            person("Иванова", "Иван", Some("Иванович"), date!(1980 - 05 - 17)),
            person("Иванов", "Иоанн", Some("Иванович"), date!(1980 - 05 - 17)),
            person("Иванов", "Иван", Some("Петрович"), date!(1980 - 05 - 17)),
            person("Иванов", "Иван", None, date!(1980 - 05 - 17)),
            person("Иванов", "Иван", Some("Иванович"), date!(1980 - 05 - 18)),
            person("Иванов2", "Иван", Some("Иванович"), date!(1980 - 05 - 17)),
        ];
        for facts in differs {
            assert_eq!(
                registry.answer(&sfr("11223344595", facts.clone(), male)),
                RegistryAnswer::SfrMismatch,
                "{facts:?}"
            );
        }
        assert_eq!(
            registry.answer(&sfr("11223344595", ivanov(), Sex::Female)),
            RegistryAnswer::SfrMismatch
        );
        assert_eq!(
            registry.answer(&sfr("19876543247", ivanov(), male)),
            RegistryAnswer::SfrNotFound
        );
        assert_eq!(
            registry.answer(&sfr("11223344596", ivanov(), male)),
            RegistryAnswer::SfrNotFound
        );
        assert_eq!(
            registry.answer(&sfr("nonsense", ivanov(), male)),
            RegistryAnswer::SfrNotFound
        );
    }

    #[test]
    fn interior_ministry_rules() {
        let registry = SimRegistry::demo();
        let issued = date!(2000 - 06 - 01);
        let RegistryAnswer::MvdValid {
            registration_address: Some(address),
        } = registry.answer(&mvd("4510 123456", issued, "770-001", ivanov()))
        else {
            panic!("Иванов's passport is valid and he is registered");
        };
        assert_eq!(address.street.as_str(), "ул. Арбат");
        assert_eq!(address.building, None);
        let lower_case = person("иванов", "ИВАН", Some("ИвАнОвИч"), date!(1980 - 05 - 17));
        assert!(matches!(
            registry.answer(&mvd("4510 123456", issued, "770-001", lower_case)),
            RegistryAnswer::MvdValid { .. }
        ));
        let kuznetsova = person(
            "Кузнецова",
            "Мария",
            Some("Викторовна"),
            date!(1992 - 07 - 08),
        );
        assert_eq!(
            registry.answer(&mvd(
                "4512 678901",
                date!(2012 - 08 - 01),
                "770-006",
                kuznetsova
            )),
            RegistryAnswer::MvdValid {
                registration_address: None
            },
            "a valid passport without a registered address"
        );
        for (number, issued_on, department, facts) in [
            ("4510 654321", issued, "770-001", ivanov()),
            ("4510 123456", date!(2000 - 06 - 02), "770-001", ivanov()),
            ("4510 123456", issued, "770-002", ivanov()),
            (
                "4510 123456",
                issued,
                "770-001",
                person("Иванов", "Иван", None, date!(1980 - 05 - 17)),
            ),
            (
                "4510 123456",
                issued,
                "770-001",
                person("Петров", "Иван", Some("Иванович"), date!(1980 - 05 - 17)),
            ),
            (
                "4510 123456",
                issued,
                "770-001",
                person("Иванов", "Иван", Some("Иванович"), date!(1981 - 05 - 17)),
            ),
        ] {
            assert_eq!(
                registry.answer(&mvd(number, issued_on, department, facts.clone())),
                RegistryAnswer::MvdNotFound,
                "{number} {issued_on} {department} {facts:?}"
            );
        }
        let sidorov = person("Сидоров", "Петр", Some("Алексеевич"), date!(1990 - 02 - 14));
        assert_eq!(
            registry.answer(&mvd(
                "4011 345678",
                date!(2011 - 03 - 10),
                "780-003",
                sidorov
            )),
            RegistryAnswer::MvdInvalid {
                reason: PassportInvalidity::Lost
            }
        );
        let kim = person("Ким", "Елена", None, date!(1975 - 08 - 30));
        assert_eq!(
            registry.answer(&mvd("4600 456789", date!(2000 - 09 - 15), "500-004", kim)),
            RegistryAnswer::MvdInvalid {
                reason: PassportInvalidity::Expired
            }
        );
        let smirnov = person(
            "Смирнов",
            "Алексей",
            Some("Дмитриевич"),
            date!(1970 - 01 - 25),
        );
        assert_eq!(
            registry.answer(&mvd(
                "4503 567890",
                date!(2003 - 02 - 10),
                "770-005",
                smirnov.clone()
            )),
            RegistryAnswer::MvdInvalid {
                reason: PassportInvalidity::Replaced
            }
        );
        // An invalid passport is reported only to its holder.
        let other = PersonFacts {
            surname: "Смирнова".into(),
            ..smirnov
        };
        assert_eq!(
            registry.answer(&mvd("4503 567890", date!(2003 - 02 - 10), "770-005", other)),
            RegistryAnswer::MvdNotFound
        );
    }

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
