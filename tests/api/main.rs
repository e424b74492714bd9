//! API and page tests against the real application (see `helpers.rs`).
mod helpers;

mod centers;
mod errors;
mod keys;
mod login;
mod messaging;
mod pages;
mod registration;
mod verification;
