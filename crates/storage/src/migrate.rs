//! Forward-only migrations, one folder per engine, embedded in the binary.
//! A test checks that both folders describe the same tables and columns.

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// The statements of the migration, one by one, without comments. Our
    /// migrations hold no semicolons inside literals, so splitting is exact.
    pub fn statements(&self) -> Vec<String> {
        let code: String = self
            .sql
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .map(|l| format!("{l}\n"))
            .collect();
        code.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
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
                assert!(s.starts_with("CREATE"), "{s}");
            }
        }
    }

    /// Every BLOB column holds either a keyed hash (looked up, never opened)
    /// or a sealed value that `rotate-keys` must find in `SEALED_COLUMNS`.
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
        ];
        let mut blobs = Vec::new();
        for m in MIGRATIONS_SQLITE {
            for statement in m.statements() {
                let Some(rest) = statement.strip_prefix("CREATE TABLE ") else {
                    continue;
                };
                let table = rest.split_whitespace().next().unwrap();
                for line in rest.lines().skip(1) {
                    let mut words = line.split_whitespace();
                    if let (Some(column), Some(kind)) = (words.next(), words.next())
                        && kind.trim_end_matches(',') == "BLOB"
                        && !HASHES.contains(&column)
                    {
                        blobs.push((table.to_owned(), column.to_owned()));
                    }
                }
            }
        }
        let mut known: Vec<_> = uslugi_app::crypto::SEALED_COLUMNS
            .iter()
            .map(|c| (c.table.to_owned(), c.column.to_owned()))
            .collect();
        blobs.sort();
        known.sort();
        assert_eq!(blobs, known);
    }
}
