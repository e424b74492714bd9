//! What talks to the outside: the adapters behind the ports of
//! `uslugi-app`. E-mail goes out through [`smtp`], SMS through
//! [`sms_gateway`], each channel to its own by [`by_channel`]; in
//! development mode the [`dev_mailbox`] keeps them all instead. The
//! registries are reached through [`registry_gateway`], which speaks
//! [`registry_protocol`] — to a real gateway, or to the simulator of
//! `uslugi-sim`.
//!
//! `src/server.rs` chooses and builds them; the use cases know only the
//! ports.

pub mod by_channel;
pub mod dev_mailbox;
pub mod registry_gateway;
pub mod registry_protocol;
pub mod sms_gateway;
pub mod smtp;

pub use by_channel::ByChannel;
pub use dev_mailbox::{DevMailbox, MailboxEntry};
pub use registry_gateway::{DEFAULT_CLIENT_TIMEOUT, GatewayConfigError, HttpRegistryGateway};
pub use sms_gateway::{HttpSmsGateway, SmsContentType, SmsGatewaySettings};
pub use smtp::{SmtpMailer, SmtpSettings, SmtpTls};
