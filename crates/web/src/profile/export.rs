//! The readable copy of «Скачать мои данные»: the very document the JSON
//! file holds, as a PDF in the person's language, with the labels the
//! pages use (`/me/data.pdf`).
use uslugi_app::registries::Registry;
use uslugi_app::subject::AccountData;
use uslugi_app::verification::FailureReason;
use uslugi_domain::{
    AccountLevel, CheckStatus, ConfirmedVia, FactorMethod, Token, VerificationStatus,
};
use uslugi_print::{Document, Row, Section};

use crate::AppState;
use crate::i18n::{Tr, fill};
use crate::page::{Ctx, local_time};
use crate::personal_data::{address_line, check_state_text, data_rows, reason_text};

fn row(label: &str, value: impl Into<String>) -> Row {
    Row {
        label: label.to_owned(),
        value: value.into(),
    }
}

/// The document of `data` for the person of `ctx`, times in the portal's
/// zone.
pub(super) fn document(state: &AppState, ctx: &Ctx, data: &AccountData) -> Document {
    let t = ctx.tr;
    let x = t.export;
    let at = |when| local_time(state, when, ctx);
    let sections = vec![
        account(t, data, &at),
        personal_data(t, data, &at),
        checks(t, data),
        Section {
            heading: x.second_factor.to_owned(),
            rows: match &data.second_factor {
                None => vec![row(x.status, t.factor.off)],
                Some(f) => {
                    let mut rows = vec![row(
                        x.status,
                        if FactorMethod::parse(f.method) == Some(FactorMethod::Sms) {
                            fill(t.factor.on_sms, data.account.phone.as_deref().unwrap_or(""))
                        } else {
                            t.factor.on_app.to_owned()
                        },
                    )];
                    if let Some(since) = f.enabled_at {
                        rows.push(row(x.factor_since, at(since)));
                    }
                    rows.push(row("", fill(t.factor.codes_left, f.backup_codes_left)));
                    rows
                }
            },
        },
        Section {
            heading: x.letter.to_owned(),
            rows: match &data.identity_letter {
                None => vec![row(x.status, x.none)],
                Some(l) => {
                    let mut rows = vec![
                        row(x.status, crate::identity_letter::status_text(t, l.status)),
                        row(x.letter_address, &l.address_masked),
                    ];
                    if let Some(n) = &l.tracking_number {
                        rows.push(row(t.letter.tracking, n));
                    }
                    if let Some(sent) = l.sent_at {
                        rows.push(row(x.sent_at, at(sent)));
                    }
                    if let Some(until) = l.expires_at {
                        rows.push(row(x.valid_until, at(until)));
                    }
                    rows
                }
            },
        },
        Section {
            heading: x.sessions.to_owned(),
            rows: data
                .sessions
                .iter()
                .map(|s| {
                    let mut parts = vec![
                        format!("{}: {}", x.started, at(s.created_at)),
                        format!("{}: {}", x.last_active, at(s.last_seen_at)),
                    ];
                    if let Some(n) = &s.network {
                        parts.push(format!("{}: {n}", x.network));
                    }
                    if let Some(p) = &s.place {
                        parts.push(p.clone());
                    }
                    parts.push(format!(
                        "{}: {}",
                        x.remembered,
                        if s.remember { x.yes } else { x.no }
                    ));
                    row(&s.device, parts.join("; "))
                })
                .collect(),
        },
        Section {
            heading: x.consents.to_owned(),
            rows: data
                .consents
                .iter()
                .map(|c| {
                    let what = match c.what.as_str() {
                        "terms_of_use" => x.consent_terms,
                        "personal_data_processing" => x.consent_personal_data,
                        other => other,
                    };
                    row(&at(c.at), what)
                })
                .collect(),
        },
        Section {
            heading: x.history.to_owned(),
            rows: data
                .history
                .iter()
                .map(|h| {
                    let event = uslugi_app::security::SecurityEvent {
                        at: h.at,
                        action: h.action.clone(),
                        outcome: h.outcome.clone(),
                        by_operator: h.by == "operator",
                        place: None,
                    };
                    row(&at(h.at), crate::security::event_text(t, &event))
                })
                .collect(),
        },
    ];
    Document {
        title: x.title.to_owned(),
        subtitle: fill(x.made_at, at(data.exported_at)),
        sections,
        footer: t.brand.to_owned(),
        page_of: x.page_of.to_owned(),
    }
}

fn account(t: &Tr, data: &AccountData, at: &dyn Fn(time::OffsetDateTime) -> String) -> Section {
    let x = t.export;
    let a = &data.account;
    let level = AccountLevel::parse(a.level).map_or(a.level, |l| t.level(l));
    let mut rows = vec![
        row(t.me_level, level),
        row(t.me_name, format!("{} {}", a.surname, a.given_name)),
        row(
            t.phone,
            a.phone.clone().unwrap_or_else(|| t.me_not_given.into()),
        ),
        row(
            t.email,
            a.email.clone().unwrap_or_else(|| t.me_not_given.into()),
        ),
        row(x.registered_at, at(a.created_at)),
    ];
    if let Some(confirmed) = a.confirmed_at {
        let via = crate::identity_letter::confirmed_via_text(
            t,
            a.confirmed_via.and_then(ConfirmedVia::parse),
        );
        rows.push(row(x.confirmed, format!("{via}, {}", at(confirmed))));
    }
    rows.push(row(x.account_id, a.id.to_string()));
    Section {
        heading: x.account.to_owned(),
        rows,
    }
}

fn personal_data(
    t: &Tr,
    data: &AccountData,
    at: &dyn Fn(time::OffsetDateTime) -> String,
) -> Section {
    let x = t.export;
    let p = &data.personal_data;
    let status = match VerificationStatus::parse(p.status) {
        Some(VerificationStatus::Verified) => t.pd.data_verified_badge,
        Some(VerificationStatus::InProgress) => t.pd.data_checking_badge,
        Some(VerificationStatus::Failed) => t.pd.data_failed_badge,
        Some(VerificationStatus::Draft) | None => t.pd.data_draft_badge,
    };
    let mut rows = vec![row(x.status, status)];
    if let Some(verified) = &p.verified {
        rows.extend(data_rows(t, verified).into_iter().map(|(l, v)| row(l, v)));
        if let Some(when) = p.verified_at {
            rows.push(row(x.verified_at, at(when)));
        }
    }
    if let Some(submitted) = p
        .submitted
        .as_ref()
        .filter(|s| Some(*s) != p.verified.as_ref())
    {
        rows.push(row(x.submitted, ""));
        rows.extend(data_rows(t, submitted).into_iter().map(|(l, v)| row(l, v)));
    }
    if p.draft.is_some() {
        rows.push(row(x.draft, x.draft_kept));
    }
    if let Some(a) = &p.addresses {
        rows.push(row(
            t.pd.registration_address,
            address_line(&a.registration),
        ));
        rows.push(row(t.pd.actual_address, address_line(&a.actual)));
    }
    Section {
        heading: x.personal_data.to_owned(),
        rows,
    }
}

fn checks(t: &Tr, data: &AccountData) -> Section {
    Section {
        heading: t.export.checks.to_owned(),
        rows: data
            .personal_data
            .checks
            .iter()
            .map(|c| {
                let registry = match c.registry {
                    Registry::Sfr => t.pd.check_sfr,
                    Registry::Mvd => t.pd.check_mvd,
                };
                let mut state = CheckStatus::parse(c.status)
                    .map_or(c.status, |s| check_state_text(t, s))
                    .to_owned();
                if let Some(reason) = c.reason.and_then(FailureReason::parse) {
                    state = format!("{state}: {}", reason_text(t, reason));
                }
                row(registry, state)
            })
            .collect(),
    }
}
