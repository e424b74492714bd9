//! A registration at a service center sends its temporary password only to
//! a phone confirmed at the desk. The operator types the citizen's phone; a
//! code goes to it by SMS; the citizen reads it out and the operator types
//! it. Only then does the registration form open, and the account it
//! creates has that phone — never one typed afterwards.
//!
//! **Why the phone first.** The account (and with it the phone that will
//! receive the password) must not exist before the phone is confirmed, and
//! the registries are asked only for an account that exists. Confirming
//! the phone first keeps the personal data out of any half-done record and
//! is what a center does anyway: the phone in the citizen's hand, then the
//! passport.
use time::OffsetDateTime;
use uslugi_domain::{AccountId, CenterService, Channel, LoginKind, PersonalDataForm, PhoneNumber};

use crate::accounts::{InternalError, contact_quota};
use crate::audit::action;
use crate::challenge::{self, Miss};
use crate::crypto::{self, HashPurpose, SealedField};
use crate::lang::Lang;
use crate::operators::{OperatorAuth, Operators, RegisterError};
use crate::ports::{DeskPhoneRecord, StoreError};

/// A phone being confirmed at the desk, as the console shows it.
#[derive(Debug, Clone)]
pub struct DeskPhoneView {
    pub id: uuid::Uuid,
    pub phone: PhoneNumber,
    pub confirmed: bool,
    /// When «Отправить код ещё раз» works.
    pub resend_at: OffsetDateTime,
    pub code_expires_at: OffsetDateTime,
    /// No try left at the current code.
    pub exhausted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DeskPhoneError {
    #[error("this center does not offer registration")]
    NotOffered,
    #[error("the phone is not a valid mobile number")]
    Phone(uslugi_domain::PhoneError),
    #[error("the phone has an account")]
    PhoneTaken,
    /// The operator's lookups, or the messages the phone may receive.
    #[error("too many; try again later")]
    RateLimited { retry_at: OffsetDateTime },
    /// Not this operator's, used, or expired: as if it never was.
    #[error("no such phone confirmation")]
    NotFound,
    #[error("the code is not six digits")]
    Malformed,
    #[error("wrong code")]
    WrongCode { attempts_left: u32 },
    #[error("no tries left at this code")]
    Exhausted,
    #[error("the code has expired")]
    CodeExpired,
    #[error("another code may be sent later")]
    TooSoon { retry_at: OffsetDateTime },
    #[error(transparent)]
    Internal(#[from] InternalError),
}

crate::accounts::into_internal!(DeskPhoneError: StoreError);

impl Operators {
    fn desk_code_hash(&self, code: &str) -> Vec<u8> {
        self.crypto
            .keyed_hash(HashPurpose::DeskPhoneCode, code.as_bytes())
    }

    fn desk_code_sms(
        &self,
        phone: &PhoneNumber,
        code: &str,
        lang: Lang,
        now: OffsetDateTime,
    ) -> crate::ports::OutboxRecord {
        crate::verification::outbox_message(
            &self.crypto,
            format!("desk-phone:{}", uuid::Uuid::new_v4()),
            None,
            Channel::Sms,
            phone.e164(),
            "",
            &crate::messages::desk_phone_code_sms(lang, code),
            now,
        )
    }

    async fn record_desk(
        &self,
        op: &OperatorAuth,
        outcome: &str,
        details: serde_json::Value,
    ) -> Result<(), StoreError> {
        let write = self
            .audit
            .record(op.actor(), action::DESK_PHONE, outcome, self.clock.now())
            .center(&op.center_id)
            .details(details)
            .write();
        self.store.append_audit(&write).await.map(drop)
    }

    /// Sends a code to the phone typed at the desk. A phone that has an
    /// account is refused without an SMS; asking is a lookup, so it counts
    /// against the operator's searches, and the SMS against the phone's
    /// limit that every flow shares.
    pub async fn start_desk_phone(
        &self,
        op: &OperatorAuth,
        phone: &str,
        lang: Lang,
    ) -> Result<uuid::Uuid, DeskPhoneError> {
        if !op.offers(CenterService::Registration) {
            return Err(DeskPhoneError::NotOffered);
        }
        let phone = PhoneNumber::parse(phone).map_err(DeskPhoneError::Phone)?;
        let now = self.clock.now();
        if let Some(retry_at) = self.spend_lookup(op, now).await? {
            return Err(DeskPhoneError::RateLimited { retry_at });
        }
        let index = self
            .crypto
            .keyed_hash(HashPurpose::PhoneIndex, phone.e164().as_bytes());
        if self
            .store
            .account_by_login(LoginKind::Phone, &index)
            .await?
            .is_some()
        {
            return Err(DeskPhoneError::PhoneTaken);
        }
        if let Some(retry_at) = contact_quota(
            &*self.store,
            &index,
            now,
            self.policy.sends_per_phone_per_hour,
        )
        .await?
        {
            return Err(DeskPhoneError::RateLimited { retry_at });
        }
        let code = crypto::random_six_digit_code();
        let id = uuid::Uuid::new_v4();
        let record = DeskPhoneRecord {
            id,
            operator_id: op.id,
            phone: self.crypto.seal(SealedField::DeskPhone, id, phone.e164()),
            phone_index: index,
            code_hash: self.desk_code_hash(&code),
            code_expires_at: now + self.policy.desk_code_ttl,
            attempts: 0,
            sent_at: now,
            confirmed_at: None,
            used_at: None,
            expires_at: now + self.policy.desk_phone_valid_for,
        };
        let sms = self.desk_code_sms(&phone, &code, lang, now);
        self.store.start_desk_phone(&record, &sms).await?;
        self.record_desk(
            op,
            "code_sent",
            serde_json::json!({ "desk_phone": record.id }),
        )
        .await?;
        Ok(record.id)
    }

    /// This operator's live, unused phone confirmation, opened.
    async fn own_desk_phone(
        &self,
        op: &OperatorAuth,
        id: uuid::Uuid,
    ) -> Result<Option<(DeskPhoneRecord, PhoneNumber)>, InternalError> {
        let Some(r) = self.store.desk_phone(id).await? else {
            return Ok(None);
        };
        if r.operator_id != op.id || r.used_at.is_some() || self.clock.now() >= r.expires_at {
            return Ok(None);
        }
        let phone =
            PhoneNumber::from_e164(&self.crypto.open(SealedField::DeskPhone, r.id, &r.phone)?)
                .ok_or(InternalError::Corrupt("desk phone"))?;
        Ok(Some((r, phone)))
    }

    pub async fn desk_phone(
        &self,
        op: &OperatorAuth,
        id: uuid::Uuid,
    ) -> Result<Option<DeskPhoneView>, InternalError> {
        Ok(self
            .own_desk_phone(op, id)
            .await?
            .map(|(r, phone)| DeskPhoneView {
                id: r.id,
                phone,
                confirmed: r.confirmed_at.is_some(),
                resend_at: r.sent_at + self.policy.desk_code_resend_after,
                code_expires_at: r.code_expires_at,
                exhausted: r.attempts >= self.policy.desk_code_attempts,
            }))
    }

    /// The code the citizen read out. The try is taken (and counted) in one
    /// conditional statement before the code is compared: twenty at once
    /// evaluate three at most.
    pub async fn confirm_desk_phone(
        &self,
        op: &OperatorAuth,
        id: uuid::Uuid,
        typed: &str,
    ) -> Result<(), DeskPhoneError> {
        let Some((r, _)) = self.own_desk_phone(op, id).await? else {
            return Err(DeskPhoneError::NotFound);
        };
        if r.confirmed_at.is_some() {
            return Ok(());
        }
        let code = challenge::read_code(typed).ok_or(DeskPhoneError::Malformed)?;
        let now = self.clock.now();
        let max = self.policy.desk_code_attempts;
        let Some((attempt, hash)) = self.store.take_desk_code_attempt(id, max, now).await? else {
            return Err(if now >= r.code_expires_at {
                DeskPhoneError::CodeExpired
            } else {
                DeskPhoneError::Exhausted
            });
        };
        let details = serde_json::json!({ "desk_phone": id, "attempt": attempt });
        if !crypto::constant_time_eq(&hash, &self.desk_code_hash(&code)) {
            self.record_desk(op, "wrong_code", details).await?;
            return Err(match challenge::miss(attempt, max) {
                Miss::Wrong { attempts_left } => DeskPhoneError::WrongCode { attempts_left },
                Miss::Exhausted => DeskPhoneError::Exhausted,
            });
        }
        self.store.confirm_desk_phone(id, now).await?;
        self.record_desk(op, "confirmed", details).await?;
        Ok(())
    }

    /// «Отправить код ещё раз»: a new code, a minute after the last, within
    /// the phone's shared limit; the tries start again.
    pub async fn resend_desk_code(
        &self,
        op: &OperatorAuth,
        id: uuid::Uuid,
        lang: Lang,
    ) -> Result<(), DeskPhoneError> {
        let Some((r, phone)) = self.own_desk_phone(op, id).await? else {
            return Err(DeskPhoneError::NotFound);
        };
        if r.confirmed_at.is_some() {
            return Ok(());
        }
        let now = self.clock.now();
        let resend_at = r.sent_at + self.policy.desk_code_resend_after;
        if now < resend_at {
            return Err(DeskPhoneError::TooSoon {
                retry_at: resend_at,
            });
        }
        if let Some(retry_at) = contact_quota(
            &*self.store,
            &r.phone_index,
            now,
            self.policy.sends_per_phone_per_hour,
        )
        .await?
        {
            return Err(DeskPhoneError::RateLimited { retry_at });
        }
        let code = crypto::random_six_digit_code();
        let sms = self.desk_code_sms(&phone, &code, lang, now);
        let replaced = self
            .store
            .replace_desk_code(
                id,
                r.sent_at,
                &self.desk_code_hash(&code),
                now + self.policy.desk_code_ttl,
                &sms,
            )
            .await?;
        if !replaced {
            // Another click sent one a moment ago.
            return Err(DeskPhoneError::TooSoon {
                retry_at: now + self.policy.desk_code_resend_after,
            });
        }
        self.record_desk(op, "code_resent", serde_json::json!({ "desk_phone": id }))
            .await?;
        Ok(())
    }

    /// Registers the citizen at the desk with the phone they confirmed
    /// there: their personal data go to the registries, and when both agree
    /// the account is confirmed and the temporary password goes to that
    /// phone.
    pub async fn register(
        &self,
        op: &OperatorAuth,
        desk_phone: uuid::Uuid,
        form: &PersonalDataForm,
        lang: Lang,
    ) -> Result<AccountId, RegisterError> {
        if !op.offers(CenterService::Registration) {
            return Err(RegisterError::NotOffered);
        }
        let Some((r, phone)) = self.own_desk_phone(op, desk_phone).await? else {
            return Err(RegisterError::PhoneNotConfirmed);
        };
        if r.confirmed_at.is_none() {
            return Err(RegisterError::PhoneNotConfirmed);
        }
        let data = form
            .parse(self.verification.today())
            .map_err(RegisterError::Invalid)?;
        let account = self
            .verification
            .register_in_person(&op.assisted(), data, &phone, lang)
            .await?;
        // After the account, not before: a refused registration (a SNILS
        // that has an account) may be corrected and sent again with the same
        // phone. Two at once cannot both succeed: the phone is unique among
        // accounts.
        self.store
            .use_desk_phone(desk_phone, self.clock.now())
            .await
            .map_err(InternalError::from)?;
        Ok(account)
    }
}
