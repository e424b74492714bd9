//! Accounts: who a person is to the portal, how they sign in, and how far
//! their identity is proven. Sign-in attempts are taken in the statement
//! that counts them.

use uslugi_app::ports::{AccountRecord, StoreError};

use crate::rows::{count, from_ts, opt_ts, parse_id, token};

pub(crate) const COLUMNS: &str = "id, level, surname, given_name, phone, phone_index, \
    email, email_index, snils_index, passport_index, password_hash, must_change_password, \
    password_expires_at, failed_logins, throttled_until, locked, confirmed_at, \
    confirmed_via, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: String,
    level: String,
    surname: Vec<u8>,
    given_name: Vec<u8>,
    phone: Option<Vec<u8>>,
    phone_index: Option<Vec<u8>>,
    email: Option<Vec<u8>>,
    email_index: Option<Vec<u8>>,
    snils_index: Option<Vec<u8>>,
    passport_index: Option<Vec<u8>>,
    password_hash: String,
    must_change_password: bool,
    password_expires_at: Option<i64>,
    failed_logins: i64,
    throttled_until: Option<i64>,
    locked: bool,
    confirmed_at: Option<i64>,
    confirmed_via: Option<String>,
    created_at: i64,
}

impl TryFrom<AccountRow> for AccountRecord {
    type Error = StoreError;

    fn try_from(r: AccountRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_id(&r.id)?,
            level: token(&r.level, "level")?,
            surname: r.surname,
            given_name: r.given_name,
            phone: r.phone,
            phone_index: r.phone_index,
            email: r.email,
            email_index: r.email_index,
            snils_index: r.snils_index,
            passport_index: r.passport_index,
            password_hash: r.password_hash,
            must_change_password: r.must_change_password,
            password_expires_at: opt_ts(r.password_expires_at)?,
            failed_logins: count(r.failed_logins),
            throttled_until: opt_ts(r.throttled_until)?,
            locked: r.locked,
            confirmed_at: opt_ts(r.confirmed_at)?,
            confirmed_via: r
                .confirmed_via
                .map(|v| token(&v, "confirmed_via"))
                .transpose()?,
            created_at: from_ts(r.created_at)?,
        })
    }
}

macro_rules! accounts_sql {
    ($store:ident, $db:ty) => {
        mod accounts {
            use async_trait::async_trait;
            use time::OffsetDateTime;
            use uslugi_app::ports::{AccountRecord, AccountStore, AuditWrite, StoreResult};
            use uslugi_domain::{AccountId, ConfirmedVia, LoginKind, Token};

            use super::$store;
            use $crate::accounts::{AccountRow, COLUMNS};
            use super::audit::append_audit;
            use super::shared::changed_one;
            use $crate::backend;
            use $crate::rows::{from_ts, ts};

            /// Inserts an account inside the caller's transaction.
            pub(crate) async fn insert_account(
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

            /// Raises a standard account to confirmed inside the caller's
            /// transaction: how and when the identity was proven. False when
            /// the account was not standard (never lowered, never proven twice).
            pub(crate) async fn mark_confirmed(
                tx: &mut sqlx::Transaction<'_, $db>,
                account: &str,
                via: ConfirmedVia,
                at: OffsetDateTime,
            ) -> StoreResult<bool> {
                let query = sqlx::query(
                    "UPDATE accounts SET level = 'confirmed', confirmed_at = $2, \
                     confirmed_via = $3, updated_at = $2 WHERE id = $1 AND level = 'standard'",
                )
                .bind(account)
                .bind(ts(at))
                .bind(via.as_str());
                changed_one(query, &mut **tx).await
            }

            #[async_trait]
            impl AccountStore for $store {
                async fn account(&self, id: AccountId) -> StoreResult<Option<AccountRecord>> {
                    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
                    self.read_one(sqlx::query_as::<_, AccountRow>(&sql).bind(id.to_string()))
                        .await
                }

                async fn account_by_login(&self, kind: LoginKind, index: &[u8]) -> StoreResult<Option<AccountRecord>> {
                    let column = match kind {
                        LoginKind::Phone => "phone_index",
                        LoginKind::Email => "email_index",
                        LoginKind::Snils => "snils_index",
                    };
                    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE {column} = $1");
                    self.read_one(sqlx::query_as::<_, AccountRow>(&sql).bind(index))
                        .await
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
                    let query = sqlx::query(
                        "UPDATE accounts SET failed_logins = failed_logins + 1, throttled_until = $4, \
                         locked = $5 WHERE id = $1 AND failed_logins = $2 AND locked = $6 \
                         AND (throttled_until IS NULL OR throttled_until <= $3)",
                    )
                    .bind(id.to_string())
                    .bind(i64::from(seen))
                    .bind(ts(now))
                    .bind(next.throttled_until.map(ts))
                    .bind(next.locked)
                    .bind(false);
                    changed_one(query, &self.write).await
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

                async fn disable_account(
                    &self,
                    id: AccountId,
                    at: OffsetDateTime,
                    audit: &AuditWrite,
                ) -> StoreResult<Option<u64>> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let marked = sqlx::query(
                        "INSERT INTO account_blocks (account_id, disabled_at) \
                         SELECT id, $2 FROM accounts WHERE id = $1 \
                         AND NOT EXISTS (SELECT 1 FROM account_blocks WHERE account_id = $1)",
                    )
                    .bind(id.to_string())
                    .bind(ts(at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if marked.rows_affected() != 1 {
                        return Ok(None);
                    }
                    let ended = sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?
                        .rows_affected();
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(Some(ended))
                }

                async fn enable_account(&self, id: AccountId, audit: &AuditWrite) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let lifted = sqlx::query("DELETE FROM account_blocks WHERE account_id = $1")
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    if lifted.rows_affected() != 1 {
                        return Ok(false);
                    }
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn delete_account(&self, id: AccountId, audit: &AuditWrite) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    // Every table of the account's rows references it ON
                    // DELETE CASCADE (the contract suite checks the rows go).
                    let deleted = sqlx::query("DELETE FROM accounts WHERE id = $1")
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    if deleted.rows_affected() != 1 {
                        return Ok(false);
                    }
                    append_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn account_disabled_at(&self, id: AccountId) -> StoreResult<Option<OffsetDateTime>> {
                    let at: Option<i64> = sqlx::query_scalar(
                        "SELECT disabled_at FROM account_blocks WHERE account_id = $1",
                    )
                    .bind(id.to_string())
                    .fetch_optional(&mut *self.reader().await.map_err(backend)?)
                    .await
                    .map_err(backend)?;
                    at.map(from_ts).transpose()
                }
            }

            impl $store {
                /// The body of `Maintenance::import_accounts`: one transaction,
                /// multi-row `INSERT`s of up to `IMPORT_ROWS_PER_STATEMENT` rows.
                pub(crate) async fn import_accounts_in_bulk(&self, accounts: &[AccountRecord]) -> StoreResult<()> {
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
            }
        }
    };
}
