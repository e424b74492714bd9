//! «Услуги»: the catalogue, and what the visitor's account level opens.
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Router, routing};
use uslugi_domain::AccountLevel;

use crate::AppState;
use crate::http::session_token;
use crate::i18n::Tr;
use crate::page::{Chrome, Ctx, render};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/services", routing::get(services))
}

pub struct Service {
    pub title: &'static str,
    pub description: &'static str,
    pub level_name: &'static str,
    pub available: bool,
}

#[derive(Template)]
#[template(path = "services.html")]
struct ServicesPage {
    tr: &'static Tr,
    chrome: Chrome,
    services: Vec<Service>,
    level: Option<AccountLevel>,
}

/// The catalogue shown on the services page: what each level opens.
fn catalogue(tr: &Tr) -> Vec<(&'static str, &'static str, AccountLevel)> {
    if tr.lang == "ru" {
        vec![
            (
                "Справочная информация об услугах",
                "Сроки, стоимость, перечень документов и адреса ведомств.",
                AccountLevel::Simplified,
            ),
            (
                "Проверка штрафов ГИБДД",
                "По номеру водительского удостоверения и свидетельства о регистрации транспортного средства.",
                AccountLevel::Simplified,
            ),
            (
                "Запись в центр обслуживания",
                "Выбор удобного времени визита.",
                AccountLevel::Simplified,
            ),
            (
                "Проверка налоговой задолженности",
                "По ИНН; требуются проверенные личные данные.",
                AccountLevel::Standard,
            ),
            (
                "Сведения о пенсионных накоплениях",
                "Выписка из индивидуального лицевого счёта в Социальном фонде.",
                AccountLevel::Standard,
            ),
            (
                "Замена паспорта гражданина РФ",
                "Заявление в МВД России.",
                AccountLevel::Confirmed,
            ),
            (
                "Регистрация по месту жительства",
                "Заявление о регистрации по месту жительства и по месту пребывания.",
                AccountLevel::Confirmed,
            ),
            (
                "Запись ребёнка в детский сад",
                "Постановка на учёт в дошкольное учреждение.",
                AccountLevel::Confirmed,
            ),
        ]
    } else {
        vec![
            (
                "Information about services",
                "Terms, fees, required documents and office addresses.",
                AccountLevel::Simplified,
            ),
            (
                "Traffic fines",
                "By driving licence and vehicle registration numbers.",
                AccountLevel::Simplified,
            ),
            (
                "Appointment at a service center",
                "Choose a convenient time for your visit.",
                AccountLevel::Simplified,
            ),
            (
                "Tax debts",
                "By taxpayer number; needs verified personal data.",
                AccountLevel::Standard,
            ),
            (
                "Pension savings statement",
                "Statement of your individual account at the Social Fund.",
                AccountLevel::Standard,
            ),
            (
                "Replacing a Russian passport",
                "Application to the Ministry of Internal Affairs.",
                AccountLevel::Confirmed,
            ),
            (
                "Registration of residence",
                "Registration at the place of residence or stay.",
                AccountLevel::Confirmed,
            ),
            (
                "Kindergarten enrolment",
                "Putting a child on a kindergarten waiting list.",
                AccountLevel::Confirmed,
            ),
        ]
    }
}

async fn current_level(state: &AppState, headers: &HeaderMap) -> Option<AccountLevel> {
    let token = session_token(headers)?;
    let session = state.accounts.authenticate(&token).await.ok()??;
    Some(
        state
            .accounts
            .profile(session.account_id)
            .await
            .ok()??
            .level,
    )
}

async fn services(State(state): State<AppState>, ctx: Ctx, headers: HeaderMap) -> Response {
    let level = current_level(&state, &headers).await;
    let services = catalogue(ctx.tr)
        .into_iter()
        .map(|(title, description, needs)| Service {
            title,
            description,
            level_name: ctx.tr.level(needs),
            available: level.is_some_and(|l| l >= needs),
        })
        .collect();
    render(
        StatusCode::OK,
        &ServicesPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            services,
            level,
        },
    )
}
