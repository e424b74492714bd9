//! `uslugi admin audit export`: the records of a period as JSON lines, each
//! with its link and the link before it, so that a file handed to an
//! auditor is checked with the chain's key alone, without the database
//! (`uslugi admin audit verify --file`). The first line's own link is
//! checked; that it follows the record before the period needs the log.
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::audit::AuditLog;
use crate::ports::{AuditEntry, AuditRecord, AuditStore, StoreError};

/// One line of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedRecord {
    pub seq: i64,
    pub id: uuid::Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub operator_id: Option<String>,
    pub center_id: Option<String>,
    pub account_id: Option<String>,
    pub action: String,
    pub outcome: String,
    /// The details exactly as they were linked (a JSON object, as text).
    pub details: String,
    /// Hex.
    pub prev_hash: String,
    /// Hex.
    pub hash: String,
}

impl From<&AuditRecord> for ExportedRecord {
    fn from(r: &AuditRecord) -> Self {
        let e = &r.entry;
        Self {
            seq: r.seq,
            id: e.id,
            at: e.at,
            actor: e.actor.clone(),
            operator_id: e.operator_id.map(|o| o.to_string()),
            center_id: e.center_id.clone(),
            account_id: e.account_id.map(|a| a.to_string()),
            action: e.action.clone(),
            outcome: e.outcome.clone(),
            details: e.details.clone(),
            prev_hash: hex(&r.prev_hash),
            hash: hex(&r.hash),
        }
    }
}

impl ExportedRecord {
    /// The entry as it was linked; `None` if a field cannot be read back.
    fn entry(&self) -> Option<AuditEntry> {
        Some(AuditEntry {
            id: self.id,
            at: self.at,
            actor: self.actor.clone(),
            operator_id: match &self.operator_id {
                Some(o) => Some(o.parse().ok()?),
                None => None,
            },
            center_id: self.center_id.clone(),
            account_id: match &self.account_id {
                Some(a) => Some(a.parse().ok()?),
                None => None,
            },
            action: self.action.clone(),
            outcome: self.outcome.clone(),
            details: self.details.clone(),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// What checking an exported file found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportCheck {
    pub records: usize,
    /// The first line that is not sound, and why.
    pub first_problem: Option<(usize, &'static str)>,
}

impl AuditLog {
    /// Hands each record written from `since` until before `until` to
    /// `line`, oldest first, a page at a time; how many there were.
    pub async fn export(
        &self,
        store: &dyn AuditStore,
        since: OffsetDateTime,
        until: OffsetDateTime,
        mut line: impl FnMut(&ExportedRecord) -> std::io::Result<()>,
    ) -> Result<usize, ExportError> {
        const PAGE: u32 = 1000;
        let mut after = 0;
        let mut count = 0;
        loop {
            let page = store.audit_between(since, until, after, PAGE).await?;
            for r in &page {
                line(&ExportedRecord::from(r))?;
                count += 1;
                after = r.seq;
            }
            if page.len() < PAGE as usize {
                return Ok(count);
            }
        }
    }

    /// Checks an export line by line (numbered from 1): each is JSON of a
    /// record whose link is its own, and each after the first follows the
    /// one before it (the next number, the link before it).
    pub fn verify_export<'a>(&self, lines: impl Iterator<Item = &'a str>) -> ExportCheck {
        let mut check = ExportCheck::default();
        let mut before: Option<(i64, Vec<u8>)> = None;
        for (i, text) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let n = i + 1;
            let problem = match serde_json::from_str::<ExportedRecord>(text) {
                Err(_) => Some("not a record of an export"),
                Ok(r) => match (r.entry(), unhex(&r.prev_hash), unhex(&r.hash)) {
                    (Some(entry), Some(prev), Some(hash)) => {
                        if before
                            .as_ref()
                            .is_some_and(|(seq, h)| r.seq != seq + 1 || *h != prev)
                        {
                            Some(
                                "does not follow the line before it (a record is missing or moved)",
                            )
                        } else if !crate::crypto::constant_time_eq(
                            &self.link(&prev, r.seq, &entry),
                            &hash,
                        ) {
                            Some("altered: its contents do not match its link")
                        } else {
                            before = Some((r.seq, hash));
                            None
                        }
                    }
                    _ => Some("a field cannot be read"),
                },
            };
            if let Some(p) = problem {
                check.first_problem = Some((n, p));
                return check;
            }
            check.records += 1;
        }
        check
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export")]
    Write(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::audit::Actor;

    struct Keyed;
    impl crate::ports::AuditChain for Keyed {
        fn link(&self, prev: &[u8], seq: i64, e: &AuditEntry) -> Vec<u8> {
            let mut v = prev.to_vec();
            v.extend_from_slice(&seq.to_be_bytes());
            v.extend_from_slice(e.action.as_bytes());
            v.extend_from_slice(e.details.as_bytes());
            v.iter().rev().take(16).copied().collect()
        }
    }

    fn chain(log: &AuditLog, n: i64) -> Vec<String> {
        let mut prev = vec![0; 16];
        (1..=n)
            .map(|seq| {
                let w = log
                    .record(
                        Actor::Admin,
                        &format!("a{seq}"),
                        "ok",
                        OffsetDateTime::UNIX_EPOCH,
                    )
                    .details(serde_json::json!({ "n": seq }))
                    .write();
                let hash = w.chain.link(&prev, seq, &w.entry);
                let r = AuditRecord {
                    seq,
                    entry: w.entry,
                    prev_hash: std::mem::replace(&mut prev, hash.clone()),
                    hash,
                };
                serde_json::to_string(&ExportedRecord::from(&r)).unwrap()
            })
            .collect()
    }

    #[test]
    fn an_export_checks_out_and_any_change_is_found_by_line() {
        let log = AuditLog::new(Arc::new(Keyed));
        let lines = chain(&log, 4);
        let check = |lines: &[String]| log.verify_export(lines.iter().map(String::as_str));
        assert_eq!(
            check(&lines),
            ExportCheck {
                records: 4,
                first_problem: None
            }
        );
        assert_eq!(
            check(&lines[1..]).records,
            3,
            "a period need not start at 1"
        );

        let mut altered = lines.clone();
        altered[2] = altered[2].replace(r#"\"n\":3"#, r#"\"n\":30"#);
        assert_ne!(altered[2], lines[2]);
        assert_eq!(check(&altered).first_problem.map(|p| p.0), Some(3));

        let mut missing = lines.clone();
        missing.remove(1);
        assert_eq!(check(&missing).first_problem.map(|p| p.0), Some(2));

        let mut garbage = lines;
        garbage[3] = "{".into();
        assert_eq!(
            check(&garbage).first_problem,
            Some((4, "not a record of an export"))
        );
    }
}
