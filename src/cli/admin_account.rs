//! `uslugi admin account …`: a citizen's account, for an administrator
//! acting on a verified request or in an incident.
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;

use uslugi_app::accounts::Disabling;

use super::{Common, settings};

#[derive(Subcommand)]
pub(super) enum AccountCommand {
    /// The account with a phone, an e-mail or a SNILS: prints its id
    /// (exit 2 when none has it).
    Find {
        #[arg(long, value_name = "PHONE", group = "login", required = true)]
        phone: Option<String>,
        #[arg(long, value_name = "EMAIL", group = "login")]
        email: Option<String>,
        #[arg(long, value_name = "SNILS", group = "login")]
        snils: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// What the portal holds of the account, in short.
    Show {
        /// The account's id (from `find`).
        id: String,
        #[command(flatten)]
        common: Common,
    },
    /// Disable the account: its sessions end at once and no new one opens
    /// until it is enabled; a login with the right password is told so.
    Disable {
        id: String,
        /// Why: the request's reference (it goes into the audit log; no
        /// personal data).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[command(flatten)]
        common: Common,
    },
    /// Enable a disabled account.
    Enable {
        id: String,
        #[command(flatten)]
        common: Common,
    },
    /// Erase the account at once, without a prompt (the request was
    /// verified): its data, contacts, sessions and everything else it
    /// holds; the audit log keeps what was done, by id.
    Delete {
        id: String,
        #[command(flatten)]
        common: Common,
    },
    /// Everything the portal holds about the person, as the JSON document
    /// of «Скачать мои данные» (file 0600, never replaced).
    Export {
        id: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

/// An `admin account` command with its arguments read.
enum AccountAct {
    Find(uslugi_app::accounts::AccountLookup),
    Show(uslugi_domain::AccountId),
    Disable(uslugi_domain::AccountId, String),
    Enable(uslugi_domain::AccountId),
    Export(uslugi_domain::AccountId, PathBuf),
    Delete(uslugi_domain::AccountId),
}

/// The command's arguments, read before anything is opened: what is wrong
/// with them, to say.
fn account_act(command: AccountCommand) -> Result<(AccountAct, Common), String> {
    use uslugi_app::accounts::AccountLookup;
    let id = |id: &str| {
        id.trim()
            .parse::<uslugi_domain::AccountId>()
            .map_err(|_| format!("not an account id: {id:?} (uslugi admin account find prints it)"))
    };
    Ok(match command {
        AccountCommand::Find {
            phone,
            email,
            snils,
            common,
        } => {
            let lookup = match (phone, email, snils) {
                (Some(p), _, _) => uslugi_domain::PhoneNumber::parse(&p)
                    .map(AccountLookup::Phone)
                    .map_err(|e| format!("--phone: {e}"))?,
                (_, Some(e), _) => uslugi_domain::Email::parse(&e)
                    .map(AccountLookup::Email)
                    .map_err(|e| format!("--email: {e}"))?,
                (_, _, Some(s)) => uslugi_domain::Snils::parse(&s)
                    .map(AccountLookup::Snils)
                    .map_err(|e| format!("--snils: {e}"))?,
                _ => return Err("give --phone, --email or --snils".into()),
            };
            (AccountAct::Find(lookup), common)
        }
        AccountCommand::Show { id: i, common } => (AccountAct::Show(id(&i)?), common),
        AccountCommand::Disable {
            id: i,
            reason,
            common,
        } => {
            if reason.trim().is_empty() {
                return Err("--reason must say why (the request's reference)".into());
            }
            (
                AccountAct::Disable(id(&i)?, reason.trim().to_owned()),
                common,
            )
        }
        AccountCommand::Enable { id: i, common } => (AccountAct::Enable(id(&i)?), common),
        AccountCommand::Export { id: i, out, common } => (AccountAct::Export(id(&i)?, out), common),
        AccountCommand::Delete { id: i, common } => (AccountAct::Delete(id(&i)?), common),
    })
}

pub(super) async fn run(
    config: Option<&PathBuf>,
    command: AccountCommand,
) -> anyhow::Result<ExitCode> {
    let (act, common) = match account_act(command) {
        Ok(read) => read,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
    };
    let settings = settings(config, None, &common)?;
    let app = crate::server::build(&settings, Arc::new(uslugi_app::SystemClock), false).await?;
    let accounts = &app.state.accounts;
    let missing = |id| {
        eprintln!("no account {id}");
        ExitCode::from(2)
    };
    let code = match act {
        AccountAct::Find(lookup) => match accounts.find_account(&lookup).await? {
            Some(id) => {
                println!("{id}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("no account has it");
                ExitCode::from(2)
            }
        },
        AccountAct::Show(id) => match accounts.account_summary(id).await? {
            Some(a) => {
                print_summary(&a);
                ExitCode::SUCCESS
            }
            None => missing(id),
        },
        AccountAct::Disable(id, reason) => match accounts.disable_account(id, &reason).await? {
            Disabling::Disabled { sessions_ended } => {
                println!("disabled; {sessions_ended} sessions ended");
                ExitCode::SUCCESS
            }
            Disabling::Already => {
                println!("disabled already");
                ExitCode::SUCCESS
            }
            Disabling::NoSuchAccount => missing(id),
        },
        AccountAct::Export(id, out) => {
            let data = uslugi_app::subject::account_data(
                accounts,
                &app.state.verification,
                &app.state.letters,
                id,
                uslugi_app::audit::Actor::Admin,
            )
            .await?;
            match data {
                None => missing(id),
                Some(data) => {
                    let file = match crate::private_files::create_new_private(&out) {
                        Ok(f) => f,
                        Err(e) => {
                            eprintln!("{e:#}");
                            return Ok(ExitCode::from(2));
                        }
                    };
                    let mut writer = std::io::BufWriter::new(file);
                    serde_json::to_writer_pretty(&mut writer, &data)?;
                    writer
                        .into_inner()
                        .map_err(|e| e.into_error())
                        .and_then(|f| f.sync_all())
                        .context("cannot write the export")?;
                    println!("{}", out.display());
                    ExitCode::SUCCESS
                }
            }
        }
        AccountAct::Delete(id) => {
            if accounts.delete_account(id).await? {
                println!("erased");
                ExitCode::SUCCESS
            } else {
                missing(id)
            }
        }
        AccountAct::Enable(id) => {
            if accounts.enable_account(id).await? {
                println!("enabled");
                ExitCode::SUCCESS
            } else {
                eprintln!("account {id} is not disabled (or does not exist)");
                ExitCode::from(2)
            }
        }
    };
    app.note_audit_head().await;
    Ok(code)
}

fn print_summary(a: &uslugi_app::accounts::AccountSummary) {
    use uslugi_domain::Token as _;
    let time = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let p = &a.profile;
    println!("id: {}", p.account_id);
    println!("level: {}", a.level().as_str());
    println!("name: {} {}", p.surname, p.given_name);
    println!("phone: {}", p.phone.as_ref().map_or("-", |x| x.e164()));
    println!("email: {}", p.email.as_ref().map_or("-", |x| x.as_str()));
    println!("created: {}", time(a.created_at));
    if let (Some(at), Some(via)) = (p.confirmed_at, p.confirmed_via) {
        println!("confirmed: {} ({})", time(at), via.as_str());
    }
    println!(
        "second factor: {}",
        a.second_factor.map_or("off", |m| m.as_str())
    );
    println!("sessions: {}", a.sessions);
    println!(
        "failed logins in a row: {}{}",
        a.failed_logins,
        if a.locked { " (locked)" } else { "" }
    );
    println!(
        "disabled: {}",
        a.disabled_at.map_or_else(|| "no".to_owned(), time)
    );
    println!(
        "deletion asked: {}",
        a.erase_after.map_or_else(
            || "no".to_owned(),
            |at| format!("erased after {}", time(at))
        )
    );
}
