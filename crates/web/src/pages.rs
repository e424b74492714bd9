//! Server-rendered pages. Every page works without JavaScript; the script
//! only adds the live countdown and the password-strength meter.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing};
use serde::Deserialize;
use uslugi_app::{
    Confirmation, Contact, LoginError, LoginOutcome, RegistrationError, RegistrationView,
    StartRegistration,
};
use uslugi_domain::Channel;
use uslugi_domain::{AccountLevel, PasswordContext, RegistrationId, Token, assess_password};

use crate::AppState;
use crate::auth::citizen_or_login;
use crate::error::{FieldErrors, PageError};
use crate::forms::{self, RegistrationInput};
use crate::http::{
    ClientIp, CsrfForm, LANG_COOKIE, REGISTRATION_CONTINUE_COOKIE, REGISTRATION_COOKIE,
    SESSION_COOKIE, clear_cookie, cookie, safe_next, session_token, set_cookie,
};
use crate::i18n::{Tr, fill};
use crate::page::{Chrome, Ctx, LinkConfirmPage, local_time, no_store, render, see_other};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", routing::get(home))
        .route("/services", routing::get(services))
        .route("/terms", routing::get(terms))
        .route("/privacy", routing::get(privacy))
        .route("/lang/{code}", routing::get(switch_language))
        .route(
            "/register",
            routing::get(register_form).post(register_submit),
        )
        .route(
            "/register/confirm",
            routing::get(confirm_form).post(confirm_submit),
        )
        .route("/register/resend", routing::post(resend_submit))
        .route(
            "/register/confirm-email",
            routing::get(confirm_email_link).post(confirm_email_submit),
        )
        .route(
            "/register/password",
            routing::get(password_form).post(password_submit),
        )
        .route("/register/done", routing::get(done))
        .route("/login", routing::get(login_form).post(login_submit))
        .route("/logout", routing::post(logout_submit))
        .route("/me", routing::get(me))
}

// ---------------------------------------------------------------- static pages

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    tr: &'static Tr,
    chrome: Chrome,
}

async fn home(ctx: Ctx) -> Response {
    render(
        StatusCode::OK,
        &HomePage {
            tr: ctx.tr,
            chrome: ctx.chrome,
        },
    )
}

#[derive(Template)]
#[template(path = "terms.html")]
struct TermsPage {
    tr: &'static Tr,
    chrome: Chrome,
}

async fn terms(ctx: Ctx) -> Response {
    render(
        StatusCode::OK,
        &TermsPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
        },
    )
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    tr: &'static Tr,
    chrome: Chrome,
}

async fn privacy(ctx: Ctx) -> Response {
    render(
        StatusCode::OK,
        &PrivacyPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
        },
    )
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
    let session = state.identity.authenticate(&token).await.ok()??;
    Some(
        state
            .identity
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

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn switch_language(
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(q): Query<NextQuery>,
) -> Response {
    let lang = uslugi_app::Lang::parse(&code).unwrap_or_default();
    let next = safe_next(q.next.as_deref());
    (
        [(
            header::SET_COOKIE,
            set_cookie(LANG_COOKIE, lang.code(), Some(365 * 24 * 3600)),
        )],
        Redirect::to(&next),
    )
        .into_response()
}

// ---------------------------------------------------------------- registration

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    tr: &'static Tr,
    chrome: Chrome,
    by_email: bool,
    values: RegistrationInput,
    errors: FieldErrors,
}

#[derive(Deserialize)]
struct RegisterQuery {
    via: Option<String>,
    edit: Option<String>,
}

fn registration_id(headers: &HeaderMap) -> Option<RegistrationId> {
    cookie(headers, REGISTRATION_COOKIE).and_then(|v| v.parse().ok())
}

async fn register_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<RegisterQuery>,
) -> Response {
    let mut values = RegistrationInput::default();
    let mut by_email = q.via.as_deref() == Some("email");
    // «Изменить данные»: back to the form with what was entered.
    if q.edit.is_some()
        && let Some(id) = registration_id(&headers)
        && let Ok(view) = state.identity.registration(id).await
    {
        values.surname = Some(view.surname.as_str().to_owned());
        values.given_name = Some(view.given_name.as_str().to_owned());
        match view.contact {
            Contact::Phone(p) => {
                values.phone = Some(p.to_string());
                by_email = q.via.as_deref() == Some("email");
            }
            Contact::Email(e) => {
                values.email = Some(e.as_str().to_owned());
                by_email = q.via.as_deref() != Some("phone");
            }
        }
        values.accept_terms = Some(true);
    }
    render(
        StatusCode::OK,
        &RegisterPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            by_email,
            values,
            errors: FieldErrors::new(),
        },
    )
}

fn registration_error_page(ctx: &Ctx, e: RegistrationError, state: &AppState) -> PageError {
    PageError::from_answer(
        ctx.lang.0,
        forms::registration_answer(ctx.tr, state.identity.now(), &e),
    )
}

async fn register_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    CsrfForm(input): CsrfForm<RegistrationInput>,
) -> Result<Response, PageError> {
    let by_email = input.email.is_some();
    let parsed = match forms::parse_registration(ctx.tr, &input) {
        Ok(p) => p,
        Err(errors) => {
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &RegisterPage {
                    tr: ctx.tr,
                    chrome: ctx.chrome,
                    by_email,
                    values: input,
                    errors,
                },
            ));
        }
    };
    let started = state
        .identity
        .start_registration(StartRegistration {
            surname: parsed.surname,
            given_name: parsed.given_name,
            contact: parsed.contact,
            lang: ctx.lang.0,
            client_ip: ip,
        })
        .await
        .map_err(|e| registration_error_page(&ctx, e, &state))?;
    let max_age = state.identity.policy().registration_ttl.whole_seconds();
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(REGISTRATION_COOKIE, &started.id.to_string(), Some(max_age)),
        )],
        Redirect::to("/register/confirm"),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    tr: &'static Tr,
    chrome: Chrome,
    by_email: bool,
    who: String,
    expires_unix: i64,
    email_sent_text: String,
    valid_until_text: String,
    seconds_left: i64,
    resend_unix: i64,
    resend_after_text: String,
    can_resend_now: bool,
    /// Three wrong entries killed the code: the page must not keep counting
    /// down the life of a code that can no longer be used.
    code_dead: bool,
    notice: Option<&'static str>,
    errors: FieldErrors,
}

fn confirm_page(
    state: &AppState,
    ctx: Ctx,
    view: &RegistrationView,
    notice: Option<&'static str>,
    errors: FieldErrors,
) -> ConfirmPage {
    let now = state.identity.now();
    let who = match &view.contact {
        Contact::Phone(p) => format!("{} {}, {}", view.surname, view.given_name, p),
        Contact::Email(e) => format!("{} {}, {}", view.surname, view.given_name, e.as_str()),
    };
    ConfirmPage {
        by_email: view.channel == Channel::Email,
        who,
        expires_unix: view.secret_expires_at.unix_timestamp(),
        email_sent_text: fill(
            ctx.tr.email_sent,
            local_time(state, view.secret_expires_at, &ctx),
        ),
        valid_until_text: fill(
            ctx.tr.code_valid_until,
            local_time(state, view.secret_expires_at, &ctx),
        ),
        seconds_left: (view.secret_expires_at - now).whole_seconds().max(0),
        resend_unix: view.resend_at.unix_timestamp(),
        resend_after_text: fill(
            if view.channel == Channel::Email {
                ctx.tr.resend_letter_after
            } else {
                ctx.tr.resend_after
            },
            local_time(state, view.resend_at, &ctx),
        ),
        can_resend_now: now >= view.resend_at,
        code_dead: view.attempts_left == 0,
        notice,
        errors,
        tr: ctx.tr,
        chrome: ctx.chrome,
    }
}

#[derive(Deserialize)]
struct ConfirmQuery {
    sent: Option<String>,
}

async fn current_registration(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
) -> Result<RegistrationView, PageError> {
    let id = registration_id(headers).ok_or_else(|| {
        PageError::new(StatusCode::NOT_FOUND, ctx.lang.0, ctx.tr.registration_gone)
    })?;
    state
        .identity
        .registration(id)
        .await
        .map_err(|e| registration_error_page(ctx, e, state))
}

async fn confirm_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<ConfirmQuery>,
) -> Result<Response, PageError> {
    let view = current_registration(&state, &ctx, &headers).await?;
    if view.confirmed {
        return Ok(see_other("/register/password"));
    }
    let notice = q
        .sent
        .is_some()
        .then_some(if view.channel == Channel::Email {
            ctx.tr.new_letter_sent
        } else {
            ctx.tr.new_code_sent
        });
    Ok(render(
        StatusCode::OK,
        &confirm_page(&state, ctx, &view, notice, FieldErrors::new()),
    ))
}

#[derive(Deserialize)]
struct CodeForm {
    code: Option<String>,
}

async fn confirm_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, PageError> {
    let view = current_registration(&state, &ctx, &headers).await?;
    let code = form.code.unwrap_or_default();
    match state
        .identity
        .confirm(view.id, Confirmation::Code(code))
        .await
    {
        Ok(continuation) => Ok(continue_registration(&state, view.id, &continuation.token)),
        Err(e) => {
            let answer = forms::registration_answer(ctx.tr, state.identity.now(), &e);
            if answer.fields.is_empty() {
                return Err(PageError::from_answer(ctx.lang.0, answer));
            }
            let view = current_registration(&state, &ctx, &headers).await?;
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &confirm_page(&state, ctx, &view, None, answer.fields),
            ))
        }
    }
}

#[derive(Deserialize)]
struct EmptyForm {}

async fn resend_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let view = current_registration(&state, &ctx, &headers).await?;
    match state.identity.resend(view.id, ip).await {
        Ok(_) => Ok(see_other("/register/confirm?sent=1")),
        Err(RegistrationError::RateLimited { retry_at }) => {
            let secs = (retry_at - state.identity.now()).whole_seconds().max(1);
            let mut errors = FieldErrors::new();
            errors.insert("resend".into(), fill(ctx.tr.too_many, secs));
            let mut response = render(
                StatusCode::TOO_MANY_REQUESTS,
                &confirm_page(&state, ctx, &view, None, errors),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
            Ok(response)
        }
        Err(e) => Err(registration_error_page(&ctx, e, &state)),
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The browser that confirmed takes the registration on: its id and the
/// continuation, both as cookies only this browser holds.
fn continue_registration(state: &AppState, id: RegistrationId, continuation: &str) -> Response {
    let max_age = state.identity.policy().registration_ttl.whole_seconds();
    let mut response = see_other("/register/password");
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(REGISTRATION_COOKIE, &id.to_string(), Some(max_age)),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(
            REGISTRATION_CONTINUE_COOKIE,
            continuation,
            Some(uslugi_app::challenge::CONTINUATION_TTL.whole_seconds()),
        ),
    );
    response
}

/// What an e-mail link's page shows when the link is no good.
fn link_gone(ctx: Ctx, e: &RegistrationError) -> Response {
    let message = if matches!(e, RegistrationError::LinkExpired) {
        ctx.tr.link_expired
    } else {
        ctx.tr.link_invalid
    };
    let page = crate::error::MessagePage {
        tr: ctx.tr,
        title: ctx.tr.link_invalid_title.to_owned(),
        message: message.to_owned(),
        link: Some((
            "/register?via=email".to_owned(),
            ctx.tr.register_again.to_owned(),
        )),
        chrome: ctx.chrome,
    };
    render(StatusCode::GONE, &page)
}

async fn confirm_email_link(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    let token = q.token.unwrap_or_default();
    match state.identity.registration_by_link(&token).await {
        Ok(view) => {
            let who = match &view.contact {
                Contact::Email(e) => {
                    format!("{} {}, {}", view.surname, view.given_name, e.as_str())
                }
                Contact::Phone(p) => format!("{} {}, {}", view.surname, view.given_name, p),
            };
            Ok(render(
                StatusCode::OK,
                &LinkConfirmPage {
                    lead: ctx.tr.link_confirm_registration,
                    tr: ctx.tr,
                    chrome: ctx.chrome,
                    who: Some(who),
                    action: "/register/confirm-email",
                    token,
                },
            ))
        }
        Err(
            e @ (RegistrationError::LinkInvalid
            | RegistrationError::LinkExpired
            | RegistrationError::NotFound),
        ) => Ok(link_gone(ctx, &e)),
        Err(e) => Err(registration_error_page(&ctx, e, &state)),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    token: Option<String>,
}

/// «Подтвердить» on the link's page: confirms, and this browser continues.
async fn confirm_email_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Response, PageError> {
    let token = form.token.unwrap_or_default();
    let result = match state.identity.registration_by_link(&token).await {
        Ok(view) => state
            .identity
            .confirm(view.id, Confirmation::Token(token))
            .await
            .map(|c| (view.id, c)),
        Err(e) => Err(e),
    };
    match result {
        Ok((id, continuation)) => Ok(continue_registration(&state, id, &continuation.token)),
        Err(
            e @ (RegistrationError::LinkInvalid
            | RegistrationError::LinkExpired
            | RegistrationError::NotFound),
        ) => Ok(link_gone(ctx, &e)),
        Err(e) => Err(registration_error_page(&ctx, e, &state)),
    }
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    tr: &'static Tr,
    chrome: Chrome,
    strength: Option<&'static str>,
    errors: FieldErrors,
}

async fn password_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let view = current_registration(&state, &ctx, &headers).await?;
    if !view.confirmed {
        return Ok(see_other("/register/confirm"));
    }
    // Confirmed elsewhere (the link pressed in another browser): this
    // browser only started the registration and cannot finish it.
    if cookie(&headers, REGISTRATION_CONTINUE_COOKIE).is_none() {
        return Err(registration_error_page(
            &ctx,
            RegistrationError::ContinuationRequired,
            &state,
        ));
    }
    Ok(render(
        StatusCode::OK,
        &PasswordPage {
            tr: ctx.tr,
            chrome: ctx.chrome,
            strength: None,
            errors: FieldErrors::new(),
        },
    ))
}

#[derive(Deserialize)]
struct PasswordForm {
    password: Option<String>,
    password_confirmation: Option<String>,
}

async fn password_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    let view = current_registration(&state, &ctx, &headers).await?;
    let password = form.password.unwrap_or_default();
    let confirmation = form.password_confirmation.unwrap_or_default();
    match state
        .identity
        .set_password(
            view.id,
            cookie(&headers, REGISTRATION_CONTINUE_COOKIE),
            &password,
            &confirmation,
        )
        .await
    {
        Ok(_) => {
            let mut response = see_other("/register/done");
            let h = response.headers_mut();
            h.append(header::SET_COOKIE, clear_cookie(REGISTRATION_COOKIE));
            h.append(
                header::SET_COOKIE,
                clear_cookie(REGISTRATION_CONTINUE_COOKIE),
            );
            Ok(response)
        }
        Err(e) => {
            let answer = forms::registration_answer(ctx.tr, state.identity.now(), &e);
            if answer.fields.is_empty() {
                return Err(PageError::from_answer(ctx.lang.0, answer));
            }
            let (phone, email) = match &view.contact {
                Contact::Phone(p) => (Some(p), None),
                Contact::Email(e) => (None, Some(e)),
            };
            let assessed = assess_password(
                &password,
                &PasswordContext {
                    surname: Some(&view.surname),
                    given_name: Some(&view.given_name),
                    phone,
                    email,
                },
            );
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PasswordPage {
                    strength: (!password.is_empty()).then(|| ctx.tr.strength(assessed.strength)),
                    tr: ctx.tr,
                    chrome: ctx.chrome,
                    errors: answer.fields,
                },
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "done.html")]
struct DonePage {
    tr: &'static Tr,
    chrome: Chrome,
}

async fn done(ctx: Ctx) -> Response {
    render(
        StatusCode::OK,
        &DonePage {
            tr: ctx.tr,
            chrome: ctx.chrome,
        },
    )
}

// ---------------------------------------------------------------- login

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: &'static Tr,
    chrome: Chrome,
    next: String,
    login: String,
    remember: bool,
    error: Option<&'static str>,
    notice: Option<&'static str>,
    errors: FieldErrors,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    logged_out: Option<String>,
    recovered: Option<String>,
}

async fn login_form(ctx: Ctx, Query(q): Query<LoginQuery>) -> Response {
    render(
        StatusCode::OK,
        &LoginPage {
            tr: ctx.tr,
            notice: if q.recovered.is_some() {
                Some(ctx.tr.recovery.recovered)
            } else {
                q.logged_out.is_some().then_some(ctx.tr.logged_out)
            },
            chrome: ctx.chrome,
            next: safe_next(q.next.as_deref()),
            login: String::new(),
            remember: false,
            error: None,
            errors: FieldErrors::new(),
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    login: Option<String>,
    password: Option<String>,
    remember_me: Option<String>,
    next: Option<String>,
}

async fn login_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    // The browser keeps an id of its own, so a login from a new device can
    // be told from one from a known device.
    let existing_device = cookie(&headers, crate::security::DEVICE_COOKIE)
        .filter(|d| d.len() >= 32 && d.len() <= 64)
        .map(str::to_owned);
    let device = existing_device
        .clone()
        .unwrap_or_else(uslugi_app::crypto::random_token);
    let client = uslugi_app::security::ClientInfo {
        device_id: Some(device.clone()),
        user_agent: crate::security::user_agent(&headers),
        ip,
        lang: ctx.lang.0,
    };
    let login = form.login.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    let remember = form.remember_me.is_some();
    let next = safe_next(form.next.as_deref());
    let mut errors = FieldErrors::new();
    if login.trim().is_empty() {
        errors.insert("login".into(), ctx.tr.err_required.into());
    }
    if password.is_empty() {
        errors.insert("password".into(), ctx.tr.err_required.into());
    }
    let result = if errors.is_empty() {
        Some(
            state
                .identity
                .log_in(login.trim(), &password, remember, &client)
                .await,
        )
    } else {
        None
    };
    let new_device = existing_device.is_none().then_some(device.as_str());
    match result {
        Some(Ok(LoginOutcome::Session(session))) => {
            let mut response = session_response(&state, &ctx, &headers, &session, next).await?;
            add_device_cookie(&mut response, new_device);
            Ok(response)
        }
        Some(Ok(LoginOutcome::SecondFactor(step))) => {
            // The step's id stays out of the URL: a cookie of its own, for
            // as long as the step waits.
            let max_age = (step.expires_at - state.identity.now()).whole_seconds();
            let to = if next == "/" {
                crate::second_factor::LOGIN_CODE_PAGE.to_owned()
            } else {
                format!(
                    "{}?next={}",
                    crate::second_factor::LOGIN_CODE_PAGE,
                    crate::http::url_encode(&next)
                )
            };
            let mut response = (
                [(
                    header::SET_COOKIE,
                    set_cookie(
                        crate::second_factor::LOGIN_STEP_COOKIE,
                        &step.challenge_id.to_string(),
                        Some(max_age),
                    ),
                )],
                see_other(&to),
            )
                .into_response();
            add_device_cookie(&mut response, new_device);
            Ok(response)
        }
        Some(Err(LoginError::Internal(e))) => Err(PageError::internal(ctx.lang.0, &e)),
        Some(Err(LoginError::TemporaryPasswordExpired)) => Ok(render(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                tr: ctx.tr,
                error: Some(ctx.tr.account.temporary_expired),
                chrome: ctx.chrome,
                next,
                login,
                remember,
                notice: None,
                errors,
            },
        )),
        // Unknown, wrong, throttled and locked: one answer for all.
        Some(Err(LoginError::BadCredentials)) => Ok(render(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                tr: ctx.tr,
                error: Some(ctx.tr.bad_credentials),
                chrome: ctx.chrome,
                next,
                login,
                remember,
                notice: None,
                errors,
            },
        )),
        // Nothing was asked: the form's own field errors.
        None => Ok(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &LoginPage {
                tr: ctx.tr,
                error: None,
                chrome: ctx.chrome,
                next,
                login,
                remember,
                notice: None,
                errors,
            },
        )),
    }
}

/// The browser gets a device id of its own at its first login, so a login
/// from a new device can be told from one from a known device.
pub(crate) fn add_device_cookie(response: &mut Response, new_device: Option<&str>) {
    if let Some(device) = new_device {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(crate::security::DEVICE_COOKIE, device, Some(400 * 86_400)),
        );
    }
}

/// A login done (with or without a second factor): the old session, if
/// any, ends (a new id at every login), the cookie is set, and the person
/// goes on to `next` (or to «Мои данные»; to the password page after a
/// temporary password).
pub(crate) async fn session_response(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    session: &uslugi_app::NewSession,
    next: String,
) -> Result<Response, PageError> {
    if let Some(old) = session_token(headers) {
        state
            .identity
            .log_out(&old)
            .await
            .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    }
    let max_age = session
        .remember
        .then(|| (session.expires_at - state.identity.now()).whole_seconds());
    let to = if session.must_change_password {
        crate::password::PAGE.to_owned()
    } else if next == "/" {
        "/me".to_owned()
    } else {
        next
    };
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, &session.token, max_age),
        )],
        Redirect::to(&to),
    )
        .into_response())
}

async fn logout_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    if let Some(token) = session_token(&headers) {
        state
            .identity
            .log_out(&token)
            .await
            .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    }
    Ok((
        [(header::SET_COOKIE, clear_cookie(SESSION_COOKIE))],
        Redirect::to("/login?logged_out=1"),
    )
        .into_response())
}

// ---------------------------------------------------------------- my data

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    tr: &'static Tr,
    chrome: Chrome,
    name: String,
    phone: Option<String>,
    email: Option<String>,
    level: AccountLevel,
    /// How and when the identity was confirmed.
    confirmed: Option<String>,
    pd: crate::personal::MyPersonalData,
    addresses_saved: bool,
    password_changed: bool,
    /// «Номер телефона изменён» after a confirmed change.
    contact_changed: Option<&'static str>,
    /// A letter on its way: «Введите код» right here (seed 001).
    letter: Option<crate::identity_letter::LetterRow>,
}

impl MePage {
    /// The code field of «Мои данные» shows its errors on the page it posts to.
    fn no_err(&self) -> Option<&String> {
        None
    }
}

#[derive(Deserialize)]
struct MeQuery {
    addresses_saved: Option<String>,
    password_changed: Option<String>,
    contact_changed: Option<String>,
}

async fn me(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<MeQuery>,
) -> Result<Response, PageError> {
    let to_login = || see_other("/login?next=%2Fme");
    let session = citizen_or_login!(state, ctx, headers, "/me");
    let Some(profile) = state
        .identity
        .profile(session.account_id)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?
    else {
        return Ok(to_login());
    };
    let view = state
        .verification
        .personal_data(session.account_id)
        .await
        .map_err(|e| PageError::internal(ctx.lang.0, &e))?;
    let letter = match profile.level {
        AccountLevel::Standard => state
            .letters
            .current(session.account_id)
            .await
            .map_err(|e| PageError::internal(ctx.lang.0, &e))?
            .map(|v| crate::identity_letter::letter_row(&state, &ctx, &v)),
        _ => None,
    };
    let confirmed = profile.confirmed_at.map(|at| {
        let via = match profile.confirmed_via {
            Some(uslugi_domain::ConfirmedVia::Letter) => ctx.tr.letter.confirmed_via_letter,
            _ => ctx.tr.letter.confirmed_via_center,
        };
        format!("{via}, {}", local_time(&state, at, &ctx))
    });
    Ok(no_store(render(
        StatusCode::OK,
        &MePage {
            name: format!("{} {}", profile.surname, profile.given_name),
            phone: profile.phone.map(|p| p.to_string()),
            email: profile.email.map(|e| e.as_str().to_owned()),
            level: profile.level,
            confirmed,
            pd: crate::personal::my_personal_data(ctx.tr, &view),
            addresses_saved: q.addresses_saved.is_some(),
            password_changed: q.password_changed.is_some(),
            contact_changed: match q.contact_changed.as_deref() {
                Some("phone") => Some(ctx.tr.contacts.phone_changed),
                Some("email") => Some(ctx.tr.contacts.email_changed),
                _ => None,
            },
            letter,
            tr: ctx.tr,
            chrome: ctx.chrome,
        },
    )))
}
