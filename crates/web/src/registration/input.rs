//! Parsing of what people type, shared by the pages and the API, so both
//! name the same fields with the same messages.
use serde::Deserialize;
use time::OffsetDateTime;
use uslugi_app::{Contact, RegistrationError};
use uslugi_domain::{Email, PersonName, PhoneNumber};

use crate::error::{ApiError, FieldErrors, log_internal};
use crate::i18n::{Tr, fill};

/// Give `phone` or `email`, not both.
#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = RegistrationRequest)]
pub struct RegistrationInput {
    #[schema(required = true, nullable = false, min_length = 1, max_length = 100)]
    pub surname: Option<String>,
    #[schema(required = true, nullable = false, min_length = 1, max_length = 100)]
    pub given_name: Option<String>,
    /// Russian mobile number in any usual spelling; give phone or email, not both
    #[schema(nullable = false, example = "+7 (925) 391-02-02")]
    pub phone: Option<String>,
    #[schema(nullable = false, format = Email)]
    pub email: Option<String>,
    /// The API sends a boolean; the form sends the checkbox value "true".
    #[serde(default, deserialize_with = "bool_or_string")]
    #[schema(required = true, nullable = false, value_type = bool)]
    pub accept_terms: Option<bool>,
}

fn bool_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<B>::deserialize(d)? {
        Some(B::Bool(b)) => Some(b),
        Some(B::Text(s)) => Some(matches!(s.as_str(), "true" | "on" | "1" | "yes")),
        None => None,
    })
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub struct ParsedRegistration {
    pub surname: PersonName,
    pub given_name: PersonName,
    pub contact: Contact,
}

/// Checks every field and reports every problem at once.
pub fn parse_registration(
    t: &Tr,
    input: &RegistrationInput,
) -> Result<ParsedRegistration, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut name = |field: &str, value: &Option<String>| match PersonName::parse(
        value.as_deref().unwrap_or(""),
    ) {
        Ok(n) => Some(n),
        Err(e) => {
            errors.insert(field.to_owned(), t.name_error(e).to_owned());
            None
        }
    };
    let surname = name("surname", &input.surname);
    let given_name = name("given_name", &input.given_name);
    let contact = match (present(&input.phone), present(&input.email)) {
        (Some(_), Some(_)) => {
            errors.insert("email".into(), t.err_contact_both.into());
            None
        }
        (Some(phone), None) => match PhoneNumber::parse(phone) {
            Ok(p) => Some(Contact::Phone(p)),
            Err(e) => {
                errors.insert("phone".into(), t.phone_error(e).into());
                None
            }
        },
        (None, Some(email)) => match Email::parse(email) {
            Ok(e) => Some(Contact::Email(e)),
            Err(e) => {
                errors.insert("email".into(), t.email_error(e).into());
                None
            }
        },
        (None, None) => {
            let field = if input.email.is_some() {
                "email"
            } else {
                "phone"
            };
            errors.insert(field.into(), t.err_required.into());
            None
        }
    };
    if input.accept_terms != Some(true) {
        errors.insert("accept_terms".into(), t.err_consent.into());
    }
    match (surname, given_name, contact) {
        (Some(surname), Some(given_name), Some(contact)) if errors.is_empty() => {
            Ok(ParsedRegistration {
                surname,
                given_name,
                contact,
            })
        }
        _ => Err(errors),
    }
}

/// The one answer to each registration error, for the API and the pages
/// (see [`crate::error`]): what a person can fix is named by its field.
pub fn registration_answer(t: &Tr, now: OffsetDateTime, e: &RegistrationError) -> ApiError {
    let on_field = |code, field: &str, message: &str| {
        ApiError::invalid_field(t, field, message).with_code(code)
    };
    match e {
        RegistrationError::RateLimited { retry_at } => {
            ApiError::rate_limited(t, (*retry_at - now).whole_seconds())
        }
        RegistrationError::NotFound => ApiError::registration_not_found(t),
        RegistrationError::MalformedCode => on_field("code_malformed", "code", t.err_code_format),
        RegistrationError::WrongCode { attempts_left } => {
            on_field("code_wrong", "code", &fill(t.err_code_wrong, attempts_left))
        }
        RegistrationError::CodeExpired => on_field("code_expired", "code", t.err_code_expired),
        RegistrationError::AttemptsExhausted => {
            on_field("code_attempts_exhausted", "code", t.err_code_exhausted)
        }
        RegistrationError::LinkInvalid => on_field("token_invalid", "token", t.err_token),
        RegistrationError::LinkExpired => on_field("token_expired", "token", t.err_token),
        RegistrationError::NotConfirmed => ApiError::conflict("not_confirmed", t.err_not_confirmed),
        RegistrationError::ContinuationRequired => ApiError::continuation_required(t),
        RegistrationError::Password { problems, mismatch } => {
            ApiError::invalid(t, crate::password::password_fields(t, problems, *mismatch))
                .with_code("password_rejected")
        }
        RegistrationError::AccountExists => {
            ApiError::conflict("account_exists", t.err_account_exists)
        }
        RegistrationError::Undeliverable(cause) => {
            log_internal(cause);
            ApiError::unavailable(t)
        }
        RegistrationError::Internal(_) => ApiError::internal(t, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN, RU};
    use uslugi_domain::PasswordProblem;

    fn input(phone: Option<&str>, email: Option<&str>) -> RegistrationInput {
        RegistrationInput {
            surname: Some("Иванов".into()),
            given_name: Some("Иван".into()),
            phone: phone.map(Into::into),
            email: email.map(Into::into),
            accept_terms: Some(true),
        }
    }

    #[test]
    fn every_field_error_is_named_in_the_language_asked() {
        let bad = RegistrationInput {
            surname: Some("Ив@нов".into()),
            given_name: None,
            phone: Some("12345".into()),
            email: None,
            accept_terms: None,
        };
        let ru = parse_registration(&RU, &bad).err().unwrap();
        assert_eq!(
            ru.keys().map(String::as_str).collect::<Vec<_>>(),
            ["accept_terms", "given_name", "phone", "surname"]
        );
        assert_eq!(ru["given_name"], RU.err_required);
        let en = parse_registration(&EN, &bad).err().unwrap();
        assert_eq!(en["accept_terms"], EN.err_consent);
    }

    #[test]
    fn exactly_one_contact_is_taken() {
        assert!(parse_registration(&RU, &input(Some("+7 925 391-02-02"), None)).is_ok());
        assert!(parse_registration(&RU, &input(None, Some("ivanov@mail.ru"))).is_ok());
        let both = parse_registration(&RU, &input(Some("+79253910202"), Some("a@b.ru")));
        assert!(both.err().unwrap().contains_key("email"));
        let none = parse_registration(&RU, &input(None, None));
        assert!(none.err().unwrap().contains_key("phone"));
    }

    /// Every registration error but a broken store has an answer a person
    /// can act on; the ones about a field name it, on a page without the
    /// form too (these fell into a 500 there once).
    #[test]
    fn each_registration_error_has_its_own_answer() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let cases = [
            (
                RegistrationError::RateLimited {
                    retry_at: now + time::Duration::seconds(30),
                },
                429,
                "rate_limited",
            ),
            (RegistrationError::NotFound, 404, "registration_not_found"),
            (RegistrationError::MalformedCode, 422, "code_malformed"),
            (
                RegistrationError::WrongCode { attempts_left: 2 },
                422,
                "code_wrong",
            ),
            (RegistrationError::CodeExpired, 422, "code_expired"),
            (
                RegistrationError::AttemptsExhausted,
                422,
                "code_attempts_exhausted",
            ),
            (RegistrationError::LinkInvalid, 422, "token_invalid"),
            (RegistrationError::LinkExpired, 422, "token_expired"),
            (RegistrationError::NotConfirmed, 409, "not_confirmed"),
            (
                RegistrationError::ContinuationRequired,
                403,
                "continuation_required",
            ),
            (
                RegistrationError::Password {
                    problems: vec![PasswordProblem::TooShort],
                    mismatch: true,
                },
                422,
                "password_rejected",
            ),
            (RegistrationError::AccountExists, 409, "account_exists"),
        ];
        for (e, status, code) in cases {
            let answer = registration_answer(&RU, now, &e);
            assert_eq!((answer.status.as_u16(), answer.code), (status, code), "{e}");
            let page = crate::error::PageError::from_answer(uslugi_app::Lang::Ru, answer);
            assert_eq!(page.status.as_u16(), status, "{e}");
        }
        let page = crate::error::PageError::from_answer(
            uslugi_app::Lang::Ru,
            registration_answer(&RU, now, &RegistrationError::MalformedCode),
        );
        assert_eq!(page.message, RU.err_code_format, "the field's own message");
    }
}
