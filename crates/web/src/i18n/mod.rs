//! Every text of the interface, in Russian and English. One struct per
//! language, so a missing translation is a compile error, not a blank.
use uslugi_app::Lang;
use uslugi_domain::{EmailError, NameError, PasswordProblem, PasswordStrength, PhoneError};

mod en;
mod plural;
mod ru;

pub use en::EN;
pub use plural::Plural;
pub use ru::RU;

pub struct Tr {
    pub lang: &'static str,
    /// Personal data, addresses and the check page.
    pub pd: &'static crate::personal_data::i18n::PdTr,
    /// The service centers page.
    pub centers: &'static crate::centers::i18n::CentersTr,
    /// Identity confirmation by letter.
    pub letter: &'static crate::identity_letter::i18n::LetterTr,
    /// The operator console.
    pub console: &'static crate::operator::i18n::ConsoleTr,
    /// The citizen's password page.
    pub account: &'static crate::password::i18n::PasswordTr,
    /// «Безопасность»: sessions and the history of events.
    pub security: &'static crate::security::i18n::SecurityTr,
    /// «Не удаётся войти?».
    pub recovery: &'static crate::recovery::i18n::RecoveryTr,
    /// «Вход с подтверждением».
    pub factor: &'static crate::second_factor::i18n::FactorTr,
    /// A change of phone or e-mail.
    pub contacts: &'static crate::contacts::i18n::ContactsTr,
    /// «Удалить учётную запись».
    pub deletion: &'static crate::deletion::i18n::DeletionTr,
    /// The readable copy of «Скачать мои данные».
    pub export: &'static crate::profile::i18n::ExportTr,
    pub other_lang: &'static str,
    pub other_lang_name: &'static str,
    pub brand: &'static str,
    pub tagline: &'static str,
    pub skip_link: &'static str,
    pub nav_login: &'static str,
    pub nav_register: &'static str,
    pub nav_me: &'static str,
    pub nav_logout: &'static str,
    pub nav_services: &'static str,
    pub terms: &'static str,
    pub privacy: &'static str,
    pub support: &'static str,
    pub errors_heading: &'static str,

    pub home_title: &'static str,
    pub home_intro: &'static str,
    pub home_levels: &'static str,

    pub register_title: &'static str,
    pub surname: &'static str,
    pub given_name: &'static str,
    pub phone: &'static str,
    pub phone_hint: &'static str,
    pub email: &'static str,
    pub email_hint: &'static str,
    pub no_phone: &'static str,
    pub use_phone: &'static str,
    pub consent_before: &'static str,
    pub consent_and: &'static str,
    pub terms_of_use_link: &'static str,
    pub privacy_policy_link: &'static str,
    pub register_button: &'static str,
    pub already_registered: &'static str,
    pub log_in: &'static str,
    pub organisation_note: &'static str,
    pub phone_use_note: &'static str,

    pub confirm_phone_title: &'static str,
    pub confirm_email_title: &'static str,
    pub change_data: &'static str,
    pub code_sent: &'static str,
    pub code_label: &'static str,
    pub code_hint: &'static str,
    pub continue_button: &'static str,
    pub code_valid_until: &'static str,
    pub code_valid_seconds: Plural,
    pub code_expired: &'static str,
    pub resend_code: &'static str,
    pub resend_email: &'static str,
    pub resend_after: &'static str,
    pub resend_letter_after: &'static str,
    pub new_code_sent: &'static str,
    pub new_letter_sent: &'static str,
    pub email_sent: &'static str,
    pub email_spam_hint: &'static str,

    pub password_title: &'static str,
    pub password_heading: &'static str,
    pub password_intro: &'static str,
    pub password: &'static str,
    pub password_confirmation: &'static str,
    pub password_rules: &'static str,
    pub strength_label: &'static str,
    pub strength_weak: &'static str,
    pub strength_medium: &'static str,
    pub strength_strong: &'static str,
    pub save: &'static str,

    pub done_title: &'static str,
    pub done_text: &'static str,
    pub done_login_note: &'static str,
    pub go_services: &'static str,
    pub login_and_fill: &'static str,

    pub login_title: &'static str,
    pub login_required: &'static str,
    pub login_label: &'static str,
    pub login_hint: &'static str,
    pub remember_me: &'static str,
    pub login_button: &'static str,
    pub bad_credentials: &'static str,
    pub no_account: &'static str,
    pub logged_out: &'static str,

    pub me_title: &'static str,
    pub me_general: &'static str,
    pub me_name: &'static str,
    pub me_contacts: &'static str,
    pub me_not_given: &'static str,
    pub me_level: &'static str,
    pub level_simplified: &'static str,
    pub level_standard: &'static str,
    pub level_confirmed: &'static str,
    pub me_next_levels: &'static str,
    pub me_standard_opens: &'static str,
    pub me_confirmed_opens: &'static str,
    pub me_how_standard: &'static str,
    pub me_how_confirmed: &'static str,
    pub current_level: &'static str,

    pub services_title: &'static str,
    pub services_intro: &'static str,
    pub services_needs: &'static str,
    pub services_available: &'static str,
    pub services_unavailable: &'static str,

    pub link_invalid_title: &'static str,
    /// The page an e-mail link opens: it confirms only with the button.
    pub link_confirm_title: &'static str,
    pub link_confirm_registration: &'static str,
    pub link_confirm_recovery: &'static str,
    pub link_confirm_contact: &'static str,
    pub link_confirm_button: &'static str,
    pub link_confirm_not_you: &'static str,
    /// The password step came without the continuation of whoever
    /// confirmed (another browser, or someone who only started the flow).
    pub err_continuation: &'static str,
    pub link_invalid: &'static str,
    pub link_expired: &'static str,
    pub register_again: &'static str,

    pub error_title: &'static str,
    pub not_found: &'static str,
    pub forbidden_csrf: &'static str,
    pub internal: &'static str,
    pub unavailable: &'static str,
    pub too_many: &'static str,
    pub bad_request: &'static str,
    pub too_large: &'static str,
    pub back_home: &'static str,
    pub registration_gone: &'static str,

    pub err_required: &'static str,
    pub err_name_too_long: &'static str,
    pub err_name_characters: &'static str,
    pub err_name_mixed: &'static str,
    pub err_name_separator: &'static str,
    pub err_phone_characters: &'static str,
    pub err_phone_length: &'static str,
    pub err_phone_not_mobile: &'static str,
    pub err_phone_not_russian: &'static str,
    pub err_email_missing_at: &'static str,
    pub err_email_local: &'static str,
    pub err_email_domain: &'static str,
    pub err_email_too_long: &'static str,
    pub err_contact_both: &'static str,
    pub err_consent: &'static str,
    pub err_code_format: &'static str,
    pub err_code_wrong: &'static str,
    pub err_code_expired: &'static str,
    pub err_code_exhausted: &'static str,
    pub err_token: &'static str,
    pub err_pw_too_short: &'static str,
    pub err_pw_too_long: &'static str,
    pub err_pw_common: &'static str,
    pub err_pw_phone: &'static str,
    pub err_pw_email: &'static str,
    pub err_pw_name: &'static str,
    pub err_pw_service: &'static str,
    pub err_pw_snils: &'static str,
    pub err_pw_repetitive: &'static str,
    pub err_pw_mismatch: &'static str,
    pub err_not_confirmed: &'static str,
    pub err_account_exists: &'static str,
    pub err_field_type: &'static str,
    pub err_malformed_json: &'static str,
    pub err_malformed_query: &'static str,
    pub err_unsupported_media: &'static str,
    pub err_unauthorized: &'static str,
    pub err_invalid_fields: &'static str,
}

pub fn tr(lang: Lang) -> &'static Tr {
    match lang {
        Lang::Ru => &RU,
        Lang::En => &EN,
    }
}

/// Puts `value` where the text has `{}`.
pub fn fill(template: &str, value: impl std::fmt::Display) -> String {
    template.replacen("{}", &value.to_string(), 1)
}

impl Tr {
    pub fn name_error(&self, e: NameError) -> &'static str {
        match e {
            NameError::Empty => self.err_required,
            NameError::TooLong => self.err_name_too_long,
            NameError::InvalidCharacters => self.err_name_characters,
            NameError::MixedScripts => self.err_name_mixed,
            NameError::MisplacedSeparator => self.err_name_separator,
        }
    }

    pub fn phone_error(&self, e: PhoneError) -> &'static str {
        match e {
            PhoneError::Empty => self.err_required,
            PhoneError::InvalidCharacters => self.err_phone_characters,
            PhoneError::WrongLength => self.err_phone_length,
            PhoneError::NotMobile => self.err_phone_not_mobile,
            PhoneError::NotRussian => self.err_phone_not_russian,
        }
    }

    pub fn email_error(&self, e: EmailError) -> &'static str {
        match e {
            EmailError::Empty => self.err_required,
            EmailError::MissingAt => self.err_email_missing_at,
            EmailError::InvalidLocalPart => self.err_email_local,
            EmailError::InvalidDomain => self.err_email_domain,
            EmailError::TooLong => self.err_email_too_long,
        }
    }

    pub fn password_problem(&self, p: PasswordProblem) -> &'static str {
        match p {
            PasswordProblem::TooShort => self.err_pw_too_short,
            PasswordProblem::TooLong => self.err_pw_too_long,
            PasswordProblem::Common => self.err_pw_common,
            PasswordProblem::ContainsPhone => self.err_pw_phone,
            PasswordProblem::ContainsEmailName => self.err_pw_email,
            PasswordProblem::ContainsName => self.err_pw_name,
            PasswordProblem::Repetitive => self.err_pw_repetitive,
            PasswordProblem::ServiceName => self.err_pw_service,
            PasswordProblem::ContainsSnils => self.err_pw_snils,
        }
    }

    pub fn strength(&self, s: PasswordStrength) -> &'static str {
        match s {
            PasswordStrength::Weak => self.strength_weak,
            PasswordStrength::Medium => self.strength_medium,
            PasswordStrength::Strong => self.strength_strong,
        }
    }

    pub fn level(&self, level: uslugi_domain::AccountLevel) -> &'static str {
        match level {
            uslugi_domain::AccountLevel::Simplified => self.level_simplified,
            uslugi_domain::AccountLevel::Standard => self.level_standard,
            uslugi_domain::AccountLevel::Confirmed => self.level_confirmed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_their_plural_form() {
        let ru = |n| RU.code_valid_seconds.fill(n);
        assert_eq!(ru(1), "Код действителен ещё 1 секунду");
        assert_eq!(ru(2), "Код действителен ещё 2 секунды");
        assert_eq!(ru(5), "Код действителен ещё 5 секунд");
        for (n, form) in [
            (0, "секунд"),
            (4, "секунды"),
            (11, "секунд"),
            (12, "секунд"),
            (14, "секунд"),
            (21, "секунду"),
            (22, "секунды"),
            (25, "секунд"),
            (101, "секунду"),
            (111, "секунд"),
            (299, "секунд"),
        ] {
            assert!(ru(n).ends_with(&format!(" {n} {form}")), "{n}: {}", ru(n));
        }
        let en = |n| EN.code_valid_seconds.fill(n);
        assert_eq!(en(1), "The code is valid for another 1 second");
        assert_eq!(en(21), "The code is valid for another 21 seconds");
        assert_eq!(en(0), "The code is valid for another 0 seconds");
        assert_eq!(RU.pd.err_too_long.fill(3), "Не больше 3 символов");
        assert_eq!(RU.pd.err_too_long.fill(1), "Не больше 1 символа");
        assert_eq!(RU.pd.err_too_long.fill(21), "Не больше 21 символа");
        assert_eq!(EN.pd.err_too_long.fill(1), "At most 1 character");
    }
}
