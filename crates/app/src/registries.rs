//! The state registries the standard account is checked against: the Social
//! Fund (SNILS with name, sex and birth date) and the Interior Ministry (the
//! identity document). They answer asynchronously, as interagency exchange
//! does: a request is submitted, and its answer is fetched later by polling.
use async_trait::async_trait;
use time::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registry {
    /// Социальный фонд России (formerly ПФР).
    Sfr,
    /// МВД России (formerly ФМС).
    Mvd,
}

/// Sex as both registries record it (`"male"` / `"female"`).
pub use uslugi_domain::Sex;

/// The person's name and birth date as both registries compare them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PersonFacts {
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "registry", rename_all = "lowercase")]
pub enum RegistryRequest {
    /// Does this SNILS belong to this person?
    Sfr {
        /// Eleven digits, no separators.
        snils: String,
        person: PersonFacts,
        sex: Sex,
    },
    /// Is this passport of a citizen of the Russian Federation valid, and
    /// this person's?
    Mvd {
        /// `NNNN NNNNNN`.
        series_number: String,
        issue_date: Date,
        /// `NNN-NNN`.
        department_code: String,
        person: PersonFacts,
    },
}

impl RegistryRequest {
    pub fn registry(&self) -> Registry {
        match self {
            Self::Sfr { .. } => Registry::Sfr,
            Self::Mvd { .. } => Registry::Mvd,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PassportInvalidity {
    Lost,
    Expired,
    Replaced,
}

/// A registry's final answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum RegistryAnswer {
    /// Social Fund: the SNILS exists and the person's data equal its record.
    SfrMatch,
    /// Social Fund: the SNILS exists but the data differ.
    SfrMismatch,
    /// Social Fund: no such SNILS.
    SfrNotFound,
    /// Interior Ministry: the passport exists, is this person's, and is valid;
    /// with the person's address of registration (место жительства) when the
    /// ministry's record has one. A letter with a code goes only there.
    MvdValid {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        registration_address: Option<uslugi_domain::Address>,
    },
    /// Interior Ministry: no such passport with these details.
    MvdNotFound,
    /// Interior Ministry: the passport is this person's but no longer valid.
    MvdInvalid { reason: PassportInvalidity },
}

/// The registry's own handle of a submitted request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct RegistryRequestId(pub String);

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// No answer in time; the request may or may not have arrived.
    #[error("the registry gateway timed out")]
    Timeout,
    /// The gateway or registry failed (5xx, connection refused…); try later.
    #[error("the registry gateway is unavailable: {0}")]
    Unavailable(String),
    /// The gateway refused the request as malformed; retrying will not help.
    #[error("the registry gateway rejected the request: {0}")]
    Rejected(String),
    /// The gateway does not know this request id (expired or never sent).
    #[error("the registry gateway does not know this request")]
    UnknownRequest,
}

impl GatewayError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Timeout | Self::Unavailable(_))
    }
}

/// Where a real interagency-exchange adapter plugs in.
#[async_trait]
pub trait RegistryGateway: Send + Sync {
    /// Submits a request. `idempotency_key` is the caller's id for this
    /// request: submitting again with the same key returns the same request
    /// id and never creates a second request, so a crash between sending and
    /// recording the id loses nothing.
    async fn submit(
        &self,
        idempotency_key: &str,
        request: &RegistryRequest,
    ) -> Result<RegistryRequestId, GatewayError>;
    /// The answer, once the registry has given it; `None` while it works.
    async fn poll(&self, id: &RegistryRequestId) -> Result<Option<RegistryAnswer>, GatewayError>;
}
