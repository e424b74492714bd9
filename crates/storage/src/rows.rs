//! What every aggregate's SQL shares: how values are stored (times as Unix
//! seconds, ids and enums as text, counts as `BIGINT`) and how a row read
//! with `sqlx::FromRow` becomes the app's record.
//!
//! Each aggregate's file holds its row structs and their one conversion
//! (`TryFrom<…Row>` for the record) outside the per-engine macro: the
//! derived `FromRow` is generic over the row type, so one struct serves
//! SQLite and PostgreSQL alike.

use time::OffsetDateTime;
use uslugi_app::ports::{ContinuationRecord, StoreError, StoreResult};
use uslugi_domain::Token;

pub(crate) fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub(crate) fn from_ts(secs: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| StoreError::Backend(Box::new(e)))
}

pub(crate) fn opt_ts(secs: Option<i64>) -> StoreResult<Option<OffsetDateTime>> {
    secs.map(from_ts).transpose()
}

pub(crate) fn corrupt(what: &'static str) -> StoreError {
    StoreError::Backend(format!("corrupt {what} in database").into())
}

/// A typed id (`AccountId`, `OperatorId`, …) stored as text.
pub(crate) fn parse_id<T: std::str::FromStr>(s: &str) -> StoreResult<T> {
    s.parse().map_err(|_| corrupt("id"))
}

/// A nullable typed id.
pub(crate) fn opt_id<T: std::str::FromStr>(s: Option<String>) -> StoreResult<Option<T>> {
    s.as_deref().map(parse_id).transpose()
}

pub(crate) fn parse_uuid(s: &str) -> StoreResult<uuid::Uuid> {
    uuid::Uuid::parse_str(s).map_err(|_| corrupt("id"))
}

/// A domain enum stored as its string form; `what` names it in the error.
pub(crate) fn token<T: Token>(s: &str, what: &'static str) -> StoreResult<T> {
    T::parse(s).ok_or_else(|| corrupt(what))
}

pub(crate) fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A continuation read from its two columns; none unless both are set.
pub(crate) fn continuation(
    hash: Option<Vec<u8>>,
    expires_at: Option<i64>,
) -> StoreResult<Option<ContinuationRecord>> {
    Ok(match (hash, expires_at) {
        (Some(hash), Some(at)) => Some(ContinuationRecord {
            hash,
            expires_at: from_ts(at)?,
        }),
        _ => None,
    })
}

/// The record of the row a `fetch_optional` found, if any.
pub(crate) fn one<R, T: TryFrom<R, Error = StoreError>>(row: Option<R>) -> StoreResult<Option<T>> {
    row.map(T::try_from).transpose()
}

/// The records of the rows a `fetch_all` found, in their order.
pub(crate) fn all<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> StoreResult<Vec<T>> {
    rows.into_iter().map(T::try_from).collect()
}
