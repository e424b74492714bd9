//! Identity confirmation by a code in a registered letter (seeds 000, 001):
//! a citizen with a standard account orders a letter, which goes only to the
//! address of registration the Interior Ministry returned when it checked
//! the passport — never to an address typed by whoever holds the session,
//! since a standard account is built from knowledge alone (names, SNILS,
//! passport number) and knowledge leaks. A worker hands it to the post, which gives it a tracking number (ШПИ)
//! and delivers it in about two weeks; the code typed on the portal
//! confirms the account.
//!
//! Ordering writes the letter, voids the earlier one and records the order
//! in one transaction; the letter row is then the job that hands it to the
//! post, under its id as the idempotency key, so a crash between the post
//! and the database gives neither a lost letter nor a second one.
use std::sync::Arc;

use rand::{RngCore, rngs::OsRng};
use serde::Serialize;
use time::{Duration, OffsetDateTime, UtcOffset};
use uslugi_domain::{
    AccountId, AccountLevel, Address, LetterCode, LetterStatus, PostStatus, Token, TrackingNumber,
};

use crate::accounts::InternalError;
use crate::audit::{Actor, AuditLog, action};
use crate::clock::Clock;
use crate::crypto::{self, Crypto, HashPurpose, SealedField};
use crate::jobs::{JobKind, JobRunner, Ran, Schedule};
use crate::lang::Lang;
use crate::notices::Contacts;
use crate::ports::{
    AuditWrite, LetterLimit, LetterOrder, LetterRecord, OutboxRecord, RateDecision, StoreError,
};
use crate::post::{Post, PostLetter};

/// The rules of the letters; an operator may tune them.
#[derive(Debug, Clone)]
pub struct LetterPolicy {
    /// How long a code works after the letter was sent.
    pub code_valid_for: Duration,
    /// Wrong entries allowed in `wrong_window`.
    pub wrong_per_window: u32,
    pub wrong_window: Duration,
    /// Entries allowed per letter in all.
    pub entries_per_letter: u32,
    /// At most one letter a day and four in thirty days.
    pub limits: Vec<LetterLimit>,
    /// The first wait after the post refused a letter; it doubles.
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// How long a worker holds a letter it hands over.
    pub lease: Duration,
    pub batch: u32,
}

impl Default for LetterPolicy {
    fn default() -> Self {
        Self {
            code_valid_for: Duration::days(30),
            wrong_per_window: 5,
            wrong_window: Duration::minutes(10),
            entries_per_letter: 10,
            limits: vec![
                LetterLimit {
                    count: 1,
                    window: Duration::hours(24),
                },
                LetterLimit {
                    count: 4,
                    window: Duration::days(30),
                },
            ],
            first_retry: Duration::seconds(5),
            max_retry: Duration::hours(1),
            lease: Duration::seconds(30),
            batch: 20,
        }
    }
}

/// The letter as the citizen sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetterView {
    /// `queued` until the post has it; then `accepted | in_transit |
    /// arrived | handed_over` as the post tells; `used` once the code has
    /// confirmed the account; `expired` when the code no longer works.
    pub status: &'static str,
    pub tracking_number: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Russian Post shows a letter's way from the day after it was sent.
    #[serde(with = "time::serde::rfc3339::option")]
    pub tracking_from: Option<OffsetDateTime>,
    /// Codes that may still be entered for this letter.
    pub attempts_left: u32,
    /// Where the letter goes, as [`Address::masked`] shows it.
    pub address_masked: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    /// Only a standard account (verified personal data) may order a letter.
    #[error("the account is not standard")]
    NotStandard,
    #[error("the account is already confirmed")]
    AlreadyConfirmed,
    /// The Interior Ministry's record has no address of registration: the
    /// identity can be confirmed only in person.
    #[error("no registered address to send the letter to")]
    NoRegisteredAddress,
    #[error("too many letters; the next may be ordered later")]
    TooSoon { allowed_at: OffsetDateTime },
    #[error(transparent)]
    Internal(#[from] InternalError),
}

#[derive(Debug, thiserror::Error)]
pub enum CodeEntryError {
    #[error("the code is malformed")]
    Malformed(uslugi_domain::CodeError),
    #[error("no letter was ordered")]
    NoLetter,
    /// Ordered, but the post does not have it yet.
    #[error("the letter has not been sent yet")]
    NotSent,
    #[error("the account is already confirmed")]
    AlreadyConfirmed,
    #[error("the code has expired")]
    Expired,
    #[error("wrong code")]
    Wrong { attempts_left: u32 },
    /// Ten wrong codes for this letter: a new letter is needed.
    #[error("the letter's code was entered wrongly too many times")]
    Exhausted,
    #[error("too many wrong codes; try again later")]
    TooMany { retry_at: OffsetDateTime },
    #[error(transparent)]
    Internal(#[from] InternalError),
}

crate::accounts::into_internal!(CodeEntryError: StoreError);

crate::accounts::into_internal!(OrderError: StoreError);

/// A letter of a day's batch, opened for printing.
#[derive(Clone)]
pub struct BatchLetter {
    pub tracking_number: String,
    pub recipient: String,
    pub address: Address,
    pub code: LetterCode,
    pub sent_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for BatchLetter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BatchLetter(***)")
    }
}

pub struct Letters {
    store: Arc<dyn crate::ports::LettersPorts>,
    post: Arc<dyn Post>,
    crypto: Crypto,
    clock: Arc<dyn Clock>,
    policy: LetterPolicy,
    base_url: String,
    display_offset: UtcOffset,
    audit: AuditLog,
    jobs: JobRunner,
}

impl Letters {
    /// The audit record of what the citizen did with `letter`.
    fn audited(
        &self,
        account: AccountId,
        what: &str,
        outcome: &str,
        letter: uuid::Uuid,
        now: OffsetDateTime,
    ) -> AuditWrite {
        self.audit
            .record(Actor::Citizen(account), what, outcome, now)
            .details(serde_json::json!({ "letter": letter }))
            .write()
    }

    /// Where `l` goes, opened from its row.
    fn address_of(&self, l: &LetterRecord) -> Result<Address, InternalError> {
        let json = self
            .crypto
            .open(SealedField::LetterAddress, l.id, &l.address)?;
        serde_json::from_str(&json).map_err(|_| InternalError::Corrupt("letter address"))
    }

    /// The code of `l`, opened from its row's `sealed` code.
    fn code_of(&self, l: &LetterRecord, sealed: &[u8]) -> Result<LetterCode, InternalError> {
        let code = self.crypto.open(SealedField::LetterCode, l.id, sealed)?;
        LetterCode::parse(&code).map_err(|_| InternalError::Corrupt("letter code"))
    }

    /// `site` gives the portal's address and the offset of the dates shown.
    pub fn new(
        deps: &crate::Deps,
        post: Arc<dyn Post>,
        policy: LetterPolicy,
        site: &crate::settings::Policy,
    ) -> Self {
        Self {
            store: deps.store.clone(),
            post,
            crypto: deps.crypto.clone(),
            clock: Arc::clone(&deps.clock),
            policy,
            base_url: site.base_url.clone(),
            display_offset: site.display_offset,
            audit: deps.audit.clone(),
            jobs: deps.job_runner(),
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Eight symbols uniform over the 31 of the alphabet, from the OS.
    fn new_code() -> LetterCode {
        let mut indexes = [0u8; uslugi_domain::letter::CODE_LEN];
        for i in &mut indexes {
            loop {
                let mut one = [0u8; 1];
                OsRng.fill_bytes(&mut one);
                // 248 = 31 × 8: bytes above would favour the first symbols.
                if one[0] < 248 {
                    *i = one[0] % 31;
                    break;
                }
            }
        }
        LetterCode::from_indexes(indexes)
    }

    fn code_hash(&self, code: &LetterCode) -> Vec<u8> {
        self.crypto
            .keyed_hash(HashPurpose::LetterCode, code.as_str().as_bytes())
    }

    /// Where a letter would go: the registered address, masked; `None` when
    /// the ministry returned none.
    pub async fn destination(&self, account: AccountId) -> Result<Option<String>, InternalError> {
        Ok(
            crate::verification::registered_address(&self.crypto, &*self.store, account)
                .await?
                .map(|a| a.masked()),
        )
    }

    /// «Получить код подтверждения письмом»: orders a letter to the
    /// registered address, which voids the code of any earlier one.
    pub async fn order(&self, account: AccountId, lang: Lang) -> Result<LetterView, OrderError> {
        let a = self
            .store
            .account(account)
            .await?
            .ok_or(InternalError::Corrupt("session of a missing account"))?;
        match a.level {
            AccountLevel::Simplified => return Err(OrderError::NotStandard),
            AccountLevel::Confirmed => return Err(OrderError::AlreadyConfirmed),
            AccountLevel::Standard => {}
        }
        let now = self.clock.now();
        let recipient = crate::verification::verified_full_name(&self.crypto, &*self.store, &a)
            .await?
            .ok_or(OrderError::NotStandard)?;
        let address = crate::verification::registered_address(&self.crypto, &*self.store, account)
            .await?
            .ok_or(OrderError::NoRegisteredAddress)?;
        let code = Self::new_code();
        let address_json = serde_json::to_string(&address).expect("an address serialises");
        let id = uuid::Uuid::new_v4();
        let record = LetterRecord {
            id,
            account_id: account,
            lang: lang.code().to_owned(),
            code_hash: self.code_hash(&code),
            code: Some(self.crypto.seal(SealedField::LetterCode, id, code.as_str())),
            recipient: self
                .crypto
                .seal(SealedField::LetterRecipient, id, &recipient),
            address: self
                .crypto
                .seal(SealedField::LetterAddress, id, &address_json),
            status: LetterStatus::Queued,
            tracking_number: None,
            voided: false,
            attempts: 0,
            dispatch_attempts: 0,
            next_attempt_at: now,
            leased_until: None,
            sent_at: None,
            expires_at: None,
            used_at: None,
            created_at: now,
        };
        let audit = self.audited(account, action::LETTER_ORDERED, "queued", record.id, now);
        match self
            .store
            .order_letter(&record, &self.policy.limits, &audit)
            .await?
        {
            LetterOrder::Accepted => {}
            LetterOrder::TooSoon(allowed_at) => return Err(OrderError::TooSoon { allowed_at }),
        }
        tracing::info!(%account, letter = %record.id, "identity letter ordered");
        Ok(self.view(&record).await?)
    }

    /// Hands the queued letters to the post. One pass of the worker.
    /// Hands the due letters to the post; returns how many were taken.
    pub async fn dispatch_due(&self) -> Result<usize, InternalError> {
        Ok(self.jobs.run_due(&Dispatches(self)).await?.leased)
    }

    async fn dispatch(&self, l: &LetterRecord) -> Result<Ran, InternalError> {
        let Some(sealed_code) = &l.code else {
            return Err(InternalError::Corrupt("a queued letter without its code"));
        };
        let code = self.code_of(l, sealed_code)?;
        let address = self.address_of(l)?;
        let now = self.clock.now();
        let expires_at = now + self.policy.code_valid_for;
        let letter = PostLetter {
            recipient: self
                .crypto
                .open(SealedField::LetterRecipient, l.id, &l.recipient)?,
            address_lines: address_lines(&address),
            body: self.letter_body(&code, expires_at),
        };
        match self.post.send(&l.id.to_string(), &letter).await {
            Ok(tracking) => {
                if self
                    .store
                    .mark_letter_sent(l.id, tracking.as_str(), now, expires_at)
                    .await?
                {
                    tracing::info!(letter = %l.id, "identity letter handed to the post");
                }
                Ok(Ran::Done)
            }
            Err(e) => Ok(Ran::Failed(e.to_string())),
        }
    }

    async fn view(&self, l: &LetterRecord) -> Result<LetterView, InternalError> {
        let address = self.address_of(l)?;
        let now = self.clock.now();
        let status = match (l.status, &l.tracking_number) {
            (LetterStatus::Queued, _) | (LetterStatus::Sent, None) => "queued",
            _ if l.used_at.is_some() => "used",
            _ if l.expires_at.is_some_and(|e| now >= e) => "expired",
            (LetterStatus::Sent, Some(t)) => match TrackingNumber::parse(t) {
                Ok(tracking) => match self.post.status(&tracking).await {
                    Ok(Some(s)) => s.as_str(),
                    // The post does not answer or forgot the letter: it was sent.
                    Ok(None) | Err(_) => PostStatus::Accepted.as_str(),
                },
                Err(_) => PostStatus::Accepted.as_str(),
            },
        };
        Ok(LetterView {
            status,
            tracking_number: l.tracking_number.clone(),
            sent_at: l.sent_at,
            expires_at: l.expires_at,
            tracking_from: l.sent_at.map(|s| s + Duration::DAY),
            attempts_left: self.policy.entries_per_letter.saturating_sub(l.attempts),
            address_masked: address.masked(),
        })
    }

    /// The newest letter, with where the post says it is.
    pub async fn current(&self, account: AccountId) -> Result<Option<LetterView>, InternalError> {
        Ok(match self.store.current_letter(account).await? {
            Some(l) => Some(self.view(&l).await?),
            None => None,
        })
    }

    /// «Проверить»: the code from the letter confirms the account.
    pub async fn enter_code(&self, account: AccountId, typed: &str) -> Result<(), CodeEntryError> {
        let code = LetterCode::parse(typed).map_err(CodeEntryError::Malformed)?;
        let Some(letter) = self.store.current_letter(account).await? else {
            return Err(CodeEntryError::NoLetter);
        };
        let now = self.clock.now();
        if letter.used_at.is_some() {
            return Err(CodeEntryError::AlreadyConfirmed);
        }
        let Some(expires_at) = letter
            .expires_at
            .filter(|_| letter.status == LetterStatus::Sent)
        else {
            return Err(CodeEntryError::NotSent);
        };
        if now >= expires_at {
            return Err(CodeEntryError::Expired);
        }
        // Every entry counts before the code is compared, so that many
        // guesses at once cannot slip past the limits.
        if let RateDecision::Refused { retry_at } = self
            .store
            .hit_rate_limit(
                "letter-code",
                account.to_string().as_bytes(),
                now,
                self.policy.wrong_window,
                self.policy.wrong_per_window,
            )
            .await?
        {
            return Err(CodeEntryError::TooMany { retry_at });
        }
        let Some(attempt) = self
            .store
            .take_letter_attempt(letter.id, self.policy.entries_per_letter)
            .await?
        else {
            return Err(CodeEntryError::Exhausted);
        };
        if !crypto::constant_time_eq(&self.code_hash(&code), &letter.code_hash) {
            return Err(if attempt >= self.policy.entries_per_letter {
                CodeEntryError::Exhausted
            } else {
                CodeEntryError::Wrong {
                    attempts_left: self.policy.entries_per_letter - attempt,
                }
            });
        }
        let lang = Lang::parse(&letter.lang).unwrap_or_default();
        let message = confirmed_message(
            &self.crypto,
            &*self.store,
            account,
            lang,
            &self.base_url,
            now,
        )
        .await?;
        let audit = self.audited(
            account,
            action::CONFIRMED_BY_LETTER,
            "confirmed",
            letter.id,
            now,
        );
        if self
            .store
            .confirm_by_letter(letter.id, now, message.as_ref(), &audit)
            .await?
        {
            tracing::info!(%account, "identity confirmed by letter");
        }
        Ok(())
    }

    /// The letters handed to the post on `day` (in the portal's time), with
    /// their codes, for the mailing center to print. Letters whose code no
    /// longer works (used, replaced, expired) are not printed.
    pub async fn batch(&self, day: time::Date) -> Result<Vec<BatchLetter>, InternalError> {
        let from = day.midnight().assume_offset(self.display_offset);
        let letters = self
            .store
            .letters_sent_between(from, from + Duration::DAY)
            .await?;
        let mut out = Vec::new();
        for l in letters {
            let (Some(sealed), Some(tracking), Some(sent_at), Some(expires_at)) =
                (&l.code, &l.tracking_number, l.sent_at, l.expires_at)
            else {
                continue;
            };
            if l.voided || l.used_at.is_some() {
                continue;
            }
            out.push(BatchLetter {
                tracking_number: tracking.clone(),
                recipient: self
                    .crypto
                    .open(SealedField::LetterRecipient, l.id, &l.recipient)?,
                address: self.address_of(&l)?,
                code: self.code_of(&l, sealed)?,
                sent_at,
                expires_at,
            });
        }
        Ok(out)
    }

    /// Wipes the codes kept for printing once they no longer work.
    pub async fn sweep(&self) -> Result<u64, InternalError> {
        Ok(self.store.wipe_dead_letter_codes(self.clock.now()).await?)
    }

    pub fn format_date(&self, at: OffsetDateTime) -> String {
        let d = at.to_offset(self.display_offset).date();
        format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year())
    }

    fn letter_body(&self, code: &LetterCode, expires_at: OffsetDateTime) -> String {
        let until = self.format_date(expires_at);
        let base_url = &self.base_url;
        format!(
            "Код подтверждения личности: {}\n\
             Войдите на портал {base_url}, откройте «Мои данные», нажмите «Введите код», \
             введите код из этого письма и нажмите «Проверить».\n\
             Код действителен до {until}. Никому не сообщайте его: сотрудники портала и центров \
             обслуживания никогда его не спрашивают.",
            code.grouped()
        )
    }
}

/// «Ваша личность подтверждена»: to the phone, else the e-mail. One per
/// account, whatever way it was confirmed.
pub(crate) async fn confirmed_message(
    crypto: &Crypto,
    store: &dyn crate::ports::AccountStore,
    account: AccountId,
    lang: Lang,
    base_url: &str,
    now: OffsetDateTime,
) -> Result<Option<OutboxRecord>, InternalError> {
    let Some(a) = store.account(account).await? else {
        return Ok(None);
    };
    let letter = crate::messages::identity_confirmed(lang, base_url);
    Ok(Contacts::of(crypto, &a)?.first(crypto, format!("confirmed:{account}"), &letter, now))
}

/// The address block: postal code first, as Russian Post prints it.
pub fn address_lines(a: &Address) -> Vec<String> {
    let mut street = format!("{}, д. {}", a.street.as_str(), a.house.as_str());
    if let Some(b) = &a.building {
        street.push_str(&format!(", корп. {}", b.as_str()));
    }
    if let Some(f) = &a.flat {
        street.push_str(&format!(", кв. {}", f.as_str()));
    }
    vec![
        a.postal_code.as_str().to_owned(),
        a.region.as_str().to_owned(),
        a.locality.as_str().to_owned(),
        street,
    ]
}
/// Letters as jobs: each handed to the post with its id as the idempotency
/// key, tried until the post takes it.
struct Dispatches<'a>(&'a Letters);

#[async_trait::async_trait]
impl JobKind for Dispatches<'_> {
    type Job = LetterRecord;

    fn name(&self) -> &'static str {
        crate::jobs::kinds::LETTER
    }

    fn schedule(&self) -> Schedule {
        let p = &self.0.policy;
        Schedule {
            lease: p.lease,
            batch: p.batch,
            first_retry: p.first_retry,
            max_retry: p.max_retry,
        }
    }

    fn id(&self, l: &LetterRecord) -> uuid::Uuid {
        l.id
    }

    fn attempts(&self, l: &LetterRecord) -> u32 {
        l.dispatch_attempts
    }

    async fn lease(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
        batch: u32,
    ) -> Result<Vec<LetterRecord>, InternalError> {
        Ok(self.0.store.lease_due_letters(now, until, batch).await?)
    }

    async fn run(&self, l: &LetterRecord) -> Result<Ran, InternalError> {
        self.0.dispatch(l).await
    }

    async fn retry(
        &self,
        l: &LetterRecord,
        attempts: u32,
        at: OffsetDateTime,
    ) -> Result<(), InternalError> {
        Ok(self.0.store.reschedule_letter(l.id, attempts, at).await?)
    }
}
