//! What the records that carry a code or a link share: a registration, a
//! recovery, a contact change, a second-factor challenge, a desk phone and a
//! letter each keep a hash of the secret, when it expires, the attempts at
//! it and (most) when it was sent. Their statements differ only in table,
//! column names and the condition that the record is still live, so they are
//! written once here, from a [`Secret`] that names those, and each engine
//! gets them from [`secrets_sql!`].

/// Where a kind of record keeps its secret.
pub(crate) struct Secret {
    pub(crate) table: &'static str,
    /// The columns' prefix: `secret` (`secret_hash`, `secret_expires_at`)
    /// or `code`.
    pub(crate) prefix: &'static str,
    /// Whether the record counts its sends (`sends = sends + 1` on a resend).
    pub(crate) counts_sends: bool,
    /// What must hold besides the id for an attempt or a resend, e.g.
    /// `completed_at IS NULL`; empty for none.
    pub(crate) live: &'static str,
}

impl Secret {
    fn and_live(&self) -> String {
        if self.live.is_empty() {
            String::new()
        } else {
            format!(" AND {}", self.live)
        }
    }

    /// Takes one attempt (`$1` the id, `$2` the most attempts): counted and
    /// checked in one statement, so concurrent guesses cannot both take the
    /// last attempt. Returns the attempts taken so far, no row when none
    /// was left.
    pub(crate) fn take_attempt_sql(&self) -> String {
        format!(
            "UPDATE {} SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2{} \
             RETURNING attempts",
            self.table,
            self.and_live()
        )
    }

    /// Replaces the secret (`$1` its hash, `$2` its expiry, `$3` when it is
    /// sent) of the record `$4`, only if it was last sent at `$5`: of two
    /// concurrent resends one wins. The attempts start again.
    pub(crate) fn replace_sql(&self) -> String {
        let prefix = self.prefix;
        format!(
            "UPDATE {} SET {prefix}_hash = $1, {prefix}_expires_at = $2, sent_at = $3, \
             attempts = 0{} WHERE id = $4 AND sent_at = $5{}",
            self.table,
            if self.counts_sends {
                ", sends = sends + 1"
            } else {
                ""
            },
            self.and_live()
        )
    }
}

/// A new secret for [`Secret::replace_sql`].
pub(crate) struct NewSecret<'a> {
    pub(crate) hash: &'a [u8],
    pub(crate) expires_at: time::OffsetDateTime,
    pub(crate) sent_at: time::OffsetDateTime,
}

/// The statements on a [`Secret`], for one engine (see [`sql_store!`]).
macro_rules! secrets_sql {
    ($store:ident, $db:ty) => {
        mod secrets {
            use time::OffsetDateTime;
            use uslugi_app::ports::{OutboxRecord, StoreResult};

            use super::outbox::insert_outbox;
            use super::shared::changed_one;
            use super::$store;
            use $crate::backend;
            use $crate::rows::{count, ts};
            use $crate::secrets::{NewSecret, Secret};

            impl $store {
                /// See [`Secret::take_attempt_sql`].
                pub(crate) async fn take_attempt(
                    &self,
                    secret: &Secret,
                    id: String,
                    max: u32,
                ) -> StoreResult<Option<u32>> {
                    let taken: Option<i64> = sqlx::query_scalar(&secret.take_attempt_sql())
                        .bind(id)
                        .bind(i64::from(max))
                        .fetch_optional(&self.write)
                        .await
                        .map_err(backend)?;
                    Ok(taken.map(count))
                }

                /// [`Self::replace_secret`] with a secret sent when its
                /// message was made.
                pub(crate) async fn replace_secret_sent_by(
                    &self,
                    secret: &Secret,
                    id: String,
                    previous_sent_at: OffsetDateTime,
                    (hash, expires_at): (&[u8], OffsetDateTime),
                    message: &OutboxRecord,
                ) -> StoreResult<bool> {
                    let new = NewSecret {
                        hash,
                        expires_at,
                        sent_at: message.created_at,
                    };
                    self.replace_secret(secret, id, previous_sent_at, new, message)
                        .await
                }

                /// See [`Secret::replace_sql`]; the message that sends the
                /// new secret is written in the same transaction. False when
                /// the record changed or is gone.
                pub(crate) async fn replace_secret(
                    &self,
                    secret: &Secret,
                    id: String,
                    previous_sent_at: OffsetDateTime,
                    new: NewSecret<'_>,
                    message: &OutboxRecord,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await.map_err(backend)?;
                    let sql = secret.replace_sql();
                    let query = sqlx::query(&sql)
                        .bind(new.hash)
                        .bind(ts(new.expires_at))
                        .bind(ts(new.sent_at))
                        .bind(id)
                        .bind(ts(previous_sent_at));
                    if !changed_one(query, &mut *tx).await? {
                        return Ok(false);
                    }
                    insert_outbox(&mut tx, message).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::Secret;

    /// The shared statements are the ones each aggregate wrote out before.
    #[test]
    fn statements_keep_their_conditions() {
        let cases: [(&Secret, Option<&str>, Option<&str>); 6] = [
            (
                &crate::contacts::SECRET,
                Some(
                    "UPDATE contact_changes SET attempts = attempts + 1 WHERE id = $1 \
                 AND attempts < $2 AND completed_at IS NULL RETURNING attempts",
                ),
                Some(
                    "UPDATE contact_changes SET secret_hash = $1, secret_expires_at = $2, \
                     sent_at = $3, attempts = 0, sends = sends + 1 WHERE id = $4 AND sent_at = $5 \
                     AND completed_at IS NULL",
                ),
            ),
            (
                &crate::registration::SECRET,
                Some(
                    "UPDATE registrations SET attempts = attempts + 1 WHERE id = $1 \
                 AND attempts < $2 RETURNING attempts",
                ),
                Some(
                    "UPDATE registrations SET secret_hash = $1, secret_expires_at = $2, \
                     sent_at = $3, attempts = 0, sends = sends + 1 WHERE id = $4 AND sent_at = $5",
                ),
            ),
            (
                &crate::second_factor::SECRET,
                Some(
                    "UPDATE factor_challenges SET attempts = attempts + 1 WHERE id = $1 \
                 AND attempts < $2 RETURNING attempts",
                ),
                Some(
                    "UPDATE factor_challenges SET code_hash = $1, code_expires_at = $2, \
                     sent_at = $3, attempts = 0 WHERE id = $4 AND sent_at = $5",
                ),
            ),
            (
                &crate::desk::SECRET,
                // The desk takes its attempts with its own statement.
                None,
                Some(
                    "UPDATE desk_phones SET code_hash = $1, code_expires_at = $2, \
                     sent_at = $3, attempts = 0 WHERE id = $4 AND sent_at = $5 \
                     AND confirmed_at IS NULL",
                ),
            ),
            (
                &crate::recovery::SECRET,
                Some(
                    "UPDATE recoveries SET attempts = attempts + 1 WHERE id = $1 \
                 AND attempts < $2 AND completed_at IS NULL RETURNING attempts",
                ),
                Some(
                    "UPDATE recoveries SET secret_hash = $1, secret_expires_at = $2, \
                     sent_at = $3, attempts = 0, sends = sends + 1 WHERE id = $4 AND sent_at = $5 \
                     AND completed_at IS NULL",
                ),
            ),
            (
                &crate::letters::SECRET,
                Some(
                    "UPDATE identity_letters SET attempts = attempts + 1 WHERE id = $1 \
                 AND attempts < $2 RETURNING attempts",
                ),
                // Never replaced: a new letter voids the last instead.
                None,
            ),
        ];
        for (secret, take, replace) in cases {
            if let Some(take) = take {
                assert_eq!(secret.take_attempt_sql(), take, "{}", secret.table);
            }
            if let Some(replace) = replace {
                assert_eq!(secret.replace_sql(), replace, "{}", secret.table);
            }
        }
    }
}
