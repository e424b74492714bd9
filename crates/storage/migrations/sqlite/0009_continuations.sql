-- The right to take a flow's next step belongs to whoever proved control of
-- the contact: confirming a registration or a recovery issues a single-use
-- continuation token, kept here only as a keyed hash with its expiry.
ALTER TABLE registrations ADD COLUMN continuation_hash BLOB;
ALTER TABLE registrations ADD COLUMN continuation_expires_at INTEGER;
ALTER TABLE recoveries ADD COLUMN continuation_hash BLOB;
ALTER TABLE recoveries ADD COLUMN continuation_expires_at INTEGER;

-- Six-digit codes collide (one in a million per pair of live codes): the
-- hashes of secrets are not unique. Codes are looked up by their flow's id;
-- only e-mail tokens (256 bits) are looked up by hash. SQLite cannot drop
-- a column's UNIQUE, so the two tables that had one are rebuilt.
DROP INDEX registrations_secret_hash;
CREATE INDEX registrations_secret_hash ON registrations (secret_hash);

CREATE TABLE recoveries_new (
    id                      TEXT    PRIMARY KEY,
    account_id              TEXT    REFERENCES accounts (id) ON DELETE CASCADE,
    login_kind              TEXT    NOT NULL CHECK (login_kind IN ('phone', 'email', 'snils')),
    channel                 TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    lang                    TEXT    NOT NULL,
    secret_hash             BLOB    NOT NULL,
    secret_expires_at       INTEGER NOT NULL,
    attempts                INTEGER NOT NULL,
    confirmed_at            INTEGER,
    completed_at            INTEGER,
    created_at              INTEGER NOT NULL,
    expires_at              INTEGER NOT NULL,
    continuation_hash       BLOB,
    continuation_expires_at INTEGER
);
INSERT INTO recoveries_new SELECT id, account_id, login_kind, channel, lang, secret_hash,
    secret_expires_at, attempts, confirmed_at, completed_at, created_at, expires_at,
    continuation_hash, continuation_expires_at FROM recoveries;
DROP TABLE recoveries;
ALTER TABLE recoveries_new RENAME TO recoveries;
CREATE INDEX recoveries_expires_at ON recoveries (expires_at);
CREATE INDEX recoveries_secret_hash ON recoveries (secret_hash);
CREATE INDEX recoveries_account_id ON recoveries (account_id);

CREATE TABLE contact_changes_new (
    id                TEXT    PRIMARY KEY,
    account_id        TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind              TEXT    NOT NULL CHECK (kind IN ('phone', 'email')),
    lang              TEXT    NOT NULL,
    new_contact       BLOB    NOT NULL,
    contact_index     BLOB    NOT NULL,
    taken             INTEGER NOT NULL,
    secret_hash       BLOB    NOT NULL,
    secret_expires_at INTEGER NOT NULL,
    attempts          INTEGER NOT NULL,
    sent_at           INTEGER NOT NULL,
    sends             INTEGER NOT NULL,
    completed_at      INTEGER,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL
);
INSERT INTO contact_changes_new SELECT id, account_id, kind, lang, new_contact, contact_index,
    taken, secret_hash, secret_expires_at, attempts, sent_at, sends, completed_at, created_at,
    expires_at FROM contact_changes;
DROP TABLE contact_changes;
ALTER TABLE contact_changes_new RENAME TO contact_changes;
CREATE INDEX contact_changes_account_kind ON contact_changes (account_id, kind);
CREATE INDEX contact_changes_expires_at ON contact_changes (expires_at);
CREATE INDEX contact_changes_secret_hash ON contact_changes (secret_hash);
