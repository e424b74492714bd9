//! What «Мои данные» (and the console's card) show of the personal data
//! and addresses.
use uslugi_app::verification::PersonalDataView;
use uslugi_domain::{Address, PersonalData, Token, VerificationStatus};

use crate::i18n::Tr;

/// What «Мои данные» shows of personal data and addresses.
pub struct MyPersonalData {
    pub status: &'static str,
    pub badge: &'static str,
    /// Label and value, in the form's order.
    pub rows: Vec<(&'static str, String)>,
    pub changes_checking: bool,
    pub registration_address: Option<String>,
    pub actual_address: Option<String>,
}

pub(crate) fn format_date(d: time::Date) -> String {
    format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year())
}

pub fn address_line(a: &Address) -> String {
    let mut parts = vec![
        a.postal_code.as_str().to_owned(),
        a.region.as_str().to_owned(),
        a.locality.as_str().to_owned(),
        a.street.as_str().to_owned(),
        a.house.as_str().to_owned(),
    ];
    if let Some(b) = &a.building {
        parts.push(b.as_str().to_owned());
    }
    if let Some(f) = &a.flat {
        parts.push(f.as_str().to_owned());
    }
    parts.join(", ")
}

/// Surname, given name and, when there is one, patronymic.
pub(crate) fn full_name(d: &PersonalData) -> String {
    let mut name = format!("{} {}", d.surname.as_str(), d.given_name.as_str());
    if let Some(patronymic) = &d.patronymic {
        name.push(' ');
        name.push_str(patronymic.as_str());
    }
    name
}

pub(crate) fn data_rows(t: &Tr, d: &PersonalData) -> Vec<(&'static str, String)> {
    let p = t.pd;
    vec![
        (t.me_name, full_name(d)),
        (
            p.sex,
            match d.sex {
                uslugi_domain::Sex::Male => p.sex_male,
                uslugi_domain::Sex::Female => p.sex_female,
            }
            .to_owned(),
        ),
        (p.birth_date, format_date(d.birth_date)),
        (p.birth_place, d.birth_place.as_str().to_owned()),
        (p.snils, d.snils.to_string()),
        (p.citizenship, p.citizenship_russia.to_owned()),
        (
            p.document,
            format!(
                "{}, {} {} {}, {}",
                d.document.series_number.as_str(),
                p.issued,
                format_date(d.document.issue_date),
                d.document.issued_by.as_str(),
                d.document.department_code.as_str()
            ),
        ),
    ]
}

pub fn my_personal_data(t: &Tr, v: &PersonalDataView) -> MyPersonalData {
    let p = t.pd;
    let (badge, shown) = match v.state.status {
        VerificationStatus::Verified => (p.data_verified_badge, v.verified.as_ref()),
        VerificationStatus::InProgress => (
            p.data_checking_badge,
            v.verified.as_ref().or(v.submitted.as_ref()),
        ),
        VerificationStatus::Failed => (
            p.data_failed_badge,
            v.verified.as_ref().or(v.submitted.as_ref()),
        ),
        VerificationStatus::Draft => (p.data_draft_badge, None),
    };
    MyPersonalData {
        status: v.state.status.as_str(),
        badge,
        rows: shown.map(|d| data_rows(t, d)).unwrap_or_default(),
        changes_checking: v.verified.is_some() && v.state.status == VerificationStatus::InProgress,
        registration_address: v.addresses.as_ref().map(|a| address_line(&a.registration)),
        actual_address: v.addresses.as_ref().map(|a| address_line(&a.actual)),
    }
}
