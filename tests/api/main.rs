//! API and page tests against the real application (see `helpers.rs`).
mod helpers;

mod centers;
mod contacts;
mod deletion;
mod desk;
mod errors;
mod guessing;
mod keys;
mod letters;
mod login;
mod messaging;
mod operators;
mod pages;
mod recovery;
mod registration;
mod request_ids;
mod second_factor;
mod security;
mod subject;
mod takeover;
mod verification;
