//! A citizen's second factor: the factor an account has turned on, its
//! backup codes, and the steps that wait for a code. Whatever a correct
//! code unlocks is written in the same transaction that spends the code, so
//! a code works once even when two nodes receive it at the same moment.

use uslugi_app::ports::{FactorChallengeRecord, SecondFactorRecord, StoreError};

use crate::rows::{count, from_ts, opt_ts, parse_id, parse_uuid, token};
use crate::secrets::Secret;

pub(crate) const CHALLENGE_COLUMNS: &str = "id, account_id, purpose, method, totp_secret, \
    code_hash, code_expires_at, sent_at, attempts, remember, device_hash, user_agent, network, \
    lang, created_at, expires_at";

/// A challenge's SMS code (a TOTP challenge has none).
pub(crate) const SECRET: Secret = Secret {
    table: "factor_challenges",
    prefix: "code",
    counts_sends: false,
    live: "",
};

#[derive(sqlx::FromRow)]
pub(crate) struct SecondFactorRow {
    account_id: String,
    method: String,
    totp_secret: Option<Vec<u8>>,
    totp_last_step: Option<i64>,
    enabled_at: i64,
    left_codes: i64,
}

impl TryFrom<SecondFactorRow> for SecondFactorRecord {
    type Error = StoreError;

    fn try_from(r: SecondFactorRow) -> Result<Self, StoreError> {
        Ok(Self {
            account_id: parse_id(&r.account_id)?,
            method: token(&r.method, "second factor method")?,
            totp_secret: r.totp_secret,
            totp_last_step: r.totp_last_step,
            enabled_at: from_ts(r.enabled_at)?,
            backup_codes_left: count(r.left_codes),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ChallengeRow {
    id: String,
    account_id: String,
    purpose: String,
    method: String,
    totp_secret: Option<Vec<u8>>,
    code_hash: Option<Vec<u8>>,
    code_expires_at: Option<i64>,
    sent_at: Option<i64>,
    attempts: i64,
    remember: bool,
    device_hash: Option<Vec<u8>>,
    user_agent: Option<String>,
    network: Option<String>,
    lang: String,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<ChallengeRow> for FactorChallengeRecord {
    type Error = StoreError;

    fn try_from(r: ChallengeRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_uuid(&r.id)?,
            account_id: parse_id(&r.account_id)?,
            purpose: token(&r.purpose, "second factor purpose")?,
            method: token(&r.method, "second factor method")?,
            totp_secret: r.totp_secret,
            code_hash: r.code_hash,
            code_expires_at: opt_ts(r.code_expires_at)?,
            sent_at: opt_ts(r.sent_at)?,
            attempts: count(r.attempts),
            remember: r.remember,
            device_hash: r.device_hash,
            user_agent: r.user_agent,
            network: r.network,
            lang: r.lang,
            created_at: from_ts(r.created_at)?,
            expires_at: from_ts(r.expires_at)?,
        })
    }
}

macro_rules! second_factor_sql {
    ($store:ident, $db:ty) => {
        mod second_factor {
            use async_trait::async_trait;
            use time::OffsetDateTime;
            use uslugi_app::ports::{AuditWrite, FactorChallengeRecord, FactorChange, FactorEnrolment, FactorProof, LoginWrites, OutboxRecord, SecondFactorRecord, SecondFactorStore, SessionRecord, StoreResult};
            use uslugi_domain::{AccountId, FactorPurpose, Token};

            use super::$store;
            use super::audit::append_audit;
            use super::outbox::insert_outbox;
            use super::sessions::write_login;
            use super::shared::changed_one;
            use $crate::backend;
            use $crate::rows::ts;
            use $crate::second_factor::{CHALLENGE_COLUMNS, ChallengeRow, SECRET, SecondFactorRow};
            use $crate::secrets::NewSecret;

            /// Spends a proof inside the caller's transaction; false when it
            /// was spent already (the caller rolls back).
            pub(super) async fn spend_proof(
                tx: &mut sqlx::Transaction<'_, $db>,
                account: AccountId,
                challenge: Option<uuid::Uuid>,
                proof: &FactorProof,
                at: OffsetDateTime,
            ) -> StoreResult<bool> {
                let query = match proof {
                    FactorProof::SmsCode => {
                        let Some(id) = challenge else {
                            return Ok(false);
                        };
                        // The code's challenge goes with it: one code, one use.
                        sqlx::query(
                            "DELETE FROM factor_challenges WHERE id = $1 AND account_id = $2 \
                             AND code_hash IS NOT NULL",
                        )
                        .bind(id.to_string())
                        .bind(account.to_string())
                    }
                    FactorProof::TotpStep(step) => sqlx::query(
                        "UPDATE second_factors SET totp_last_step = $2 WHERE account_id = $1 \
                         AND method = 'totp' AND (totp_last_step IS NULL OR totp_last_step < $2)",
                    )
                    .bind(account.to_string())
                    .bind(*step),
                    FactorProof::BackupCode(hash) => sqlx::query(
                        "UPDATE backup_codes SET used_at = $3 WHERE account_id = $1 \
                         AND code_hash = $2 AND used_at IS NULL",
                    )
                    .bind(account.to_string())
                    .bind(hash)
                    .bind(ts(at)),
                };
                changed_one(query, &mut **tx).await
            }

            async fn insert_backup_codes(
                tx: &mut sqlx::Transaction<'_, $db>,
                account: AccountId,
                hashes: &[Vec<u8>],
                at: OffsetDateTime,
            ) -> StoreResult<()> {
                sqlx::query("DELETE FROM backup_codes WHERE account_id = $1")
                    .bind(account.to_string())
                    .execute(&mut **tx)
                    .await
                    .map_err(backend)?;
                for h in hashes {
                    sqlx::query(
                        "INSERT INTO backup_codes (account_id, code_hash, created_at, used_at) \
                         VALUES ($1, $2, $3, NULL)",
                    )
                    .bind(account.to_string())
                    .bind(h)
                    .bind(ts(at))
                    .execute(&mut **tx)
                    .await
                    .map_err(backend)?;
                }
                Ok(())
            }

            async fn write_notices(
                tx: &mut sqlx::Transaction<'_, $db>,
                notices: &[OutboxRecord],
                audit: &AuditWrite,
            ) -> StoreResult<()> {
                for m in notices {
                    insert_outbox(tx, m).await?;
                }
                append_audit(tx, audit).await?;
                Ok(())
            }

            #[async_trait]
            impl SecondFactorStore for $store {
                async fn second_factor(
                    &self,
                    account: AccountId,
                ) -> StoreResult<Option<SecondFactorRecord>> {
                    self.read_one(
                        sqlx::query_as::<_, SecondFactorRow>(
                            "SELECT account_id, method, totp_secret, totp_last_step, enabled_at, \
                             (SELECT COUNT(*) FROM backup_codes b WHERE b.account_id = f.account_id \
                             AND b.used_at IS NULL) AS left_codes \
                             FROM second_factors f WHERE account_id = $1",
                        )
                        .bind(account.to_string()),
                    )
                    .await
                }
                async fn insert_factor_challenge(
                    &self,
                    c: &FactorChallengeRecord,
                    message: Option<&OutboxRecord>,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    sqlx::query(
                        "DELETE FROM factor_challenges WHERE account_id = $1 AND purpose = $2",
                    )
                    .bind(c.account_id.to_string())
                    .bind(c.purpose.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    sqlx::query(
                        "INSERT INTO factor_challenges (id, account_id, purpose, method, \
                         totp_secret, code_hash, code_expires_at, sent_at, attempts, remember, \
                         device_hash, user_agent, network, lang, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                         $15, $16)",
                    )
                    .bind(c.id.to_string())
                    .bind(c.account_id.to_string())
                    .bind(c.purpose.as_str())
                    .bind(c.method.as_str())
                    .bind(&c.totp_secret)
                    .bind(&c.code_hash)
                    .bind(c.code_expires_at.map(ts))
                    .bind(c.sent_at.map(ts))
                    .bind(i64::from(c.attempts))
                    .bind(c.remember)
                    .bind(&c.device_hash)
                    .bind(&c.user_agent)
                    .bind(&c.network)
                    .bind(&c.lang)
                    .bind(ts(c.created_at))
                    .bind(ts(c.expires_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if let Some(m) = message {
                        insert_outbox(&mut tx, m).await?;
                    }
                    tx.commit().await.map_err(backend)
                }

                async fn factor_challenge(
                    &self,
                    id: uuid::Uuid,
                ) -> StoreResult<Option<FactorChallengeRecord>> {
                    let sql =
                        format!("SELECT {CHALLENGE_COLUMNS} FROM factor_challenges WHERE id = $1");
                    self.read_one(sqlx::query_as::<_, ChallengeRow>(&sql).bind(id.to_string()))
                        .await
                }

                async fn account_factor_challenge(
                    &self,
                    account: AccountId,
                    purpose: FactorPurpose,
                ) -> StoreResult<Option<FactorChallengeRecord>> {
                    let sql = format!(
                        "SELECT {CHALLENGE_COLUMNS} FROM factor_challenges \
                         WHERE account_id = $1 AND purpose = $2 ORDER BY created_at DESC LIMIT 1"
                    );
                    self.read_one(
                        sqlx::query_as::<_, ChallengeRow>(&sql)
                            .bind(account.to_string())
                            .bind(purpose.as_str()),
                    )
                    .await
                }

                async fn take_factor_attempt(
                    &self,
                    id: uuid::Uuid,
                    max: u32,
                ) -> StoreResult<Option<u32>> {
                    self.take_attempt(&SECRET, id.to_string(), max).await
                }

                async fn replace_factor_code(
                    &self,
                    id: uuid::Uuid,
                    previous_sent_at: OffsetDateTime,
                    code_hash: &[u8],
                    code_expires_at: OffsetDateTime,
                    sent_at: OffsetDateTime,
                    message: &OutboxRecord,
                ) -> StoreResult<bool> {
                    let new = NewSecret {
                        hash: code_hash,
                        expires_at: code_expires_at,
                        sent_at,
                    };
                    self.replace_secret(&SECRET, id.to_string(), previous_sent_at, new, message)
                        .await
                }

                async fn complete_factor_login(
                    &self,
                    challenge: uuid::Uuid,
                    proof: &FactorProof,
                    session: &SessionRecord,
                    writes: &LoginWrites,
                ) -> StoreResult<bool> {
                    let account = session.account_id;
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let query = sqlx::query(
                        "DELETE FROM factor_challenges WHERE id = $1 AND account_id = $2 \
                         AND purpose = 'login'",
                    )
                    .bind(challenge.to_string())
                    .bind(account.to_string());
                    let gone = changed_one(query, &mut *tx).await?;
                    // An SMS code is spent with its challenge, just deleted.
                    let spent = match proof {
                        FactorProof::SmsCode => true,
                        other => {
                            spend_proof(&mut tx, account, None, other, session.created_at).await?
                        }
                    };
                    if !gone || !spent {
                        return Ok(false);
                    }
                    write_login(&mut tx, session, writes).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn enable_second_factor(&self, e: &FactorEnrolment) -> StoreResult<bool> {
                    let f = &e.factor;
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let gone = sqlx::query(
                        "DELETE FROM factor_challenges WHERE id = $1 AND account_id = $2 \
                         AND purpose = 'enrol'",
                    )
                    .bind(e.challenge_id.to_string())
                    .bind(f.account_id.to_string());
                    if !changed_one(gone, &mut *tx).await? {
                        return Ok(false);
                    }
                    let added = sqlx::query(
                        "INSERT INTO second_factors (account_id, method, totp_secret, \
                         totp_last_step, enabled_at) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (account_id) DO NOTHING",
                    )
                    .bind(f.account_id.to_string())
                    .bind(f.method.as_str())
                    .bind(&f.totp_secret)
                    .bind(f.totp_last_step)
                    .bind(ts(f.enabled_at));
                    if !changed_one(added, &mut *tx).await? {
                        return Ok(false);
                    }
                    insert_backup_codes(&mut tx, f.account_id, &e.backup_code_hashes, f.enabled_at)
                        .await?;
                    write_notices(&mut tx, &e.notices, &e.audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn change_second_factor(&self, c: &FactorChange) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let has_factor: Option<String> = sqlx::query_scalar(
                        "SELECT account_id FROM second_factors WHERE account_id = $1",
                    )
                    .bind(c.account_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if has_factor.is_none()
                        || !spend_proof(&mut tx, c.account_id, c.challenge_id, &c.proof, c.at)
                            .await?
                    {
                        return Ok(false);
                    }
                    match &c.new_backup_codes {
                        Some(hashes) => {
                            insert_backup_codes(&mut tx, c.account_id, hashes, c.at).await?;
                        }
                        None => {
                            for table in ["second_factors", "backup_codes", "factor_challenges"] {
                                sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1"))
                                    .bind(c.account_id.to_string())
                                    .execute(&mut *tx)
                                    .await
                                    .map_err(backend)?;
                            }
                        }
                    }
                    write_notices(&mut tx, &c.notices, &c.audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn spend_factor_proof(
                    &self,
                    account: AccountId,
                    challenge: Option<uuid::Uuid>,
                    proof: &FactorProof,
                    at: OffsetDateTime,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    if !spend_proof(&mut tx, account, challenge, proof, at).await? {
                        return Ok(false);
                    }
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn delete_expired_factor_challenges(
                    &self,
                    now: OffsetDateTime,
                ) -> StoreResult<u64> {
                    self.delete_expired("factor_challenges", now).await
                }
            }
        }
    };
}
