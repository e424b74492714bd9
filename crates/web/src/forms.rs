//! Parsing of what people type, shared by the pages and the API, so both
//! name the same fields with the same messages.
use serde::Deserialize;
use uslugi_app::{Contact, RegistrationError};
use uslugi_domain::{Email, PersonName, PhoneNumber};

use crate::error::FieldErrors;
use crate::i18n::{Tr, fill};

#[derive(Debug, Default, Clone, Deserialize)]
pub struct RegistrationInput {
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The API sends a boolean; the form sends the checkbox value "true".
    #[serde(default, deserialize_with = "bool_or_string")]
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

/// Field errors for what a person can fix in the confirmation and password
/// steps; `None` for the errors that are not about a field.
pub fn registration_field_errors(t: &Tr, e: &RegistrationError) -> Option<FieldErrors> {
    let mut f = FieldErrors::new();
    match e {
        RegistrationError::MalformedCode => f.insert("code".into(), t.err_code_format.into()),
        RegistrationError::WrongCode { attempts_left } => {
            f.insert("code".into(), fill(t.err_code_wrong, attempts_left))
        }
        RegistrationError::CodeExpired => f.insert("code".into(), t.err_code_expired.into()),
        RegistrationError::AttemptsExhausted => {
            f.insert("code".into(), t.err_code_exhausted.into())
        }
        RegistrationError::LinkInvalid | RegistrationError::LinkExpired => {
            f.insert("token".into(), t.err_token.into())
        }
        RegistrationError::Password { problems, mismatch } => {
            if !problems.is_empty() {
                let text: Vec<&str> = problems.iter().map(|p| t.password_problem(*p)).collect();
                f.insert("password".into(), text.join(". "));
            }
            if *mismatch {
                f.insert("password_confirmation".into(), t.err_pw_mismatch.into());
            }
            None
        }
        _ => return None,
    };
    Some(f)
}

/// The stable error code the API gives for a registration error.
pub fn registration_error_code(e: &RegistrationError) -> &'static str {
    match e {
        RegistrationError::MalformedCode => "code_malformed",
        RegistrationError::WrongCode { .. } => "code_wrong",
        RegistrationError::CodeExpired => "code_expired",
        RegistrationError::AttemptsExhausted => "code_attempts_exhausted",
        RegistrationError::LinkInvalid => "token_invalid",
        RegistrationError::LinkExpired => "token_expired",
        RegistrationError::Password { .. } => "password_rejected",
        RegistrationError::NotConfirmed => "not_confirmed",
        RegistrationError::ContinuationRequired => "continuation_required",
        RegistrationError::AccountExists => "account_exists",
        RegistrationError::NotFound => "registration_not_found",
        RegistrationError::RateLimited { .. } => "rate_limited",
        RegistrationError::Undeliverable(_) => "unavailable",
        RegistrationError::Internal(_) => "internal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN, RU};

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
}
