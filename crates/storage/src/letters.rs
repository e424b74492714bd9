//! Letters with an identity code: ordered within limits (even when two
//! orders arrive at once), a new one voiding the last, leased to the post
//! worker, and used once to confirm the identity.

use time::OffsetDateTime;
use uslugi_app::ports::{LetterLimit, LetterRecord, StoreError, StoreResult};

use crate::rows::{count, from_ts, opt_ts, parse_id, parse_uuid, token};
use crate::secrets::Secret;

pub(crate) const COLUMNS: &str = "id, account_id, lang, code_hash, code, recipient, address, \
    status, tracking_number, voided, attempts, dispatch_attempts, next_attempt_at, \
    leased_until, sent_at, expires_at, used_at, created_at";

/// A letter's code: never resent (a new letter voids the last instead).
pub(crate) const SECRET: Secret = Secret {
    table: "identity_letters",
    prefix: "code",
    counts_sends: false,
    live: "",
};

#[derive(sqlx::FromRow)]
pub(crate) struct LetterRow {
    id: String,
    account_id: String,
    lang: String,
    code_hash: Vec<u8>,
    code: Option<Vec<u8>>,
    recipient: Vec<u8>,
    address: Vec<u8>,
    status: String,
    tracking_number: Option<String>,
    voided: bool,
    attempts: i64,
    dispatch_attempts: i64,
    next_attempt_at: i64,
    leased_until: Option<i64>,
    sent_at: Option<i64>,
    expires_at: Option<i64>,
    used_at: Option<i64>,
    created_at: i64,
}

impl TryFrom<LetterRow> for LetterRecord {
    type Error = StoreError;

    fn try_from(r: LetterRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_uuid(&r.id)?,
            account_id: parse_id(&r.account_id)?,
            lang: r.lang,
            code_hash: r.code_hash,
            code: r.code,
            recipient: r.recipient,
            address: r.address,
            status: token(&r.status, "letter status")?,
            tracking_number: r.tracking_number,
            voided: r.voided,
            attempts: count(r.attempts),
            dispatch_attempts: count(r.dispatch_attempts),
            next_attempt_at: from_ts(r.next_attempt_at)?,
            leased_until: opt_ts(r.leased_until)?,
            sent_at: opt_ts(r.sent_at)?,
            expires_at: opt_ts(r.expires_at)?,
            used_at: opt_ts(r.used_at)?,
            created_at: from_ts(r.created_at)?,
        })
    }
}

/// When the limits allow the next letter, given the times the
/// letters of a window were ordered (oldest first); `None`: now.
pub(crate) fn next_allowed(
    times: &[i64],
    limit: &LetterLimit,
) -> StoreResult<Option<OffsetDateTime>> {
    let count = usize::try_from(limit.count).unwrap_or(usize::MAX);
    if count == 0 || times.len() < count {
        return Ok(None);
    }
    // The letter whose leaving the window frees a place.
    Ok(Some(from_ts(times[times.len() - count])? + limit.window))
}

macro_rules! letters_sql {
    ($store:ident, $db:ty) => {
        mod letters {
            use async_trait::async_trait;
            use time::OffsetDateTime;
            use uslugi_app::ports::{AuditWrite, LetterLimit, LetterOrder, LetterRecord, LetterStore, OutboxRecord, StoreResult};
            use uslugi_domain::{AccountId, ConfirmedVia, Token};

            use super::$store;
            use super::accounts::mark_confirmed;
            use super::audit::append_audit;
            use super::outbox::insert_outbox;
            use super::shared::changed_one;
            use $crate::backend;
            use $crate::letters::{COLUMNS, LetterRow, SECRET, next_allowed};
            use $crate::rows::ts;

            #[async_trait]
            impl LetterStore for $store {
                async fn order_letter(
                    &self,
                    l: &LetterRecord,
                    limits: &[LetterLimit],
                    audit: &AuditWrite,
                ) -> StoreResult<LetterOrder> {
                    let now = l.created_at;
                    let account = l.account_id.to_string();
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    // Two orders of one account at once must not both pass
                    // the limits.
                    $store::lock_rate_key(&mut tx, "identity-letter", account.as_bytes())
                        .await
                        .map_err(backend)?;
                    let mut allowed_at: Option<OffsetDateTime> = None;
                    for limit in limits {
                        let times: Vec<i64> = sqlx::query_scalar(
                            "SELECT created_at FROM identity_letters \
                             WHERE account_id = $1 AND created_at > $2 ORDER BY created_at",
                        )
                        .bind(&account)
                        .bind(ts(now - limit.window))
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(backend)?;
                        if let Some(at) = next_allowed(&times, limit)? {
                            allowed_at = Some(allowed_at.map_or(at, |a| a.max(at)));
                        }
                    }
                    if let Some(at) = allowed_at {
                        return Ok(LetterOrder::TooSoon(at));
                    }
                    sqlx::query(
                        "UPDATE identity_letters SET voided = $2, code = NULL \
                         WHERE account_id = $1 AND used_at IS NULL AND voided = $3",
                    )
                    .bind(&account)
                    .bind(true)
                    .bind(false)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    sqlx::query(
                        "INSERT INTO identity_letters (id, account_id, lang, code_hash, code, \
                         recipient, address, status, tracking_number, voided, attempts, \
                         dispatch_attempts, next_attempt_at, leased_until, sent_at, expires_at, \
                         used_at, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                         $16, $17, $18)",
                    )
                    .bind(l.id.to_string())
                    .bind(&account)
                    .bind(&l.lang)
                    .bind(&l.code_hash)
                    .bind(&l.code)
                    .bind(&l.recipient)
                    .bind(&l.address)
                    .bind(l.status.as_str())
                    .bind(&l.tracking_number)
                    .bind(l.voided)
                    .bind(i64::from(l.attempts))
                    .bind(i64::from(l.dispatch_attempts))
                    .bind(ts(l.next_attempt_at))
                    .bind(l.leased_until.map(ts))
                    .bind(l.sent_at.map(ts))
                    .bind(l.expires_at.map(ts))
                    .bind(l.used_at.map(ts))
                    .bind(ts(l.created_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(LetterOrder::Accepted)
                }

                async fn current_letter(&self, account: AccountId) -> StoreResult<Option<LetterRecord>> {
                    let sql = format!(
                        "SELECT {COLUMNS} FROM identity_letters \
                         WHERE account_id = $1 AND voided = $2 ORDER BY created_at DESC, id LIMIT 1"
                    );
                    self.read_one(
                        sqlx::query_as::<_, LetterRow>(&sql)
                            .bind(account.to_string())
                            .bind(false),
                    )
                    .await
                }

                async fn lease_due_letters(
                    &self,
                    now: OffsetDateTime,
                    lease_until: OffsetDateTime,
                    limit: u32,
                ) -> StoreResult<Vec<LetterRecord>> {
                    let sql = format!(
                        "UPDATE identity_letters SET leased_until = $1 \
                         WHERE id IN (SELECT id FROM identity_letters \
                             WHERE status = 'queued' AND voided = $4 AND next_attempt_at <= $2 \
                             AND (leased_until IS NULL OR leased_until <= $2) \
                             ORDER BY next_attempt_at LIMIT $3) \
                         AND status = 'queued' AND (leased_until IS NULL OR leased_until <= $2) \
                         RETURNING {COLUMNS}"
                    );
                    self.write_all(
                        sqlx::query_as::<_, LetterRow>(&sql)
                            .bind(ts(lease_until))
                            .bind(ts(now))
                            .bind(i64::from(limit))
                            .bind(false),
                    )
                    .await
                }

                async fn mark_letter_sent(
                    &self,
                    id: uuid::Uuid,
                    tracking_number: &str,
                    sent_at: OffsetDateTime,
                    expires_at: OffsetDateTime,
                ) -> StoreResult<bool> {
                    let query = sqlx::query(
                        "UPDATE identity_letters SET status = 'sent', tracking_number = $2, \
                         sent_at = $3, expires_at = $4, leased_until = NULL \
                         WHERE id = $1 AND status = 'queued'",
                    )
                    .bind(id.to_string())
                    .bind(tracking_number)
                    .bind(ts(sent_at))
                    .bind(ts(expires_at));
                    changed_one(query, &self.write).await
                }

                async fn reschedule_letter(
                    &self,
                    id: uuid::Uuid,
                    dispatch_attempts: u32,
                    next_attempt_at: OffsetDateTime,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE identity_letters SET dispatch_attempts = $2, next_attempt_at = $3, \
                         leased_until = NULL WHERE id = $1 AND status = 'queued'",
                    )
                    .bind(id.to_string())
                    .bind(i64::from(dispatch_attempts))
                    .bind(ts(next_attempt_at))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn take_letter_attempt(&self, id: uuid::Uuid, max: u32) -> StoreResult<Option<u32>> {
                    self.take_attempt(&SECRET, id.to_string(), max).await
                }

                async fn confirm_by_letter(
                    &self,
                    id: uuid::Uuid,
                    at: OffsetDateTime,
                    message: Option<&OutboxRecord>,
                    audit: &AuditWrite,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let account: Option<String> = sqlx::query_scalar(
                        "UPDATE identity_letters SET used_at = $2, code = NULL \
                         WHERE id = $1 AND used_at IS NULL AND voided = $3 AND status = 'sent' \
                         RETURNING account_id",
                    )
                    .bind(id.to_string())
                    .bind(ts(at))
                    .bind(false)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
                    let Some(account) = account else {
                        return Ok(false);
                    };
                    // Confirmed at a center meanwhile: the code is spent, the
                    // account keeps how it was confirmed, no second notice.
                    if mark_confirmed(&mut tx, &account, ConfirmedVia::Letter, at).await?
                        && let Some(m) = message
                    {
                        insert_outbox(&mut tx, m).await?;
                    }
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn letters_sent_between(
                    &self,
                    from: OffsetDateTime,
                    to: OffsetDateTime,
                ) -> StoreResult<Vec<LetterRecord>> {
                    let sql = format!(
                        "SELECT {COLUMNS} FROM identity_letters \
                         WHERE status = 'sent' AND sent_at >= $1 AND sent_at < $2 \
                         ORDER BY sent_at, id"
                    );
                    self.read_all(
                        sqlx::query_as::<_, LetterRow>(&sql)
                            .bind(ts(from))
                            .bind(ts(to)),
                    )
                    .await
                }

                async fn wipe_dead_letter_codes(&self, now: OffsetDateTime) -> StoreResult<u64> {
                    let done = sqlx::query(
                        "UPDATE identity_letters SET code = NULL WHERE code IS NOT NULL \
                         AND (voided = $1 OR used_at IS NOT NULL OR expires_at <= $2)",
                    )
                    .bind(true)
                    .bind(ts(now))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected())
                }
            }
        }
    };
}
