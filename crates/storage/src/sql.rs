//! The SQL both engines share. The macro is instantiated once per engine, so
//! each gets its own statically typed code from the same statements; the
//! engine module supplies `reader()` (a connection for one read), the `write`
//! pool and `lock_rate_key`.
//!
//! Parameters are written `$1, $2, …`, which both engines accept.

use time::OffsetDateTime;
use uslugi_app::ports::StoreError;
use uslugi_domain::{AccountLevel, Channel, Token};

pub(crate) fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub(crate) fn from_ts(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| StoreError::Backend(Box::new(e)))
}

pub(crate) fn corrupt(what: &'static str) -> StoreError {
    StoreError::Backend(format!("corrupt {what} in database").into())
}

pub(crate) fn parse_id<T: std::str::FromStr>(s: &str) -> Result<T, StoreError> {
    s.parse().map_err(|_| corrupt("id"))
}

pub(crate) fn parse_channel(s: &str) -> Result<Channel, StoreError> {
    Channel::parse(s).ok_or_else(|| corrupt("channel"))
}

pub(crate) fn parse_level(s: &str) -> Result<AccountLevel, StoreError> {
    AccountLevel::parse(s).ok_or_else(|| corrupt("level"))
}

pub(crate) fn opt_ts(secs: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    secs.map(from_ts).transpose()
}

/// A continuation read from its two columns; none unless both are set.
pub(crate) fn continuation(
    hash: Option<Vec<u8>>,
    expires_at: Option<i64>,
) -> Result<Option<uslugi_app::ports::ContinuationRecord>, StoreError> {
    Ok(match (hash, expires_at) {
        (Some(hash), Some(at)) => Some(uslugi_app::ports::ContinuationRecord {
            hash,
            expires_at: from_ts(at)?,
        }),
        _ => None,
    })
}

pub(crate) fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

macro_rules! sql_store {
    ($store:ty, $db:ty) => {
        use async_trait::async_trait;
        use sqlx::Row as _;
        use time::{Duration, OffsetDateTime};
        use uslugi_app::ports::{AccountRecord, AccountStore, RateDecision, RateLimitStore, RegistrationRecord, RegistrationStore, SessionRecord, SessionStore, StoreError, StoreResult};
        use uslugi_domain::{AccountId, LoginKind, RegistrationId, Token};
        use $crate::backend;
        use $crate::sql::{count, from_ts, parse_channel, parse_id, parse_level, ts};

        type Row = <$db as sqlx::Database>::Row;

        const REGISTRATION_COLUMNS: &str = "id, channel, lang, surname, given_name, contact, \
            contact_index, existing_account, secret_hash, secret_expires_at, attempts, sent_at, \
            sends, confirmed_at, continuation_hash, continuation_expires_at, created_at, expires_at";

        const ACCOUNT_COLUMNS: &str = "id, level, surname, given_name, phone, phone_index, \
            email, email_index, snils_index, passport_index, password_hash, must_change_password, \
            password_expires_at, failed_logins, throttled_until, locked, confirmed_at, \
            confirmed_via, created_at";

        fn registration_from_row(row: &Row) -> StoreResult<RegistrationRecord> {
            let get = |e: sqlx::Error| backend(e);
            Ok(RegistrationRecord {
                id: parse_id(&row.try_get::<String, _>("id").map_err(get)?)?,
                channel: parse_channel(&row.try_get::<String, _>("channel").map_err(get)?)?,
                lang: row.try_get("lang").map_err(get)?,
                surname: row.try_get("surname").map_err(get)?,
                given_name: row.try_get("given_name").map_err(get)?,
                contact: row.try_get("contact").map_err(get)?,
                contact_index: row.try_get("contact_index").map_err(get)?,
                existing_account: row.try_get("existing_account").map_err(get)?,
                secret_hash: row.try_get("secret_hash").map_err(get)?,
                secret_expires_at: from_ts(row.try_get("secret_expires_at").map_err(get)?)?,
                attempts: count(row.try_get("attempts").map_err(get)?),
                sent_at: from_ts(row.try_get("sent_at").map_err(get)?)?,
                sends: count(row.try_get("sends").map_err(get)?),
                confirmed_at: row
                    .try_get::<Option<i64>, _>("confirmed_at")
                    .map_err(get)?
                    .map(from_ts)
                    .transpose()?,
                continuation: $crate::sql::continuation(
                    row.try_get("continuation_hash").map_err(get)?,
                    row.try_get("continuation_expires_at").map_err(get)?,
                )?,
                created_at: from_ts(row.try_get("created_at").map_err(get)?)?,
                expires_at: from_ts(row.try_get("expires_at").map_err(get)?)?,
            })
        }

        fn account_from_row(row: &Row) -> StoreResult<AccountRecord> {
            let get = |e: sqlx::Error| backend(e);
            Ok(AccountRecord {
                id: parse_id(&row.try_get::<String, _>("id").map_err(get)?)?,
                level: parse_level(&row.try_get::<String, _>("level").map_err(get)?)?,
                surname: row.try_get("surname").map_err(get)?,
                given_name: row.try_get("given_name").map_err(get)?,
                phone: row.try_get("phone").map_err(get)?,
                phone_index: row.try_get("phone_index").map_err(get)?,
                email: row.try_get("email").map_err(get)?,
                email_index: row.try_get("email_index").map_err(get)?,
                snils_index: row.try_get("snils_index").map_err(get)?,
                passport_index: row.try_get("passport_index").map_err(get)?,
                password_hash: row.try_get("password_hash").map_err(get)?,
                must_change_password: row.try_get("must_change_password").map_err(get)?,
                password_expires_at: $crate::sql::opt_ts(
                    row.try_get("password_expires_at").map_err(get)?,
                )?,
                failed_logins: count(row.try_get("failed_logins").map_err(get)?),
                throttled_until: row
                    .try_get::<Option<i64>, _>("throttled_until")
                    .map_err(get)?
                    .map(from_ts)
                    .transpose()?,
                locked: row.try_get("locked").map_err(get)?,
                confirmed_at: $crate::sql::opt_ts(row.try_get("confirmed_at").map_err(get)?)?,
                confirmed_via: row
                    .try_get::<Option<String>, _>("confirmed_via")
                    .map_err(get)?
                    .map(|v| {
                        uslugi_domain::ConfirmedVia::parse(&v)
                            .ok_or_else(|| $crate::sql::corrupt("confirmed_via"))
                    })
                    .transpose()?,
                created_at: from_ts(row.try_get("created_at").map_err(get)?)?,
            })
        }

        /// Inserts a session inside the caller's transaction.
        async fn insert_session_row(
            tx: &mut sqlx::Transaction<'_, $db>,
            s: &SessionRecord,
        ) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, \
                 expires_at, idle_timeout_s, remember, must_change_password, device_hash, \
                 user_agent, network) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&s.token_hash)
            .bind(s.account_id.to_string())
            .bind(ts(s.created_at))
            .bind(ts(s.last_seen_at))
            .bind(ts(s.expires_at))
            .bind(s.idle_timeout.whole_seconds())
            .bind(s.remember)
            .bind(s.must_change_password)
            .bind(&s.device_hash)
            .bind(&s.user_agent)
            .bind(&s.network)
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
            Ok(())
        }

        /// A login inside the caller's transaction: the failures in a row
        /// cleared (the attempt that opens it was taken as one), the
        /// session, its device noted, the notice of a new device (if any)
        /// and the audit record.
        pub(crate) async fn write_login(
            tx: &mut sqlx::Transaction<'_, $db>,
            s: &SessionRecord,
            notice: Option<&uslugi_app::ports::OutboxRecord>,
            audit: &uslugi_app::ports::AuditWrite,
        ) -> StoreResult<()> {
            sqlx::query(
                "UPDATE accounts SET failed_logins = 0, throttled_until = NULL, locked = $2 \
                 WHERE id = $1",
            )
            .bind(s.account_id.to_string())
            .bind(false)
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
            insert_session_row(tx, s).await?;
            if let Some(device) = &s.device_hash {
                sqlx::query(
                    "INSERT INTO account_devices (account_id, device_hash, first_seen_at, last_seen_at) \
                     VALUES ($1, $2, $3, $3) ON CONFLICT (account_id, device_hash) \
                     DO UPDATE SET last_seen_at = $3",
                )
                .bind(s.account_id.to_string())
                .bind(device)
                .bind(ts(s.created_at))
                .execute(&mut **tx)
                .await
                .map_err(backend)?;
            }
            if let Some(m) = notice {
                verification_sql::insert_outbox(tx, m).await?;
            }
            operators_sql::append_audit(tx, audit).await?;
            Ok(())
        }

        /// Inserts an account inside the caller's transaction.
        async fn insert_account(
            tx: &mut sqlx::Transaction<'_, $db>,
            a: &AccountRecord,
        ) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO accounts (id, level, surname, given_name, phone, phone_index, email, \
                 email_index, snils_index, passport_index, password_hash, must_change_password, \
                 password_expires_at, failed_logins, throttled_until, locked, confirmed_at, \
                 confirmed_via, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                 $17, $18, $19, $20)",
            )
            .bind(a.id.to_string())
            .bind(a.level.as_str())
            .bind(&a.surname)
            .bind(&a.given_name)
            .bind(&a.phone)
            .bind(&a.phone_index)
            .bind(&a.email)
            .bind(&a.email_index)
            .bind(&a.snils_index)
            .bind(&a.passport_index)
            .bind(&a.password_hash)
            .bind(a.must_change_password)
            .bind(a.password_expires_at.map(ts))
            .bind(i64::from(a.failed_logins))
            .bind(a.throttled_until.map(ts))
            .bind(a.locked)
            .bind(a.confirmed_at.map(ts))
            .bind(a.confirmed_via.map(uslugi_domain::ConfirmedVia::as_str))
            .bind(ts(a.created_at))
            .bind(ts(a.created_at))
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
            Ok(())
        }

        fn session_from_row(row: &Row) -> StoreResult<SessionRecord> {
            let get = |e: sqlx::Error| backend(e);
            Ok(SessionRecord {
                token_hash: row.try_get("token_hash").map_err(get)?,
                account_id: parse_id(&row.try_get::<String, _>("account_id").map_err(get)?)?,
                created_at: from_ts(row.try_get("created_at").map_err(get)?)?,
                last_seen_at: from_ts(row.try_get("last_seen_at").map_err(get)?)?,
                expires_at: from_ts(row.try_get("expires_at").map_err(get)?)?,
                idle_timeout: Duration::seconds(row.try_get("idle_timeout_s").map_err(get)?),
                remember: row.try_get("remember").map_err(get)?,
                must_change_password: row.try_get("must_change_password").map_err(get)?,
                device_hash: row.try_get("device_hash").map_err(get)?,
                user_agent: row.try_get("user_agent").map_err(get)?,
                network: row.try_get("network").map_err(get)?,
            })
        }

        #[async_trait]
        impl RegistrationStore for $store {
            async fn insert_registration(&self, r: &RegistrationRecord) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO registrations (id, channel, lang, surname, given_name, contact, \
                     contact_index, existing_account, secret_hash, secret_expires_at, attempts, \
                     sent_at, sends, confirmed_at, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                )
                .bind(r.id.to_string())
                .bind(r.channel.as_str())
                .bind(&r.lang)
                .bind(&r.surname)
                .bind(&r.given_name)
                .bind(&r.contact)
                .bind(&r.contact_index)
                .bind(r.existing_account)
                .bind(&r.secret_hash)
                .bind(ts(r.secret_expires_at))
                .bind(i64::from(r.attempts))
                .bind(ts(r.sent_at))
                .bind(i64::from(r.sends))
                .bind(r.confirmed_at.map(ts))
                .bind(ts(r.created_at))
                .bind(ts(r.expires_at))
                .execute(&self.write)
                .await
                .map_err(backend)?;
                Ok(())
            }

            async fn registration(&self, id: RegistrationId) -> StoreResult<Option<RegistrationRecord>> {
                let sql = format!("SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE id = $1");
                sqlx::query(&sql)
                    .bind(id.to_string())
                    .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)?
                    .as_ref()
                    .map(registration_from_row)
                    .transpose()
            }

            async fn registration_by_secret(&self, secret_hash: &[u8]) -> StoreResult<Option<RegistrationRecord>> {
                let sql = format!("SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE secret_hash = $1");
                sqlx::query(&sql)
                    .bind(secret_hash)
                    .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)?
                    .as_ref()
                    .map(registration_from_row)
                    .transpose()
            }

            async fn take_code_attempt(&self, id: RegistrationId, max: u32) -> StoreResult<Option<u32>> {
                let row = sqlx::query(
                    "UPDATE registrations SET attempts = attempts + 1 \
                     WHERE id = $1 AND attempts < $2 RETURNING attempts",
                )
                .bind(id.to_string())
                .bind(i64::from(max))
                .fetch_optional(&self.write)
                .await
                .map_err(backend)?;
                row.map(|r| r.try_get::<i64, _>("attempts").map(count).map_err(backend))
                    .transpose()
            }

            async fn mark_registration_confirmed(
                &self,
                id: RegistrationId,
                at: OffsetDateTime,
                continuation: &uslugi_app::ports::ContinuationRecord,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE registrations SET confirmed_at = COALESCE(confirmed_at, $1), \
                     continuation_hash = $3, continuation_expires_at = $4 WHERE id = $2",
                )
                .bind(ts(at))
                .bind(id.to_string())
                .bind(&continuation.hash)
                .bind(ts(continuation.expires_at))
                .execute(&self.write)
                .await
                .map_err(backend)?;
                Ok(())
            }

            async fn replace_registration_secret(
                &self,
                id: RegistrationId,
                previous_sent_at: OffsetDateTime,
                secret_hash: &[u8],
                secret_expires_at: OffsetDateTime,
                sent_at: OffsetDateTime,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE registrations SET secret_hash = $1, secret_expires_at = $2, sent_at = $3, \
                     attempts = 0, sends = sends + 1 WHERE id = $4 AND sent_at = $5",
                )
                .bind(secret_hash)
                .bind(ts(secret_expires_at))
                .bind(ts(sent_at))
                .bind(id.to_string())
                .bind(ts(previous_sent_at))
                .execute(&self.write)
                .await
                .map_err(backend)?;
                Ok(done.rows_affected() == 1)
            }

            async fn complete_registration(
                &self,
                id: RegistrationId,
                continuation_hash: &[u8],
                now: OffsetDateTime,
                a: &AccountRecord,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await.map_err(backend)?;
                let removed = sqlx::query(
                    "DELETE FROM registrations WHERE id = $1 AND confirmed_at IS NOT NULL \
                     AND continuation_hash = $2 AND continuation_expires_at > $3",
                )
                .bind(id.to_string())
                .bind(continuation_hash)
                .bind(ts(now))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                if removed.rows_affected() != 1 {
                    return Err(StoreError::NotFound);
                }
                insert_account(&mut tx, a).await?;
                tx.commit().await.map_err(backend)
            }

            async fn delete_registration(&self, id: RegistrationId) -> StoreResult<()> {
                sqlx::query("DELETE FROM registrations WHERE id = $1")
                    .bind(id.to_string())
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                Ok(())
            }

            async fn delete_expired_registrations(&self, now: OffsetDateTime) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM registrations WHERE expires_at <= $1")
                    .bind(ts(now))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                Ok(done.rows_affected())
            }
        }

        #[async_trait]
        impl AccountStore for $store {
            async fn account(&self, id: AccountId) -> StoreResult<Option<AccountRecord>> {
                let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
                sqlx::query(&sql)
                    .bind(id.to_string())
                    .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)?
                    .as_ref()
                    .map(account_from_row)
                    .transpose()
            }

            async fn account_by_login(&self, kind: LoginKind, index: &[u8]) -> StoreResult<Option<AccountRecord>> {
                let column = match kind {
                    LoginKind::Phone => "phone_index",
                    LoginKind::Email => "email_index",
                    LoginKind::Snils => "snils_index",
                };
                let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {column} = $1");
                sqlx::query(&sql)
                    .bind(index)
                    .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)?
                    .as_ref()
                    .map(account_from_row)
                    .transpose()
            }

            async fn take_login_attempt(
                &self,
                id: AccountId,
                seen: u32,
                now: OffsetDateTime,
                next: uslugi_app::ports::LoginRestriction,
            ) -> StoreResult<bool> {
                // Throttle, lock and count in one statement: of 200 guesses
                // that saw the same state, one is evaluated.
                let done = sqlx::query(
                    "UPDATE accounts SET failed_logins = failed_logins + 1, throttled_until = $4, \
                     locked = $5 WHERE id = $1 AND failed_logins = $2 AND locked = $6 \
                     AND (throttled_until IS NULL OR throttled_until <= $3)",
                )
                .bind(id.to_string())
                .bind(i64::from(seen))
                .bind(ts(now))
                .bind(next.throttled_until.map(ts))
                .bind(next.locked)
                .bind(false)
                .execute(&self.write)
                .await
                .map_err(backend)?;
                Ok(done.rows_affected() == 1)
            }

            async fn give_back_login_attempt(
                &self,
                id: AccountId,
                taken: u32,
                throttled_until: Option<OffsetDateTime>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE accounts SET failed_logins = failed_logins - 1, throttled_until = $3, \
                     locked = $4 WHERE id = $1 AND failed_logins = $2",
                )
                .bind(id.to_string())
                .bind(i64::from(taken))
                .bind(throttled_until.map(ts))
                .bind(false)
                .execute(&self.write)
                .await
                .map_err(backend)?;
                Ok(())
            }

            async fn clear_login_failures(&self, id: AccountId) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE accounts SET failed_logins = 0, throttled_until = NULL, locked = $1 \
                     WHERE id = $2",
                )
                .bind(false)
                .bind(id.to_string())
                .execute(&self.write)
                .await
                .map_err(backend)?;
                Ok(())
            }
        }

        #[async_trait]
        impl SessionStore for $store {
            async fn insert_session(&self, s: &SessionRecord) -> StoreResult<()> {
                let mut tx = self.begin_write().await.map_err(backend)?;
                insert_session_row(&mut tx, s).await?;
                tx.commit().await.map_err(backend)
            }

            async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<SessionRecord>> {
                // A literal, not format!: this read runs on every request.
                sqlx::query(
                    "SELECT token_hash, account_id, created_at, last_seen_at, expires_at, \
                     idle_timeout_s, remember, must_change_password, device_hash, user_agent, \
                     network FROM sessions WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                .await
                .map_err(backend)?
                .as_ref()
                .map(session_from_row)
                .transpose()
            }

            async fn touch_session(&self, token_hash: &[u8], at: OffsetDateTime) -> StoreResult<()> {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                    .bind(ts(at))
                    .bind(token_hash)
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                Ok(())
            }

            async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                Ok(())
            }

            async fn delete_account_sessions(&self, account: AccountId) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                    .bind(account.to_string())
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                Ok(done.rows_affected())
            }

            async fn account_sessions(&self, account: AccountId) -> StoreResult<Vec<SessionRecord>> {
                sqlx::query(
                    "SELECT token_hash, account_id, created_at, last_seen_at, expires_at, \
                     idle_timeout_s, remember, must_change_password, device_hash, user_agent, \
                     network FROM sessions WHERE account_id = $1 ORDER BY last_seen_at DESC",
                )
                .bind(account.to_string())
                .fetch_all(&mut *self.reader().await.map_err(backend)?)
                .await
                .map_err(backend)?
                .iter()
                .map(session_from_row)
                .collect()
            }

            async fn delete_account_session(&self, account: AccountId, token_hash: &[u8]) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND token_hash = $2")
                    .bind(account.to_string())
                    .bind(token_hash)
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_other_sessions(&self, account: AccountId, keep: &[u8]) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2")
                    .bind(account.to_string())
                    .bind(keep)
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                Ok(done.rows_affected())
            }

            async fn device_seen(
                &self,
                account: AccountId,
                device_hash: &[u8],
            ) -> StoreResult<uslugi_app::ports::DeviceSeen> {
                let (any, this): (i64, i64) = sqlx::query_as(
                    "SELECT COUNT(*), COUNT(CASE WHEN device_hash = $2 THEN 1 END) \
                     FROM account_devices WHERE account_id = $1",
                )
                .bind(account.to_string())
                .bind(device_hash)
                .fetch_one(&mut *self.reader().await.map_err(backend)?)
                .await
                .map_err(backend)?;
                Ok(uslugi_app::ports::DeviceSeen { this: this > 0, any: any > 0 })
            }

            async fn open_session(
                &self,
                s: &SessionRecord,
                notice: Option<&uslugi_app::ports::OutboxRecord>,
                audit: &uslugi_app::ports::AuditWrite,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await.map_err(backend)?;
                write_login(&mut tx, s, notice, audit).await?;
                tx.commit().await.map_err(backend)
            }

            async fn delete_expired_sessions(&self, now: OffsetDateTime) -> StoreResult<u64> {
                let done = sqlx::query(
                    "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at + idle_timeout_s <= $2",
                )
                .bind(ts(now))
                .bind(ts(now))
                .execute(&self.write)
                .await
                .map_err(backend)?;
                Ok(done.rows_affected())
            }
        }

        impl $store {
            /// The body of `Maintenance::import_accounts`: one transaction,
            /// multi-row `INSERT`s of up to `IMPORT_ROWS_PER_STATEMENT` rows.
            async fn import_accounts_in_bulk(&self, accounts: &[AccountRecord]) -> StoreResult<()> {
                let mut tx = self.begin_write().await.map_err(backend)?;
                for chunk in accounts.chunks($crate::IMPORT_ROWS_PER_STATEMENT) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO accounts (id, level, surname, given_name, phone, phone_index, \
                         email, email_index, snils_index, password_hash, failed_logins, \
                         throttled_until, locked, created_at, updated_at) ",
                    );
                    insert.push_values(chunk, |mut row, a| {
                        row.push_bind(a.id.to_string())
                            .push_bind(a.level.as_str())
                            .push_bind(&a.surname)
                            .push_bind(&a.given_name)
                            .push_bind(&a.phone)
                            .push_bind(&a.phone_index)
                            .push_bind(&a.email)
                            .push_bind(&a.email_index)
                            .push_bind(&a.snils_index)
                            .push_bind(&a.password_hash)
                            .push_bind(i64::from(a.failed_logins))
                            .push_bind(a.throttled_until.map(ts))
                            .push_bind(a.locked)
                            .push_bind(ts(a.created_at))
                            .push_bind(ts(a.created_at));
                    });
                    insert.build().execute(&mut *tx).await.map_err(backend)?;
                }
                tx.commit().await.map_err(backend)
            }

            /// The body of `Maintenance::import_sessions`, like the above.
            async fn import_sessions_in_bulk(&self, sessions: &[SessionRecord]) -> StoreResult<()> {
                let mut tx = self.begin_write().await.map_err(backend)?;
                for chunk in sessions.chunks($crate::IMPORT_ROWS_PER_STATEMENT) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, \
                         expires_at, idle_timeout_s, remember, must_change_password) ",
                    );
                    insert.push_values(chunk, |mut row, s| {
                        row.push_bind(&s.token_hash)
                            .push_bind(s.account_id.to_string())
                            .push_bind(ts(s.created_at))
                            .push_bind(ts(s.last_seen_at))
                            .push_bind(ts(s.expires_at))
                            .push_bind(s.idle_timeout.whole_seconds())
                            .push_bind(s.remember)
                            .push_bind(s.must_change_password);
                    });
                    insert.build().execute(&mut *tx).await.map_err(backend)?;
                }
                tx.commit().await.map_err(backend)
            }
        }

        #[async_trait]
        impl RateLimitStore for $store {
            async fn hit_rate_limit(
                &self,
                bucket: &str,
                key: &[u8],
                now: OffsetDateTime,
                window: Duration,
                limit: u32,
            ) -> StoreResult<RateDecision> {
                let since = ts(now - window);
                let mut tx = self.begin_write().await.map_err(backend)?;
                Self::lock_rate_key(&mut tx, bucket, key).await.map_err(backend)?;
                // Counting and recording in one statement, under the key's
                // lock, so concurrent requests cannot both take the last slot.
                let done = sqlx::query(
                    "INSERT INTO rate_events (bucket, key, at) SELECT $1, $2, $3 \
                     WHERE (SELECT COUNT(*) FROM rate_events WHERE bucket = $4 AND key = $5 AND at > $6) < $7",
                )
                .bind(bucket)
                .bind(key)
                .bind(ts(now))
                .bind(bucket)
                .bind(key)
                .bind(since)
                .bind(i64::from(limit))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                let decision = if done.rows_affected() == 1 {
                    RateDecision::Allowed
                } else {
                    let oldest: Option<i64> = sqlx::query_scalar(
                        "SELECT MIN(at) FROM rate_events WHERE bucket = $1 AND key = $2 AND at > $3",
                    )
                    .bind(bucket)
                    .bind(key)
                    .bind(since)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?;
                    let oldest = oldest.map(from_ts).transpose()?.unwrap_or(now);
                    RateDecision::Refused {
                        retry_at: (oldest + window).max(now + Duration::SECOND),
                    }
                };
                tx.commit().await.map_err(backend)?;
                Ok(decision)
            }

            async fn purge_rate_events(&self, before: OffsetDateTime) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM rate_events WHERE at < $1")
                    .bind(ts(before))
                    .execute(&self.write)
                    .await
                    .map_err(backend)?;
                Ok(done.rows_affected())
            }
        }
    };
}
