//! The storage contract: every test runs on SQLite, and on PostgreSQL when
//! `USLUGI_TEST_DATABASE_URL` names a server (CI gives one; there, a server
//! that cannot be reached is a failure).
//!
//! One file per aggregate in `contract/`, mirroring the ports; each lists its
//! tests in [`contract!`], which runs each on both engines. What they share
//! (the prelude, a migrated store, records built as the product builds
//! them) is in `contract/fixtures.rs`.

/// Runs one contract test body on each engine available.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::TestDatabase::sqlite();
                    let store = super::open(&db.url).await;
                    super::$name(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::TestDatabase::postgres().await else {
                        eprintln!("skipped: {} is not set", uslugi_storage::testing::POSTGRES_ENV);
                        return;
                    };
                    let store = super::open(&db.url).await;
                    super::$name(store).await;
                    db.drop_database().await;
                }
            )*
        }
    };
}

#[path = "contract/fixtures.rs"]
mod fixtures;

#[path = "contract/accounts.rs"]
mod accounts;

#[path = "contract/audit.rs"]
mod audit;

#[path = "contract/centers.rs"]
mod centers;

#[path = "contract/challenges.rs"]
mod challenges;

#[path = "contract/connections.rs"]
mod connections;

#[path = "contract/contacts.rs"]
mod contacts;

#[path = "contract/deletions.rs"]
mod deletions;

#[path = "contract/desk.rs"]
mod desk;

#[path = "contract/erasure.rs"]
mod erasure;

#[path = "contract/in_person.rs"]
mod in_person;

#[path = "contract/letters.rs"]
mod letters;

#[path = "contract/migrations.rs"]
mod migrations;

#[path = "contract/operators.rs"]
mod operators;

#[path = "contract/outbox.rs"]
mod outbox;

#[path = "contract/post_numbers.rs"]
mod post_numbers;

#[path = "contract/rate_limits.rs"]
mod rate_limits;

#[path = "contract/recovery.rs"]
mod recovery;

#[path = "contract/registered_address.rs"]
mod registered_address;

#[path = "contract/registration.rs"]
mod registration;

#[path = "contract/released.rs"]
mod released;

#[path = "contract/sealing.rs"]
mod sealing;

#[path = "contract/second_factor.rs"]
mod second_factor;

#[path = "contract/sessions.rs"]
mod sessions;

#[path = "contract/verification.rs"]
mod verification;

/// A PostgreSQL test that cannot reach its database fails under CI, and is
/// skipped (passes, saying so) only on a machine that is not CI. Runs one
/// PostgreSQL test of this very binary in a child process both ways.
#[test]
fn a_postgres_test_without_its_database_fails_under_ci_and_is_skipped_elsewhere() {
    let run = |ci: Option<&str>| {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", "migrations::postgres::migrations_are_idempotent"])
            .env_remove(uslugi_storage::testing::POSTGRES_ENV)
            .env_remove("CI");
        if let Some(ci) = ci {
            command.env("CI", ci);
        }
        let out = command.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (passed, output) = run(Some("true"));
    assert!(!passed, "under CI: {output}");
    assert!(output.contains("is not set under CI"), "says why: {output}");
    let (passed, output) = run(None);
    assert!(passed, "elsewhere: {output}");
    assert!(output.contains("1 passed"), "{output}");
}
