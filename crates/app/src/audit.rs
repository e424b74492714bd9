//! The audit log of security events: who did what to which account, when,
//! and how it ended. Records name people and operators by id only (no
//! personal data), are written in the same transaction as the change they
//! record, can never be changed or removed (the database refuses), and are
//! chained by keyed hashes so that `uslugi admin audit verify` finds any
//! record altered, removed or slipped in behind the database's back. The
//! chain's head is also kept outside the database (an [`AuditHeadKeeper`]),
//! so records cut from the end, which leave a sound but shorter chain, are
//! found too.
use std::sync::Arc;

use time::OffsetDateTime;
use uslugi_domain::{AccountId, OperatorId};

use crate::ports::{AuditChain, AuditEntry, AuditFilter, AuditWrite, StoreError};

/// The actions the log records. Stable names: reports and alerts match on them.
pub mod action {
    pub const OPERATOR_ADDED: &str = "operator_added";
    pub const OPERATOR_ENROLLED: &str = "operator_enrolled";
    pub const OPERATOR_DISABLED: &str = "operator_disabled";
    pub const OPERATOR_LOGIN: &str = "operator_login";
    pub const CITIZEN_SEARCH: &str = "citizen_search";
    pub const CITIZEN_VIEWED: &str = "citizen_viewed";
    pub const IDENTITY_CONFIRMED: &str = "identity_confirmed";
    pub const REGISTERED_IN_PERSON: &str = "registered_in_person";
    /// A code to the phone typed at a registration at the desk: sent,
    /// resent, wrong, confirmed.
    pub const DESK_PHONE: &str = "desk_phone";
    pub const REGISTRATION_CHECKED: &str = "registration_checked";
    pub const ACCESS_RESTORED: &str = "access_restored";
    pub const SNILS_TRANSFERRED: &str = "snils_transferred";
    pub const LETTER_ORDERED: &str = "identity_letter_ordered";
    pub const CONFIRMED_BY_LETTER: &str = "identity_confirmed_by_letter";
    pub const PASSWORD_CHANGED: &str = "password_changed";
    pub const ACCESS_RECOVERED: &str = "access_recovered";
    pub const LOGIN: &str = "login";
    pub const SESSION_ENDED: &str = "session_ended";
    pub const SECOND_FACTOR_ENABLED: &str = "second_factor_enabled";
    pub const SECOND_FACTOR_DISABLED: &str = "second_factor_disabled";
    pub const BACKUP_CODES_RENEWED: &str = "backup_codes_renewed";
    /// A new phone or e-mail, confirmed; the outcome is which.
    pub const CONTACT_CHANGED: &str = "contact_changed";
    /// `uslugi admin account …`.
    pub const ACCOUNT_SEARCHED: &str = "account_searched";
    pub const ACCOUNT_VIEWED: &str = "account_viewed";
    pub const ACCOUNT_DISABLED: &str = "account_disabled";
    pub const ACCOUNT_ENABLED: &str = "account_enabled";
    pub const ACCOUNT_DELETED: &str = "account_deleted";
    /// A registration completed: the account exists, with the consents
    /// given to start it.
    pub const REGISTERED: &str = "registered";
    /// Everything held about the person, taken by them or an administrator.
    pub const DATA_EXPORTED: &str = "data_exported";
    /// «Удалить учётную запись»: asked, with the date of the erasure.
    pub const DELETION_REQUESTED: &str = "deletion_requested";
    /// A login within the grace cancelled the deletion.
    pub const DELETION_CANCELLED: &str = "deletion_cancelled";
}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Operator {
        id: OperatorId,
    },
    Citizen(AccountId),
    /// The `uslugi admin` command.
    Admin,
    /// The workers (a registry check that ended, for instance).
    System,
}

impl Actor {
    const fn kind(self) -> &'static str {
        match self {
            Self::Operator { .. } => "operator",
            Self::Citizen(_) => "citizen",
            Self::Admin => "admin",
            Self::System => "system",
        }
    }
}

/// Makes audit records linked by the given chain.
#[derive(Clone)]
pub struct AuditLog {
    chain: Arc<dyn AuditChain>,
}

/// One record to write: built with [`AuditLog::record`], finished with
/// the builder methods.
pub struct Record {
    entry: AuditEntry,
    chain: Arc<dyn AuditChain>,
}

impl Record {
    #[must_use]
    pub fn center(mut self, center: &str) -> Self {
        self.entry.center_id = Some(center.to_owned());
        self
    }

    #[must_use]
    pub fn account(mut self, account: AccountId) -> Self {
        self.entry.account_id = Some(account);
        self
    }

    #[must_use]
    pub fn operator(mut self, operator: OperatorId) -> Self {
        self.entry.operator_id = Some(operator);
        self
    }

    /// What else matters, as a JSON object; never personal data.
    #[must_use]
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.entry.details = details.to_string();
        self
    }

    pub fn write(self) -> AuditWrite {
        AuditWrite {
            entry: self.entry,
            chain: self.chain,
        }
    }
}

impl AuditLog {
    pub fn new(chain: Arc<dyn AuditChain>) -> Self {
        Self { chain }
    }

    /// The link a record of `entry` at `seq` after `prev` must carry.
    pub(crate) fn link(&self, prev: &[u8], seq: i64, entry: &AuditEntry) -> Vec<u8> {
        self.chain.link(prev, seq, entry)
    }

    /// A record of what an operator did: at their center, which the
    /// center's supervisor reads the log of.
    pub fn by_operator(
        &self,
        operator: OperatorId,
        center: &str,
        action: &str,
        outcome: &str,
        at: OffsetDateTime,
    ) -> Record {
        self.record(Actor::Operator { id: operator }, action, outcome, at)
            .center(center)
    }

    pub fn record(&self, actor: Actor, action: &str, outcome: &str, at: OffsetDateTime) -> Record {
        let operator_id = match actor {
            Actor::Operator { id } => Some(id),
            _ => None,
        };
        let account_id = match actor {
            Actor::Citizen(a) => Some(a),
            _ => None,
        };
        Record {
            entry: AuditEntry {
                id: uuid::Uuid::new_v4(),
                at,
                actor: actor.kind().to_owned(),
                operator_id,
                center_id: None,
                account_id,
                action: action.to_owned(),
                outcome: outcome.to_owned(),
                details: "{}".to_owned(),
            },
            chain: Arc::clone(&self.chain),
        }
    }

    /// Walks the whole chain from the first record; the first record that
    /// does not link to the one before it, if any.
    pub async fn verify(
        &self,
        store: &dyn crate::ports::AuditStore,
    ) -> Result<ChainReport, StoreError> {
        self.verify_against(store, None).await
    }

    /// [`Self::verify`], and the chain must still hold the head kept
    /// outside the database: the record of that number, with that link.
    pub async fn verify_against(
        &self,
        store: &dyn crate::ports::AuditStore,
        kept: Option<&ChainHead>,
    ) -> Result<ChainReport, StoreError> {
        let mut report = self.walk(store, kept).await?;
        if let Some(kept) = kept
            && report.first_problem.is_none()
        {
            let last = i64::try_from(report.records).unwrap_or(i64::MAX);
            if last < kept.seq {
                report.first_problem = Some((last + 1, ChainProblem::TailCut { kept: kept.seq }));
            }
        }
        Ok(report)
    }

    /// Notes the database's head in `keeper` when it has moved on. The kept
    /// head never moves back, nor past a head the database no longer holds
    /// (records cut from the end, or a chain replaced): that evidence stays
    /// for `verify_against` to report.
    pub async fn note_head(
        &self,
        store: &dyn crate::ports::AuditStore,
        keeper: &dyn AuditHeadKeeper,
    ) -> Result<HeadNote, HeadError> {
        let kept = keeper.read()?;
        if let Some(kept) = &kept {
            let held = store.audit_chain(kept.seq, 1).await?;
            let same = held
                .first()
                .is_some_and(|r| r.seq == kept.seq && r.hash == kept.hash);
            if !same {
                return Ok(HeadNote::Diverged { kept: kept.seq });
            }
        }
        let newest = store
            .audit_records(&AuditFilter::default(), None, 1)
            .await?;
        match newest.into_iter().next() {
            Some(r) if kept.as_ref().is_none_or(|k| r.seq > k.seq) => {
                keeper.write(&ChainHead {
                    seq: r.seq,
                    hash: r.hash,
                })?;
                Ok(HeadNote::Moved { seq: r.seq })
            }
            _ => Ok(HeadNote::Unchanged),
        }
    }

    async fn walk(
        &self,
        store: &dyn crate::ports::AuditStore,
        kept: Option<&ChainHead>,
    ) -> Result<ChainReport, StoreError> {
        const PAGE: u32 = 1000;
        let mut report = ChainReport::default();
        let mut prev = GENESIS.to_vec();
        let mut expected_seq = 1;
        loop {
            let page = store.audit_chain(expected_seq, PAGE).await?;
            let Some(last) = page.last().map(|r| r.seq) else {
                break;
            };
            for r in &page {
                let problem = if r.seq != expected_seq {
                    Some(ChainProblem::Missing {
                        expected: expected_seq,
                    })
                } else if r.prev_hash != prev {
                    Some(ChainProblem::BrokenLink)
                } else if !crate::crypto::constant_time_eq(
                    &self.chain.link(&prev, r.seq, &r.entry),
                    &r.hash,
                ) {
                    Some(ChainProblem::Altered)
                } else if kept.is_some_and(|k| k.seq == r.seq && k.hash != r.hash) {
                    Some(ChainProblem::NotTheKeptHead)
                } else {
                    None
                };
                if let Some(problem) = problem {
                    report.first_problem = Some((r.seq, problem));
                    return Ok(report);
                }
                report.records += 1;
                prev.clone_from(&r.hash);
                expected_seq += 1;
            }
            if page.len() < PAGE as usize || last < expected_seq - 1 {
                break;
            }
        }
        Ok(report)
    }
}

/// The hash the first record links to.
pub const GENESIS: [u8; 32] = [0; 32];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainReport {
    /// Records checked and found sound, from the first.
    pub records: u64,
    pub first_problem: Option<(i64, ChainProblem)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainProblem {
    /// Records are missing before this one.
    Missing { expected: i64 },
    /// It does not carry the link of the record before it.
    BrokenLink,
    /// Its contents do not match its link.
    Altered,
    /// The chain ends before record `kept`, which the head kept outside
    /// the database saw written: records were cut from the end.
    TailCut { kept: i64 },
    /// It links soundly, but is not the record the head kept outside the
    /// database saw written under its number: the tail was replaced.
    NotTheKeptHead,
}

/// The head of the chain: its last record's number and link.
#[derive(Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: Vec<u8>,
}

impl std::fmt::Debug for ChainHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChainHead({})", self.seq)
    }
}

/// The port: where the head is kept outside the database (a file of the
/// node). Reading what was never written is `None`. Several processes of
/// the node note heads at once: `write` never moves the kept head back to an
/// older `seq`.
pub trait AuditHeadKeeper: Send + Sync {
    fn read(&self) -> Result<Option<ChainHead>, HeadError>;
    fn write(&self, head: &ChainHead) -> Result<(), HeadError>;
}

#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("the audit head outside the database: {0}")]
    Keeper(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`AuditLog::note_head`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadNote {
    Moved {
        seq: i64,
    },
    Unchanged,
    /// The database no longer holds the kept head (record `kept`): left as
    /// it is, for `admin audit verify` to report.
    Diverged {
        kept: i64,
    },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing { expected } => write!(f, "records from {expected} on are missing"),
            Self::BrokenLink => f.write_str("it does not link to the record before it"),
            Self::Altered => f.write_str("its contents were changed after it was written"),
            Self::TailCut { kept } => write!(
                f,
                "the log ends before it, yet the audit head kept outside the database saw records up to {kept} written: its tail was cut"
            ),
            Self::NotTheKeptHead => f.write_str(
                "it is not the record the audit head kept outside the database saw written under this number: the tail was replaced",
            ),
        }
    }
}
