//! The JSON bodies of the registry gateway's protocol (see
//! `docs/registries.md`): what [`crate::registry_gateway`] sends and reads,
//! and what the registry simulator (`uslugi-sim`) reads and answers. The
//! protocol is the product's, which a real gateway implements too, so it
//! lives here and the simulator depends on it; the tests below pin the
//! bodies to the documented examples, so a change cannot slip past both
//! sides unseen.
//!
//! A request travels as the JSON of `RegistryRequest`, except that dates are
//! `YYYY-MM-DD` strings: `time`'s own serde form, without its
//! `serde-human-readable` feature, is `[year, day of year]`, and turning that
//! feature on would change how every crate in the build writes dates.
use serde::{Deserialize, Serialize};
use time::Date;
use uslugi_app::registries::{PersonFacts, RegistryAnswer, RegistryRequest, Sex};

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// The header that carries the caller's key of a submission.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// The longest idempotency key accepted, in bytes.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// Whether `key` is a usable idempotency key: 1 to 255 visible ASCII
/// characters, so that it travels in a header unchanged.
pub fn is_valid_idempotency_key(key: &str) -> bool {
    (1..=MAX_IDEMPOTENCY_KEY_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The person a request asks about, as it travels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WirePerson {
    surname: String,
    given_name: String,
    #[serde(default)]
    patronymic: Option<String>,
    #[serde(with = "iso_date")]
    birth_date: Date,
}

/// The body of `POST /v1/requests`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "registry", rename_all = "lowercase")]
pub enum WireRequest {
    Sfr {
        snils: String,
        person: WirePerson,
        sex: Sex,
    },
    Mvd {
        series_number: String,
        #[serde(with = "iso_date")]
        issue_date: Date,
        department_code: String,
        person: WirePerson,
    },
}

/// The answer to a submission: the id to poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    pub request_id: String,
}

/// The answer to `GET /v1/requests/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Polled {
    Pending,
    Done { answer: RegistryAnswer },
}

/// The body of an error the simulator answers with; the client never
/// reads it (see [`crate::registry_gateway`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

impl From<&PersonFacts> for WirePerson {
    fn from(person: &PersonFacts) -> Self {
        Self {
            surname: person.surname.clone(),
            given_name: person.given_name.clone(),
            patronymic: person.patronymic.clone(),
            birth_date: person.birth_date,
        }
    }
}

impl From<WirePerson> for PersonFacts {
    fn from(person: WirePerson) -> Self {
        Self {
            surname: person.surname,
            given_name: person.given_name,
            patronymic: person.patronymic,
            birth_date: person.birth_date,
        }
    }
}

impl From<&RegistryRequest> for WireRequest {
    fn from(request: &RegistryRequest) -> Self {
        match request {
            RegistryRequest::Sfr { snils, person, sex } => Self::Sfr {
                snils: snils.clone(),
                person: person.into(),
                sex: *sex,
            },
            RegistryRequest::Mvd {
                series_number,
                issue_date,
                department_code,
                person,
            } => Self::Mvd {
                series_number: series_number.clone(),
                issue_date: *issue_date,
                department_code: department_code.clone(),
                person: person.into(),
            },
        }
    }
}

impl From<WireRequest> for RegistryRequest {
    fn from(request: WireRequest) -> Self {
        match request {
            WireRequest::Sfr { snils, person, sex } => Self::Sfr {
                snils,
                person: person.into(),
                sex,
            },
            WireRequest::Mvd {
                series_number,
                issue_date,
                department_code,
                person,
            } => Self::Mvd {
                series_number,
                issue_date,
                department_code,
                person: person.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::date;
    use uslugi_app::registries::PassportInvalidity;

    /// The examples of `docs/registries.md`.
    #[test]
    fn bodies_as_documented() {
        let sfr = RegistryRequest::Sfr {
            snils: "11223344595".into(),
            person: PersonFacts {
                surname: "Иванов".into(),
                given_name: "Иван".into(),
                patronymic: Some("Иванович".into()),
                birth_date: date!(1980 - 05 - 17),
            },
            sex: Sex::Male,
        };
        let sfr_json = json!({
            "registry": "sfr",
            "snils": "11223344595",
            "person": {
                "surname": "Иванов",
                "given_name": "Иван",
                "patronymic": "Иванович",
                "birth_date": "1980-05-17"
            },
            "sex": "male"
        });
        assert_eq!(
            serde_json::to_value(WireRequest::from(&sfr)).unwrap(),
            sfr_json
        );
        let back: WireRequest = serde_json::from_value(sfr_json).unwrap();
        assert_eq!(RegistryRequest::from(back), sfr);

        let mvd_json = json!({
            "registry": "mvd",
            "series_number": "4510 123456",
            "issue_date": "2000-06-01",
            "department_code": "770-001",
            "person": {
                "surname": "Иванов",
                "given_name": "Иван",
                "patronymic": null,
                "birth_date": "1980-05-17"
            }
        });
        let mvd: WireRequest = serde_json::from_value(mvd_json.clone()).unwrap();
        let mvd = RegistryRequest::from(mvd);
        assert!(matches!(
            &mvd,
            RegistryRequest::Mvd { issue_date, person, .. }
                if *issue_date == date!(2000 - 06 - 01) && person.patronymic.is_none()
        ));
        assert_eq!(
            serde_json::to_value(WireRequest::from(&mvd)).unwrap(),
            mvd_json
        );

        assert_eq!(
            serde_json::to_value(Polled::Done {
                answer: RegistryAnswer::MvdInvalid {
                    reason: PassportInvalidity::Lost
                }
            })
            .unwrap(),
            json!({"status": "done", "answer": {"result": "mvd_invalid", "reason": "lost"}})
        );
        assert_eq!(
            serde_json::to_value(Polled::Done {
                answer: RegistryAnswer::SfrMatch
            })
            .unwrap(),
            json!({"status": "done", "answer": {"result": "sfr_match"}})
        );
        assert_eq!(
            serde_json::to_value(Polled::Pending).unwrap(),
            json!({"status": "pending"})
        );
    }

    #[test]
    fn dates_must_be_iso() {
        let tuple_date = json!({
            "registry": "sfr",
            "snils": "11223344595",
            "person": {"surname": "Иванов", "given_name": "Иван", "birth_date": [1980, 138]},
            "sex": "male"
        });
        assert!(serde_json::from_value::<WireRequest>(tuple_date).is_err());
    }

    #[test]
    fn idempotency_keys() {
        assert!(is_valid_idempotency_key("a"));
        assert!(is_valid_idempotency_key(
            "verification-6f1c2a9e-1b2c-4d5e-8f90-123456789abc/sfr"
        ));
        assert!(is_valid_idempotency_key(&"k".repeat(255)));
        assert!(!is_valid_idempotency_key(""));
        assert!(!is_valid_idempotency_key(&"k".repeat(256)));
        assert!(!is_valid_idempotency_key("with space"));
        assert!(!is_valid_idempotency_key("ключ"));
    }
}
