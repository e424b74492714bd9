//! The simulated registries' own records, and how each registry compares a
//! request with them.
use std::collections::HashMap;
use std::path::PathBuf;

use time::Date;
use uslugi_app::registries::Sex;
use uslugi_domain::{Address, PersonName, Snils};

mod answer;
mod file;

pub(crate) use file::fits_layout;

/// The built-in demo set: one citizen for each answer (see the README).
pub const DEMO_CITIZENS_JSON: &str = include_str!("../../data/demo-citizens.json");

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
