//! `uslugi admin`: accounts, keys, service centers and their operators,
//! letters, the audit log.
use anyhow::Context as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;

use super::{Common, settings};

#[derive(Subcommand)]
pub(super) enum AdminCommand {
    /// Lift the throttling and lock of an account after repeated wrong passwords.
    Unlock {
        /// The account's phone, e-mail or SNILS.
        login: String,
        #[command(flatten)]
        common: Common,
    },
    /// Seal all personal data in the database under a new encryption key
    /// (added to the secrets file and made current; the old keys stay there so
    /// nodes not yet given the new file keep working). Copy the file to every
    /// node and restart them; then run with --retire.
    RotateKeys {
        /// Do not add a key: re-seal what is still under old keys with the
        /// current one, then remove the old keys from the secrets file.
        #[arg(long)]
        retire: bool,
        /// Replace the keyed-hash key of the blind indexes (phone, e-mail,
        /// SNILS, passport) and compute every index again under the new
        /// one. Stop every node first; copy the file to every node before
        /// starting them again. A node does not start while a rotation is
        /// unfinished; running the command again finishes it.
        #[arg(long, conflicts_with = "retire")]
        keyed_hash: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Service centers: import and export (CSV or JSON, by the file's extension).
    Centers {
        #[command(subcommand)]
        command: CentersCommand,
    },
    /// Keys for hashing and encryption.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Service-center operators: add one (prints a one-time enrolment link), list, disable.
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Citizens' accounts, on a verified request or in an incident: find,
    /// show, disable (sessions end at once), enable. Each writes an audit
    /// record.
    Account {
        #[command(subcommand)]
        command: super::admin_account::AccountCommand,
    },
    /// Letters with identity codes, for the mailing center.
    Letters {
        #[command(subcommand)]
        command: LettersCommand,
    },
    /// A consistent copy of a SQLite database, taken beside a running
    /// server, into FILE, and the keys into FILE.secrets.toml (both 0600;
    /// an existing file is never replaced). A PostgreSQL database is backed
    /// up with pg_dump: the command says so and exits 2.
    Backup {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// The append-only audit log of security events.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(super) enum RoleArg {
    Operator,
    Supervisor,
}

#[derive(Subcommand)]
pub(super) enum OperatorCommand {
    /// Add an operator of a service center and print the one-time link with
    /// which they choose a login and password and enrol their authenticator
    /// app (valid 72 hours).
    Add {
        /// The service center's id (see `uslugi admin centers export`).
        #[arg(long, value_name = "ID")]
        center: String,
        /// `operator` serves citizens; `supervisor` also reads the center's audit records.
        #[arg(long, value_enum)]
        role: RoleArg,
        #[command(flatten)]
        common: Common,
    },
    /// List the operators of every center.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Disable an operator: their sessions end at once and they cannot log in.
    Disable {
        /// The operator's id (from `list`).
        id: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
pub(super) enum LettersCommand {
    /// Write the letters handed to the post on a day as a PDF ready to print
    /// (one page per letter) and a CSV registry of the batch.
    Export {
        /// The day, YYYY-MM-DD or DD.MM.YYYY, in the portal's display time.
        #[arg(long, value_name = "D")]
        date: String,
        /// Folder for letters-D.pdf and letters-D.csv.
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Move printed letters along by the post's status file
    /// (`[post] mode = "print"`): a CSV with the columns
    /// tracking_number,status,time. A file with a wrong line is refused
    /// whole (exit 2), each wrong line named.
    ImportTracking {
        /// The post's CSV file.
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
pub(super) enum AuditCommand {
    /// Check that every record links to the one before it (exit 1 if not).
    /// With --file, check an export instead, with the secrets file alone.
    Verify {
        /// An export (`admin audit export`) to check without the database.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Write the records of a period as JSON lines (file 0600, never
    /// overwritten), each with its link and the one before it, for an
    /// auditor: `verify --file` checks it with the secrets file alone.
    Export {
        /// The first day, YYYY-MM-DD or DD.MM.YYYY, in the portal's display time.
        #[arg(long, value_name = "DATE")]
        since: String,
        /// The last day, included.
        #[arg(long, value_name = "DATE")]
        until: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
pub(super) enum CentersCommand {
    /// Add or replace the centers of FILE (.csv or .json), all or none: every
    /// center is checked before any is written.
    Import {
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Write every center to FILE (.csv or .json).
    Export {
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
pub(super) enum SecretsCommand {
    /// Write a new secrets file (for the first node of a PostgreSQL deployment).
    Generate {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

pub(super) async fn run(
    config: Option<&PathBuf>,
    command: AdminCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::Unlock { login, common } => {
            let settings = settings(config, None, &common)?;
            let app =
                crate::server::build(&settings, Arc::new(uslugi_app::SystemClock), false).await?;
            let unlocked = app.state.accounts.unlock(&login).await?;
            app.note_audit_head().await;
            if unlocked {
                println!("unlocked");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("no account with that phone, e-mail or SNILS");
                Ok(ExitCode::from(2))
            }
        }
        AdminCommand::Centers { command } => {
            let (file, common, import) = match command {
                CentersCommand::Import { file, common } => (file, common, true),
                CentersCommand::Export { file, common } => (file, common, false),
            };
            let settings = settings(config, None, &common)?;
            let store = crate::server::open_store(&settings).await?;
            let centers =
                uslugi_app::centers::Centers::new(store, Arc::new(uslugi_app::SystemClock));
            if import {
                let list = crate::centers_file::read(&file)?;
                let n = centers.import(&list).await?;
                println!("imported {n} centers from {}", file.display());
            } else {
                let list = centers.all().await?;
                crate::centers_file::write(&file, &list)?;
                println!("exported {} centers to {}", list.len(), file.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::RotateKeys {
            keyed_hash: true,
            common,
            ..
        } => {
            let settings = settings(config, None, &common)?;
            let (path, _) = settings.secrets_path();
            let (old, new) = crate::secrets::begin_index_rotation(&path)?;
            let store = crate::server::open_store(&settings).await?;
            let (old, new) = (
                uslugi_app::crypto::Crypto::new(old),
                uslugi_app::crypto::Crypto::new(new),
            );
            // The indexes are computed from sealed values: those of an older
            // version are bound to their rows first, as a start would.
            crate::server::upgrade_sealed_values(store.as_ref(), &old).await?;
            let (moved, failed) = crate::server::reindex_all(store.as_ref(), &old, &new).await?;
            crate::secrets::finish_index_rotation(&path)?;
            println!(
                "the blind indexes are under a new key in {}: {moved} moved",
                path.display()
            );
            println!("copy {} to every node, then start them", path.display());
            if failed > 0 {
                eprintln!(
                    "{failed} indexes matched neither key or their values could not be read; \
                     they were left as they are (the log names their tables)"
                );
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::RotateKeys { retire, common, .. } => {
            let settings = settings(config, None, &common)?;
            let (path, default_location) = settings.secrets_path();
            crate::secrets::load(&path, default_location)?;
            if !retire {
                let id = crate::secrets::add_key(&path)?;
                println!("new encryption key {id} is current in {}", path.display());
            }
            let secrets = crate::secrets::load(&path, false)?;
            let store = crate::server::open_store(&settings).await?;
            let crypto = uslugi_app::crypto::Crypto::new(secrets);
            let (resealed, failed) = crate::server::reseal_all(store.as_ref(), &crypto).await?;
            println!("re-sealed {resealed} values under the current key");
            if failed > 0 {
                eprintln!(
                    "{failed} values could not be opened with any key in the file; they were left as they are"
                );
                return Ok(ExitCode::FAILURE);
            }
            if retire {
                let retired = crate::secrets::retire_old_keys(&path)?;
                println!("retired keys {retired:?}; every value is under the current key");
            } else {
                println!(
                    "copy {} to every node and restart them; then run `uslugi admin rotate-keys --retire`",
                    path.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Secrets {
            command: SecretsCommand::Generate { out },
        } => {
            crate::secrets::write_new(&out)?;
            println!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Operator { command } => admin_operator(config, command).await,
        AdminCommand::Backup { out, common } => {
            let settings = settings(config, None, &common)?;
            super::backup::run(&settings, &out).await
        }
        AdminCommand::Letters {
            command: LettersCommand::Export { date, out, common },
        } => {
            let day = crate::letters_file::parse_date(&date)?;
            let settings = settings(config, None, &common)?;
            let app =
                crate::server::build(&settings, Arc::new(uslugi_app::SystemClock), false).await?;
            let (pdf, csv, n) = crate::letters_file::export(
                &app.state.letters,
                day,
                &out,
                &settings.letter_sender,
                &settings.base_url()?,
            )
            .await?;
            app.note_audit_head().await;
            println!(
                "{n} letters of {day}: {} and {}",
                pdf.display(),
                csv.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Account { command } => super::admin_account::run(config, command).await,
        AdminCommand::Letters {
            command: LettersCommand::ImportTracking { file, common },
        } => {
            let settings = settings(config, None, &common)?;
            if settings.post.range()?.is_none() {
                eprintln!(
                    "the post is simulated here: import-tracking is for [post] mode = \"print\""
                );
                return Ok(ExitCode::from(2));
            }
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let updates = match crate::letters_file::read_tracking(&text) {
                Ok(u) => u,
                Err(problems) => {
                    eprintln!("{}: nothing imported", file.display());
                    for p in problems {
                        eprintln!("  {p}");
                    }
                    return Ok(ExitCode::from(2));
                }
            };
            let app =
                crate::server::build(&settings, Arc::new(uslugi_app::SystemClock), false).await?;
            let post = app
                .printed_post
                .as_ref()
                .context("print mode without its post")?;
            let report = post.import(&updates).await?;
            println!(
                "{} lines: {} applied, {} older than what their letters have",
                updates.len(),
                report.applied,
                report.stale
            );
            if !report.unknown.is_empty() {
                let lines: Vec<String> = report.unknown.iter().map(ToString::to_string).collect();
                println!(
                    "{} numbers no letter of this portal took (lines {}): skipped",
                    report.unknown.len(),
                    lines.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Audit {
            command:
                AuditCommand::Verify {
                    file: Some(file),
                    common,
                },
        } => {
            let settings = settings(config, None, &common)?;
            let (path, default_location) = settings.secrets_path();
            let secrets = crate::secrets::load(&path, default_location)?;
            let log = uslugi_app::audit::AuditLog::new(Arc::new(uslugi_app::crypto::Crypto::new(
                secrets,
            )));
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let check = log.verify_export(text.lines());
            match check.first_problem {
                None => {
                    println!(
                        "the export is whole: {} records, each with its own link and following the one before",
                        check.records
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some((line, problem)) => {
                    eprintln!(
                        "the export is broken at line {line}: {problem} ({} lines before it are sound)",
                        check.records
                    );
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AdminCommand::Audit {
            command:
                AuditCommand::Export {
                    since,
                    until,
                    out,
                    common,
                },
        } => {
            let days = crate::letters_file::parse_date(&since)
                .and_then(|s| Ok((s, crate::letters_file::parse_date(&until)?)));
            let (since, until) = match days {
                Ok((s, u)) if s <= u => (s, u),
                Ok(_) => {
                    eprintln!("--since must not be after --until");
                    return Ok(ExitCode::from(2));
                }
                Err(e) => {
                    eprintln!("{e:#}");
                    return Ok(ExitCode::from(2));
                }
            };
            let settings = settings(config, None, &common)?;
            let offset = settings.display_offset()?;
            let start = since.midnight().assume_offset(offset);
            let end = until
                .next_day()
                .context("--until is the last day there is")?
                .midnight()
                .assume_offset(offset);
            let file = match crate::private_files::create_new_private(&out) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("{e:#}");
                    return Ok(ExitCode::from(2));
                }
            };
            let (path, default_location) = settings.secrets_path();
            let secrets = crate::secrets::load(&path, default_location)?;
            let store = crate::server::open_store(&settings).await?;
            let log = uslugi_app::audit::AuditLog::new(Arc::new(uslugi_app::crypto::Crypto::new(
                secrets,
            )));
            let mut writer = std::io::BufWriter::new(file);
            let written = log
                .export(store.as_ref(), start, end, |r| {
                    use std::io::Write as _;
                    serde_json::to_writer(&mut writer, r)?;
                    writer.write_all(b"\n")
                })
                .await;
            let flushed = writer
                .into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all());
            match (written, flushed) {
                (Ok(n), Ok(())) => {
                    println!("{n} records of {since} to {until}: {}", out.display());
                    Ok(ExitCode::SUCCESS)
                }
                (Err(e), _) => {
                    let _ = std::fs::remove_file(&out);
                    Err(e.into())
                }
                (_, Err(e)) => {
                    let _ = std::fs::remove_file(&out);
                    Err(anyhow::Error::from(e).context("cannot write the export"))
                }
            }
        }
        AdminCommand::Audit {
            command: AuditCommand::Verify { file: None, common },
        } => {
            let settings = settings(config, None, &common)?;
            let (path, default_location) = settings.secrets_path();
            let secrets = crate::secrets::load(&path, default_location)?;
            let store = crate::server::open_store(&settings).await?;
            let log = uslugi_app::audit::AuditLog::new(Arc::new(uslugi_app::crypto::Crypto::new(
                secrets,
            )));
            let head = crate::audit_head::FileHead::new(settings.audit_head_path());
            let kept = uslugi_app::audit::AuditHeadKeeper::read(&head)?;
            let report = log.verify_against(store.as_ref(), kept.as_ref()).await?;
            match report.first_problem {
                None => {
                    println!(
                        "the audit log is whole: {} records, each linked to the one before",
                        report.records
                    );
                    match kept {
                        Some(k) => println!(
                            "it holds record {} as the head file {} saw it written",
                            k.seq,
                            head.path().display()
                        ),
                        None => eprintln!(
                            "warning: no audit head file at {}: records cut from the end cannot be told from here \
                             (give this command the node's data directory or USLUGI_AUDIT_HEAD_FILE)",
                            head.path().display()
                        ),
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Some((seq, problem)) => {
                    eprintln!(
                        "the audit log is broken at record {seq}: {problem} ({} records before it are sound)",
                        report.records
                    );
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

async fn admin_operator(
    config: Option<&PathBuf>,
    command: OperatorCommand,
) -> anyhow::Result<ExitCode> {
    let common = match &command {
        OperatorCommand::Add { common, .. }
        | OperatorCommand::List { common }
        | OperatorCommand::Disable { common, .. } => common.clone(),
    };
    let settings = settings(config, None, &common)?;
    let app = crate::server::build(&settings, Arc::new(uslugi_app::SystemClock), false).await?;
    let operators = &app.state.operators;
    let outcome = match command {
        OperatorCommand::Add { center, role, .. } => {
            let role = match role {
                RoleArg::Operator => uslugi_domain::OperatorRole::Operator,
                RoleArg::Supervisor => uslugi_domain::OperatorRole::Supervisor,
            };
            match operators.add(&center, role).await {
                Ok(op) => {
                    println!("operator {} of {center} ({role}) added", op.id);
                    println!(
                        "one-time enrolment link (give it to the operator only; valid until {}):",
                        op.expires_at
                            .format(&time::format_description::well_known::Rfc3339)?
                    );
                    println!("{}", op.enrolment_link);
                    Ok(ExitCode::SUCCESS)
                }
                Err(uslugi_app::operators::AddOperatorError::UnknownCenter) => {
                    eprintln!(
                        "no service center with id {center:?}; `uslugi admin centers export centers.csv` lists them"
                    );
                    Ok(ExitCode::from(2))
                }
                Err(uslugi_app::operators::AddOperatorError::Internal(e)) => Err(e.into()),
            }
        }
        OperatorCommand::List { .. } => {
            let list = operators.list().await?;
            if list.is_empty() {
                println!(
                    "no operators yet: `uslugi admin operator add --center ID --role operator`"
                );
            }
            for o in list {
                let state = if o.disabled {
                    "disabled"
                } else if o.enrolled {
                    "active"
                } else {
                    "waiting for enrolment"
                };
                println!(
                    "{}  {}  {}  {}  {}  {state}",
                    o.id,
                    o.center_id,
                    o.role,
                    o.login.as_deref().unwrap_or("-"),
                    o.name.as_deref().unwrap_or("-"),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        OperatorCommand::Disable { id, .. } => {
            let Ok(id) = id.parse() else {
                eprintln!("{id:?} is not an operator id");
                return Ok(ExitCode::from(2));
            };
            if operators.disable(id).await? {
                println!("disabled; the operator's sessions have ended");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("no such active operator");
                Ok(ExitCode::from(2))
            }
        }
    };
    // The records just written are noted outside the database at once.
    app.note_audit_head().await;
    outcome
}
