//! The `uslugi` binary's library: configuration, keys and the wiring of the
//! product. `main.rs` only calls [`cli::main`].
pub mod audit_head;
pub mod centers_file;
pub mod cli;
pub mod config;
pub mod letters_file;
pub mod metrics;
pub mod private_files;
pub mod secrets;
pub mod server;
