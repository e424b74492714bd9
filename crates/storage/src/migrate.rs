//! Forward-only migrations, one folder per engine, embedded in the binary.
//! A test checks that both folders describe the same tables and columns.

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// The statements of the migration, one by one, without comments. Our
    /// migrations hold no semicolons inside literals; the ones inside a
    /// trigger's `BEGIN … END` (SQLite) or a `$$ … $$` body (PostgreSQL)
    /// belong to their statement.
    pub fn statements(&self) -> Vec<String> {
        let code: String = self
            .sql
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .map(|l| format!("{l}\n"))
            .collect();
        let mut out = Vec::new();
        let mut current = String::new();
        for piece in code.split_inclusive(';') {
            current.push_str(piece);
            let text = current.trim().trim_end_matches(';').trim_end();
            let in_dollar_body = current.matches("$$").count() % 2 == 1;
            let in_trigger_body = text.starts_with("CREATE TRIGGER")
                && text.contains("\nBEGIN")
                && !text.ends_with("END");
            if in_dollar_body || in_trigger_body {
                continue;
            }
            if !text.is_empty() {
                out.push(text.to_owned());
            }
            current.clear();
        }
        let rest = current.trim();
        if !rest.is_empty() {
            out.push(rest.to_owned());
        }
        out
    }
}

pub const MIGRATIONS_SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "accounts",
        sql: include_str!("../migrations/sqlite/0001_accounts.sql"),
    },
    Migration {
        version: 2,
        name: "personal_data",
        sql: include_str!("../migrations/sqlite/0002_personal_data.sql"),
    },
    Migration {
        version: 3,
        name: "service_centers",
        sql: include_str!("../migrations/sqlite/0003_service_centers.sql"),
    },
    Migration {
        version: 4,
        name: "confirmed_account",
        sql: include_str!("../migrations/sqlite/0004_confirmed_account.sql"),
    },
    Migration {
        version: 5,
        name: "recovery",
        sql: include_str!("../migrations/sqlite/0005_recovery.sql"),
    },
    Migration {
        version: 6,
        name: "devices",
        sql: include_str!("../migrations/sqlite/0006_devices.sql"),
    },
    Migration {
        version: 7,
        name: "second_factor",
        sql: include_str!("../migrations/sqlite/0007_second_factor.sql"),
    },
    Migration {
        version: 8,
        name: "contact_changes",
        sql: include_str!("../migrations/sqlite/0008_contact_changes.sql"),
    },
    Migration {
        version: 9,
        name: "continuations",
        sql: include_str!("../migrations/sqlite/0009_continuations.sql"),
    },
    Migration {
        version: 10,
        name: "registered_address",
        sql: include_str!("../migrations/sqlite/0010_registered_address.sql"),
    },
    Migration {
        version: 11,
        name: "outbox_wipe",
        sql: include_str!("../migrations/sqlite/0011_outbox_wipe.sql"),
    },
    Migration {
        version: 12,
        name: "desk_phone",
        sql: include_str!("../migrations/sqlite/0012_desk_phone.sql"),
    },
    Migration {
        version: 13,
        name: "sealing_format",
        sql: include_str!("../migrations/sqlite/0013_sealing_format.sql"),
    },
];

pub const MIGRATIONS_POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "accounts",
        sql: include_str!("../migrations/postgres/0001_accounts.sql"),
    },
    Migration {
        version: 2,
        name: "personal_data",
        sql: include_str!("../migrations/postgres/0002_personal_data.sql"),
    },
    Migration {
        version: 3,
        name: "service_centers",
        sql: include_str!("../migrations/postgres/0003_service_centers.sql"),
    },
    Migration {
        version: 4,
        name: "confirmed_account",
        sql: include_str!("../migrations/postgres/0004_confirmed_account.sql"),
    },
    Migration {
        version: 5,
        name: "recovery",
        sql: include_str!("../migrations/postgres/0005_recovery.sql"),
    },
    Migration {
        version: 6,
        name: "devices",
        sql: include_str!("../migrations/postgres/0006_devices.sql"),
    },
    Migration {
        version: 7,
        name: "second_factor",
        sql: include_str!("../migrations/postgres/0007_second_factor.sql"),
    },
    Migration {
        version: 8,
        name: "contact_changes",
        sql: include_str!("../migrations/postgres/0008_contact_changes.sql"),
    },
    Migration {
        version: 9,
        name: "continuations",
        sql: include_str!("../migrations/postgres/0009_continuations.sql"),
    },
    Migration {
        version: 10,
        name: "registered_address",
        sql: include_str!("../migrations/postgres/0010_registered_address.sql"),
    },
    Migration {
        version: 11,
        name: "outbox_wipe",
        sql: include_str!("../migrations/postgres/0011_outbox_wipe.sql"),
    },
    Migration {
        version: 12,
        name: "desk_phone",
        sql: include_str!("../migrations/postgres/0012_desk_phone.sql"),
    },
    Migration {
        version: 13,
        name: "sealing_format",
        sql: include_str!("../migrations/postgres/0013_sealing_format.sql"),
    },
];

pub const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
     version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_have_the_same_migrations_in_order() {
        let a: Vec<_> = MIGRATIONS_SQLITE
            .iter()
            .map(|m| (m.version, m.name))
            .collect();
        let b: Vec<_> = MIGRATIONS_POSTGRES
            .iter()
            .map(|m| (m.version, m.name))
            .collect();
        assert_eq!(a, b);
        assert!(a.windows(2).all(|w| w[0].0 < w[1].0));
        for m in MIGRATIONS_SQLITE.iter().chain(MIGRATIONS_POSTGRES) {
            for s in m.statements() {
                // An UPDATE only retires data a new rule no longer trusts
                // (the letters of 0010). SQLite cannot drop a column's
                // UNIQUE: 0009 rebuilds two tables (a new one, the rows
                // copied, the old one dropped, the new one renamed). 0013
                // gives its one-row table its row by INSERT…SELECT.
                assert!(
                    s.starts_with("CREATE")
                        || s.starts_with("ALTER TABLE")
                        || s.starts_with("UPDATE")
                        || s.starts_with("DROP INDEX")
                        || s.starts_with("DROP TABLE")
                        || (s.starts_with("INSERT INTO") && s.contains("SELECT")),
                    "{s}"
                );
            }
        }
    }

    #[test]
    fn trigger_and_function_bodies_stay_whole() {
        let m = Migration {
            version: 0,
            name: "t",
            sql: "CREATE TABLE a (x INTEGER);\nCREATE TRIGGER t BEFORE DELETE ON a\nBEGIN\n    SELECT RAISE(ABORT, 'no');\nEND;\n\
                  CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    RAISE EXCEPTION 'no';\nEND\n$$;\nCREATE INDEX i ON a (x);\n",
        };
        let s = m.statements();
        assert_eq!(s.len(), 4, "{s:?}");
        assert!(s[1].starts_with("CREATE TRIGGER") && s[1].ends_with("END"));
        assert!(s[2].starts_with("CREATE FUNCTION") && s[2].ends_with("$$"));
        assert_eq!(s[3], "CREATE INDEX i ON a (x)");
    }

    /// Every BLOB column holds either a keyed hash (looked up, never opened)
    /// or a sealed value that `rotate-keys` must find in `SEALED_COLUMNS`;
    /// every blind index (`…_index`) is in `BLIND_INDEXES`.
    #[test]
    fn every_sealed_column_is_known_to_key_rotation() {
        const HASHES: &[&str] = &[
            "contact_index",
            "secret_hash",
            "phone_index",
            "email_index",
            "snils_index",
            "token_hash",
            "key",
            "code_hash",
            "enrol_token_hash",
            "passport_index",
            "prev_hash",
            "hash",
            "device_hash",
            "continuation_hash",
        ];
        let mut blobs = Vec::new();
        for m in MIGRATIONS_SQLITE {
            for statement in m.statements() {
                // A rebuilt table: the old one's columns go, the new one
                // takes the old one's name.
                if let Some(table) = statement.strip_prefix("DROP TABLE ") {
                    blobs.retain(|(t, _)| t != table.trim());
                    continue;
                }
                // `ALTER TABLE t ADD COLUMN c BLOB` adds one column.
                if let Some(rest) = statement.strip_prefix("ALTER TABLE ") {
                    let words: Vec<&str> = rest.split_whitespace().collect();
                    if let [table, "ADD", "COLUMN", column, "BLOB", ..] = words.as_slice() {
                        blobs.push(((*table).to_owned(), (*column).to_owned()));
                    }
                    if let [table, "RENAME", "TO", new] = words.as_slice() {
                        for (t, _) in &mut blobs {
                            if t == table {
                                (*new).clone_into(t);
                            }
                        }
                    }
                    continue;
                }
                let Some(rest) = statement.strip_prefix("CREATE TABLE ") else {
                    continue;
                };
                let table = rest.split_whitespace().next().unwrap();
                for line in rest.lines().skip(1) {
                    let mut words = line.split_whitespace();
                    if let (Some(column), Some(kind)) = (words.next(), words.next())
                        && kind.trim_end_matches(',') == "BLOB"
                    {
                        blobs.push((table.to_owned(), column.to_owned()));
                    }
                }
            }
        }
        blobs.sort();
        let mut indexes: Vec<_> = blobs
            .iter()
            .filter(|(_, c)| c.ends_with("_index"))
            .cloned()
            .collect();
        blobs.retain(|(_, c)| !HASHES.contains(&c.as_str()));
        let mut known: Vec<_> = crate::SEALED_COLUMNS
            .iter()
            .map(|c| (c.table.to_owned(), c.column.to_owned()))
            .collect();
        known.sort();
        assert_eq!(blobs, known);
        // Every blind index is known to the rotation of the index key.
        let mut known: Vec<_> = crate::BLIND_INDEXES
            .iter()
            .map(|c| (c.table.to_owned(), c.column.to_owned()))
            .collect();
        known.sort();
        indexes.sort();
        assert_eq!(indexes, known);
    }
}
