//! The texts of the SMS and letters the identity system sends.
//!
//! An SMS with a code carries that code as its only six-digit number, so a
//! phone (or a test) can pick it out without reading the words around it.
use time::{OffsetDateTime, UtcOffset};

use crate::lang::Lang;

pub fn format_local(at: OffsetDateTime, offset: UtcOffset, lang: Lang) -> String {
    let local = at.to_offset(offset);
    let zone = if offset.whole_hours() == 3 && offset.minutes_past_hour() == 0 {
        match lang {
            Lang::Ru => "МСК".to_owned(),
            Lang::En => "Moscow time".to_owned(),
        }
    } else {
        let (h, m, _) = offset.as_hms();
        format!(
            "UTC{}{:02}:{:02}",
            if h < 0 || m < 0 { '-' } else { '+' },
            h.abs(),
            m.abs()
        )
    };
    format!(
        "{:02}.{:02}.{} {:02}:{:02} ({zone})",
        local.day(),
        u8::from(local.month()),
        local.year(),
        local.hour(),
        local.minute()
    )
}

pub fn registration_code_sms(lang: Lang, code: &str) -> String {
    match lang {
        Lang::Ru => format!(
            "Код подтверждения: {code}. Никому не сообщайте его, даже сотрудникам портала. Госуслуги (uslugi)"
        ),
        Lang::En => format!(
            "Confirmation code: {code}. Do not tell it to anyone, not even portal staff. uslugi"
        ),
    }
}

/// The code the citizen reads out to the operator registering them.
pub fn desk_phone_code_sms(lang: Lang, code: &str) -> String {
    match lang {
        Lang::Ru => format!(
            "Код {code} — назовите его сотруднику центра обслуживания, который регистрирует вас на портале. Если вы не в центре, никому его не сообщайте. Госуслуги (uslugi)"
        ),
        Lang::En => format!(
            "Code {code}: tell it to the service-center employee registering you on the portal. If you are not at a center, tell it to no one. uslugi"
        ),
    }
}

pub fn already_registered_sms(lang: Lang, base_url: &str) -> String {
    match lang {
        Lang::Ru => format!(
            "На этот номер уже зарегистрирована учётная запись. Войдите: {base_url}/login. Если не помните пароль, восстановите доступ в центре обслуживания. Госуслуги (uslugi)"
        ),
        Lang::En => format!(
            "An account is already registered to this number. Log in: {base_url}/login. If you forgot the password, restore access at a service center. uslugi"
        ),
    }
}

pub struct Letter {
    pub subject: String,
    pub body: String,
}

pub fn registration_link_letter(
    lang: Lang,
    given_name: &str,
    link: &str,
    valid_until: &str,
) -> Letter {
    match lang {
        Lang::Ru => Letter {
            subject: "Подтверждение электронной почты".into(),
            body: format!(
                "Здравствуйте, {given_name}!\n\nВы начали регистрацию на портале государственных услуг. \
                 Чтобы подтвердить адрес электронной почты и задать пароль, перейдите по ссылке:\n\n{link}\n\n\
                 Ссылка действует до {valid_until} и может быть использована один раз.\n\n\
                 Если вы не регистрировались, просто не отвечайте на это письмо: без перехода по ссылке учётная запись не будет создана.\n"
            ),
        },
        Lang::En => Letter {
            subject: "Confirm your e-mail address".into(),
            body: format!(
                "Hello, {given_name}!\n\nYou have started registering on the state services portal. \
                 To confirm your e-mail address and set a password, follow the link:\n\n{link}\n\n\
                 The link is valid until {valid_until} and can be used once.\n\n\
                 If you did not register, ignore this letter: no account is created without the link.\n"
            ),
        },
    }
}

pub fn already_registered_letter(lang: Lang, base_url: &str) -> Letter {
    match lang {
        Lang::Ru => Letter {
            subject: "Учётная запись уже существует".into(),
            body: format!(
                "Здравствуйте!\n\nКто-то начал регистрацию на портале государственных услуг с этим адресом электронной почты, \
                 но учётная запись с этим адресом уже есть.\n\nВойти: {base_url}/login\n\n\
                 Если вы не помните пароль, восстановите доступ в центре обслуживания. \
                 Если регистрацию начинали не вы, ничего делать не нужно.\n"
            ),
        },
        Lang::En => Letter {
            subject: "You already have an account".into(),
            body: format!(
                "Hello!\n\nSomeone started registering on the state services portal with this e-mail address, \
                 but an account with this address already exists.\n\nLog in: {base_url}/login\n\n\
                 If you forgot the password, restore access at a service center. \
                 If it was not you, there is nothing to do.\n"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn six_digit_numbers(s: &str) -> Vec<String> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter(|w| w.len() == 6)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn code_sms_holds_the_code_as_its_only_six_digit_number() {
        for lang in [Lang::Ru, Lang::En] {
            assert_eq!(
                six_digit_numbers(&registration_code_sms(lang, "042917")),
                ["042917"]
            );
            assert!(
                six_digit_numbers(&already_registered_sms(lang, "https://uslugi.example:8443"))
                    .is_empty()
            );
        }
    }

    #[test]
    fn times_are_shown_in_moscow_time_by_default() {
        let at = datetime!(2026-03-02 21:30 UTC);
        let msk = UtcOffset::from_hms(3, 0, 0).unwrap();
        assert_eq!(format_local(at, msk, Lang::Ru), "03.03.2026 00:30 (МСК)");
        let yekt = UtcOffset::from_hms(5, 0, 0).unwrap();
        assert_eq!(
            format_local(at, yekt, Lang::En),
            "03.03.2026 02:30 (UTC+05:00)"
        );
    }
}

/// The result of the personal data checks: a short SMS, or a letter.
pub fn verification_result(lang: Lang, base_url: &str, outcome: VerificationOutcome) -> Letter {
    let link = format!("{base_url}/me/verification");
    match (lang, outcome) {
        (Lang::Ru, VerificationOutcome::Passed) => Letter {
            subject: "Личные данные проверены".into(),
            body: format!(
                "Ваши личные данные успешно проверены, учётная запись стала стандартной. Подтвердите личность, чтобы получить доступ ко всем услугам: {link} Госуслуги (uslugi)"
            ),
        },
        (Lang::Ru, VerificationOutcome::Failed) => Letter {
            subject: "Личные данные не прошли проверку".into(),
            body: format!(
                "Проверка личных данных завершилась с ошибкой. Посмотрите, что исправить, и отправьте данные ещё раз: {link} Госуслуги (uslugi)"
            ),
        },
        (Lang::Ru, VerificationOutcome::SnilsTaken) => Letter {
            subject: "СНИЛС уже используется".into(),
            body: format!(
                "Этот СНИЛС уже подтверждён в другой учётной записи. Войдите в неё или восстановите к ней доступ: {base_url}/login Госуслуги (uslugi)"
            ),
        },
        (Lang::En, VerificationOutcome::Passed) => Letter {
            subject: "Your personal data are verified".into(),
            body: format!(
                "Your personal data passed the checks; your account is now standard. Confirm your identity to use every service: {link} uslugi"
            ),
        },
        (Lang::En, VerificationOutcome::Failed) => Letter {
            subject: "Your personal data did not pass the checks".into(),
            body: format!(
                "The check of your personal data failed. See what to correct and submit them again: {link} uslugi"
            ),
        },
        (Lang::En, VerificationOutcome::SnilsTaken) => Letter {
            subject: "This SNILS is already in use".into(),
            body: format!(
                "This SNILS is already verified in another account. Log in to it or recover access to it: {base_url}/login uslugi"
            ),
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationOutcome {
    Passed,
    Failed,
    SnilsTaken,
}

/// «Личность подтверждена»: the account is confirmed.
pub fn identity_confirmed(lang: Lang, base_url: &str) -> Letter {
    match lang {
        Lang::Ru => Letter {
            subject: "Учётная запись подтверждена".into(),
            body: format!(
                "Ваша личность подтверждена, учётная запись стала подтверждённой: вам доступны все услуги портала {base_url}/services Госуслуги (uslugi)"
            ),
        },
        Lang::En => Letter {
            subject: "Your account is confirmed".into(),
            body: format!(
                "Your identity is confirmed and your account is now confirmed: every service is open to you {base_url}/services uslugi"
            ),
        },
    }
}

/// To the account a SNILS was taken from: a center checked the passport of
/// the person it belongs to. What happened and where to turn if it was
/// their own.
pub fn snils_transferred(lang: Lang, base_url: &str) -> Letter {
    match lang {
        Lang::Ru => Letter {
            subject: "СНИЛС передан другой учётной записи".into(),
            body: format!(
                "СНИЛС из вашей учётной записи передан учётной записи его владельца: центр обслуживания проверил его паспорт. \
                 Ваша учётная запись стала упрощённой, личные данные в ней больше не проверены. \
                 Если СНИЛС ваш, обратитесь с паспортом в центр обслуживания {base_url}/service-centers Госуслуги (uslugi)"
            ),
        },
        Lang::En => Letter {
            subject: "Your SNILS was moved to another account".into(),
            body: format!(
                "The SNILS of your account was moved to the account of its holder: a service center checked their passport. \
                 Your account is simplified now and its personal data are no longer verified. \
                 If the SNILS is yours, visit a service center with your passport {base_url}/service-centers uslugi"
            ),
        },
    }
}

/// The first password of an account registered at a service center, or the
/// one that restores access there. The only word of ten letters and digits.
pub fn temporary_password_sms(
    lang: Lang,
    password: &str,
    base_url: &str,
    registered: bool,
) -> String {
    match (lang, registered) {
        (Lang::Ru, true) => format!(
            "Вы зарегистрированы на портале {base_url}, учётная запись подтверждена. Временный пароль: {password} \
             (действует 24 часа). Логин: этот номер телефона. При первом входе задайте свой пароль. Госуслуги (uslugi)"
        ),
        (Lang::Ru, false) => format!(
            "Доступ к учётной записи восстановлен в центре обслуживания. Временный пароль: {password} \
             (действует 24 часа). Войдите на {base_url}/login и задайте свой пароль. Госуслуги (uslugi)"
        ),
        (Lang::En, true) => format!(
            "You are registered at {base_url}; your account is confirmed. Temporary password: {password} \
             (valid 24 hours). Login: this phone number. Set your own password at the first login. uslugi"
        ),
        (Lang::En, false) => format!(
            "Access to your account was restored at a service center. Temporary password: {password} \
             (valid 24 hours). Log in at {base_url}/login and set your own password. uslugi"
        ),
    }
}

/// «Не удаётся войти?»: the code, as the only six-digit number.
pub fn recovery_code_sms(lang: Lang, code: &str) -> String {
    match lang {
        Lang::Ru => format!(
            "Код для восстановления доступа: {code}. Никому не сообщайте его. Если вы не восстанавливаете доступ, ничего не делайте. Госуслуги (uslugi)"
        ),
        Lang::En => format!(
            "Access recovery code: {code}. Do not tell it to anyone. If you are not recovering access, do nothing. uslugi"
        ),
    }
}

pub fn recovery_link_letter(lang: Lang, link: &str, valid_until: &str) -> Letter {
    match lang {
        Lang::Ru => Letter {
            subject: "Восстановление доступа".into(),
            body: format!(
                "Здравствуйте!\n\nЧтобы задать новый пароль учётной записи, перейдите по ссылке:\n\n{link}\n\n\
                 Ссылка действует до {valid_until} и может быть использована один раз.\n\n\
                 Если вы не восстанавливаете доступ, просто не отвечайте на это письмо: пароль останется прежним.\n"
            ),
        },
        Lang::En => Letter {
            subject: "Access recovery".into(),
            body: format!(
                "Hello!\n\nTo set a new password of your account, follow the link:\n\n{link}\n\n\
                 The link is valid until {valid_until} and works once.\n\n\
                 If you are not recovering access, just ignore this letter: the password stays as it is.\n"
            ),
        },
    }
}

/// What a recovery ended besides the password: the owner is told.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecoveryEnded {
    pub sessions: usize,
    /// Other recoveries and contact changes that were still waiting.
    pub pending_requests: usize,
}

/// Sent to every confirmed contact once access was recovered.
pub fn access_recovered(lang: Lang, base_url: &str, ended: RecoveryEnded) -> Letter {
    let RecoveryEnded {
        sessions,
        pending_requests,
    } = ended;
    match lang {
        Lang::Ru => Letter {
            subject: "Пароль изменён: доступ восстановлен".into(),
            body: format!(
                "Доступ к вашей учётной записи восстановлен, пароль изменён. Завершено сеансов: {sessions}. Отменено незаконченных запросов на восстановление доступа и смену телефона или почты: {pending_requests}. Вход с подтверждением остался включённым, если был включён. Если это были не вы, восстановите доступ снова ({base_url}/recover) или обратитесь в центр обслуживания. Госуслуги (uslugi)"
            ),
        },
        Lang::En => Letter {
            subject: "Password changed: access recovered".into(),
            body: format!(
                "Access to your account was recovered and the password changed. Sessions ended: {sessions}. Unfinished requests to recover access or change the phone or e-mail cancelled: {pending_requests}. Two-step login stays on if it was on. If it was not you, recover access again ({base_url}/recover) or visit a service center. uslugi"
            ),
        },
    }
}

/// The recovery code by e-mail: a SNILS login of an account without a
/// phone gets a code like every SNILS login, so the answer for a SNILS
/// never tells which contacts its account has.
pub fn recovery_code_letter(lang: Lang, code: &str) -> Letter {
    match lang {
        Lang::Ru => Letter {
            subject: "Код для восстановления доступа".into(),
            body: format!(
                "Здравствуйте!\n\nКод для восстановления доступа: {code}\n\nНикому не сообщайте его. \
                 Если вы не восстанавливаете доступ, ничего не делайте: пароль останется прежним.\n"
            ),
        },
        Lang::En => Letter {
            subject: "Access recovery code".into(),
            body: format!(
                "Hello!\n\nYour access recovery code: {code}\n\nDo not tell it to anyone. \
                 If you are not recovering access, do nothing: the password stays as it is.\n"
            ),
        },
    }
}

/// A login from a device the account had not used.
pub fn new_device_login(lang: Lang, device: &str, when: &str, base_url: &str) -> Letter {
    match lang {
        Lang::Ru => Letter {
            subject: "Вход с нового устройства".into(),
            body: format!(
                "Вход в учётную запись с нового устройства: {device}, {when}. Если это были не вы, смените пароль и завершите чужие сеансы: {base_url}/me/security Госуслуги (uslugi)"
            ),
        },
        Lang::En => Letter {
            subject: "Login from a new device".into(),
            body: format!(
                "Your account was logged in to from a new device: {device}, {when}. If it was not you, change the password and end the other sessions: {base_url}/me/security uslugi"
            ),
        },
    }
}

/// The password was changed from «Мои данные».
pub fn password_changed(lang: Lang, when: &str, base_url: &str) -> Letter {
    match lang {
        Lang::Ru => Letter {
            subject: "Пароль изменён".into(),
            body: format!(
                "Пароль вашей учётной записи изменён {when}. Если это были не вы, восстановите доступ: {base_url}/recover Госуслуги (uslugi)"
            ),
        },
        Lang::En => Letter {
            subject: "Password changed".into(),
            body: format!(
                "The password of your account was changed {when}. If it was not you, recover access: {base_url}/recover uslugi"
            ),
        },
    }
}

/// The code of the second factor, by SMS. What it is for is said, so a code
/// asked for by someone else is not typed in by mistake.
pub fn factor_code_sms(lang: Lang, code: &str, login: bool) -> String {
    match (lang, login) {
        (Lang::Ru, true) => format!(
            "Код для входа: {code}. Никому не сообщайте его, даже сотрудникам портала. Если вы не входите, смените пароль. Госуслуги (uslugi)"
        ),
        (Lang::Ru, false) => format!(
            "Код для изменения входа с подтверждением: {code}. Никому не сообщайте его. Госуслуги (uslugi)"
        ),
        (Lang::En, true) => format!(
            "Login code: {code}. Do not tell it to anyone, not even portal staff. If you are not logging in, change your password. uslugi"
        ),
        (Lang::En, false) => {
            format!("Code to change the two-step login: {code}. Do not tell it to anyone. uslugi")
        }
    }
}

/// What happened to the second factor, for [`second_factor_changed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorNews {
    /// Turned on with SMS codes.
    OnSms,
    /// Turned on with an authenticator app.
    OnApp,
    Off,
    NewBackupCodes,
}

/// Sent to every confirmed contact when the second factor changes.
pub fn second_factor_changed(lang: Lang, news: FactorNews, when: &str, base_url: &str) -> Letter {
    let (subject, what) = match (lang, news) {
        (Lang::Ru, FactorNews::OnSms) => (
            "Вход с подтверждением включён",
            "включён вход с подтверждением кодом из SMS",
        ),
        (Lang::Ru, FactorNews::OnApp) => (
            "Вход с подтверждением включён",
            "включён вход с подтверждением кодом из приложения",
        ),
        (Lang::Ru, FactorNews::Off) => (
            "Вход с подтверждением отключён",
            "отключён вход с подтверждением",
        ),
        (Lang::Ru, FactorNews::NewBackupCodes) => (
            "Новые резервные коды",
            "выпущены новые резервные коды, прежние больше не действуют",
        ),
        (Lang::En, FactorNews::OnSms) => (
            "Two-step login turned on",
            "two-step login with SMS codes was turned on",
        ),
        (Lang::En, FactorNews::OnApp) => (
            "Two-step login turned on",
            "two-step login with an authenticator app was turned on",
        ),
        (Lang::En, FactorNews::Off) => {
            ("Two-step login turned off", "two-step login was turned off")
        }
        (Lang::En, FactorNews::NewBackupCodes) => (
            "New backup codes",
            "new backup codes were issued, the old ones no longer work",
        ),
    };
    let body = match lang {
        Lang::Ru => format!(
            "В вашей учётной записи {what} ({when}). Если это были не вы, восстановите доступ: {base_url}/recover или обратитесь в центр обслуживания. Госуслуги (uslugi)"
        ),
        Lang::En => format!(
            "In your account {what} ({when}). If it was not you, recover access: {base_url}/recover or visit a service center. uslugi"
        ),
    };
    Letter {
        subject: subject.into(),
        body,
    }
}

/// Sent to every confirmed contact when the citizen asks to delete the
/// account: the date it is erased, and that a login before then cancels it.
pub fn deletion_scheduled(lang: Lang, erase_on: &str, base_url: &str) -> Letter {
    match lang {
        Lang::Ru => Letter {
            subject: "Учётная запись будет удалена".into(),
            body: format!(
                "Вы попросили удалить учётную запись. Она будет удалена {erase_on}: персональные данные и контакты будут уничтожены, восстановить их будет нельзя. Чтобы отменить удаление, войдите до этой даты: {base_url}/login. Если это были не вы, войдите и смените пароль или обратитесь в центр обслуживания. Госуслуги (uslugi)"
            ),
        },
        Lang::En => Letter {
            subject: "Your account will be deleted".into(),
            body: format!(
                "You asked to delete your account. It will be deleted on {erase_on}: personal data and contacts will be destroyed and cannot be restored. To cancel, log in before that date: {base_url}/login. If it was not you, log in and change your password or visit a service center. uslugi"
            ),
        },
    }
}

/// Sent to every confirmed contact when a login cancels a deletion.
pub fn deletion_cancelled(lang: Lang, when: &str, base_url: &str) -> Letter {
    match lang {
        Lang::Ru => Letter {
            subject: "Удаление учётной записи отменено".into(),
            body: format!(
                "Вы вошли в учётную запись ({when}), и её удаление отменено. Если это были не вы, восстановите доступ: {base_url}/recover. Госуслуги (uslugi)"
            ),
        },
        Lang::En => Letter {
            subject: "Account deletion cancelled".into(),
            body: format!(
                "You logged in ({when}), so the deletion of your account is cancelled. If it was not you, recover access: {base_url}/recover. uslugi"
            ),
        },
    }
}

/// «Изменение телефона»: the code that confirms a new phone, as the only
/// six-digit number.
pub fn contact_change_code_sms(lang: Lang, code: &str) -> String {
    match lang {
        Lang::Ru => format!(
            "Код для привязки номера к учётной записи: {code}. Никому не сообщайте его. Если вы не меняли номер, ничего не делайте. Госуслуги (uslugi)"
        ),
        Lang::En => format!(
            "Code to link this number to your account: {code}. Do not tell it to anyone. If you are not changing your number, do nothing. uslugi"
        ),
    }
}

/// The link that confirms a new e-mail address.
pub fn contact_change_link_letter(lang: Lang, link: &str, valid_until: &str) -> Letter {
    match lang {
        Lang::Ru => Letter {
            subject: "Подтверждение новой электронной почты".into(),
            body: format!(
                "Здравствуйте!\n\nЭтот адрес указан как новая электронная почта учётной записи на портале государственных услуг. \
                 Чтобы подтвердить его, перейдите по ссылке:\n\n{link}\n\n\
                 Ссылка действует до {valid_until} и может быть использована один раз.\n\n\
                 Если вы не меняли адрес, просто не отвечайте на это письмо: без перехода по ссылке ничего не изменится.\n"
            ),
        },
        Lang::En => Letter {
            subject: "Confirm your new e-mail address".into(),
            body: format!(
                "Hello!\n\nThis address was given as the new e-mail of an account on the state services portal. \
                 To confirm it, follow the link:\n\n{link}\n\n\
                 The link is valid until {valid_until} and works once.\n\n\
                 If you are not changing your address, ignore this letter: nothing changes without the link.\n"
            ),
        },
    }
}

/// Sent instead of a code or link when the new contact already belongs to
/// an account (perhaps this very one): the person who gave it sees the
/// same answer as for any other contact.
pub fn contact_in_use(lang: Lang, base_url: &str) -> Letter {
    match lang {
        Lang::Ru => Letter {
            subject: "Контакт уже используется".into(),
            body: format!(
                "Кто-то попытался привязать этот контакт к учётной записи на портале государственных услуг, но он уже принадлежит учётной записи, поэтому код не отправлен. \
                 Войти: {base_url}/login. Если это были не вы, ничего делать не нужно. Госуслуги (uslugi)"
            ),
        },
        Lang::En => Letter {
            subject: "This contact is already in use".into(),
            body: format!(
                "Someone tried to link this contact to an account on the state services portal, but it already belongs to an account, so no code was sent. \
                 Log in: {base_url}/login. If it was not you, there is nothing to do. uslugi"
            ),
        },
    }
}

/// Told to the old contact (or, for an added one, the other contact) once a
/// change is confirmed. `masked`: the new value, mostly hidden.
pub fn contact_changed(
    lang: Lang,
    phone: bool,
    added: bool,
    masked: &str,
    base_url: &str,
) -> Letter {
    let (subject, what) = match (lang, phone, added) {
        (Lang::Ru, true, false) => (
            "Номер телефона изменён",
            format!("Номер телефона вашей учётной записи изменён на {masked}."),
        ),
        (Lang::Ru, true, true) => (
            "Номер телефона добавлен",
            format!("К вашей учётной записи добавлен номер телефона {masked}."),
        ),
        (Lang::Ru, false, false) => (
            "Электронная почта изменена",
            format!("Электронная почта вашей учётной записи изменена на {masked}."),
        ),
        (Lang::Ru, false, true) => (
            "Электронная почта добавлена",
            format!("К вашей учётной записи добавлена электронная почта {masked}."),
        ),
        (Lang::En, true, false) => (
            "Phone number changed",
            format!("The phone number of your account was changed to {masked}."),
        ),
        (Lang::En, true, true) => (
            "Phone number added",
            format!("The phone number {masked} was added to your account."),
        ),
        (Lang::En, false, false) => (
            "E-mail changed",
            format!("The e-mail of your account was changed to {masked}."),
        ),
        (Lang::En, false, true) => (
            "E-mail added",
            format!("The e-mail {masked} was added to your account."),
        ),
    };
    let body = match lang {
        Lang::Ru => format!(
            "{what} Если это были не вы, восстановите доступ ({base_url}/recover) или обратитесь в центр обслуживания с паспортом. Госуслуги (uslugi)"
        ),
        Lang::En => format!(
            "{what} If it was not you, recover access ({base_url}/recover) or visit a service center with your passport. uslugi"
        ),
    };
    Letter {
        subject: subject.into(),
        body,
    }
}
