-- The confirmed account: letters with an identity code, service-center
-- operators and their sessions, and the append-only audit log.

-- A letter is a job until the post has it: `queued`, then `sent` with the
-- post's tracking number. The code is kept as a keyed hash for checking and,
-- sealed, only until it is printed and dies (used, voided or expired).
CREATE TABLE identity_letters (
    id                TEXT    PRIMARY KEY,
    account_id        TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    lang              TEXT    NOT NULL,
    code_hash         BLOB    NOT NULL,
    code              BLOB,
    recipient         BLOB    NOT NULL,
    address           BLOB    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('queued', 'sent')),
    tracking_number   TEXT    UNIQUE,
    voided            INTEGER NOT NULL,
    attempts          INTEGER NOT NULL,
    dispatch_attempts INTEGER NOT NULL,
    next_attempt_at   INTEGER NOT NULL,
    leased_until      INTEGER,
    sent_at           INTEGER,
    expires_at        INTEGER,
    used_at           INTEGER,
    created_at        INTEGER NOT NULL
);
CREATE INDEX identity_letters_account ON identity_letters (account_id, created_at);
CREATE INDEX identity_letters_due ON identity_letters (next_attempt_at) WHERE status = 'queued';
CREATE INDEX identity_letters_sent_at ON identity_letters (sent_at);

CREATE TABLE operators (
    id               TEXT    PRIMARY KEY,
    center_id        TEXT    NOT NULL REFERENCES service_centers (id),
    role             TEXT    NOT NULL CHECK (role IN ('operator', 'supervisor')),
    name             BLOB,
    login            TEXT    UNIQUE,
    password_hash    TEXT,
    totp_secret      BLOB    NOT NULL,
    totp_last_step   INTEGER,
    enrol_token_hash BLOB    UNIQUE,
    enrol_expires_at INTEGER,
    enrolled_at      INTEGER,
    disabled_at      INTEGER,
    failed_logins    INTEGER NOT NULL,
    throttled_until  INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX operators_center ON operators (center_id);

CREATE TABLE operator_sessions (
    token_hash   BLOB    PRIMARY KEY,
    operator_id  TEXT    NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);

-- Append-only: the triggers refuse every change and removal, and each
-- record carries a keyed hash linking it to the one before.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    operator_id TEXT,
    center_id   TEXT,
    account_id  TEXT,
    action      TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    details     TEXT    NOT NULL,
    prev_hash   BLOB    NOT NULL,
    hash        BLOB    NOT NULL
);
CREATE INDEX audit_log_center ON audit_log (center_id, seq);
CREATE INDEX audit_log_operator ON audit_log (operator_id, seq);
CREATE INDEX audit_log_account ON audit_log (account_id, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Lookups by passport (operators search by it), the temporary password of
-- a registration or recovery at a center, and how the identity was proven.
ALTER TABLE accounts ADD COLUMN passport_index BLOB;
CREATE INDEX accounts_passport_index ON accounts (passport_index);
ALTER TABLE accounts ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN password_expires_at INTEGER;
ALTER TABLE accounts ADD COLUMN confirmed_at INTEGER;
ALTER TABLE accounts ADD COLUMN confirmed_via TEXT;
ALTER TABLE sessions ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
-- A submission made by an operator for the citizen in front of them.
ALTER TABLE personal_data ADD COLUMN assisted_operator TEXT;
ALTER TABLE personal_data ADD COLUMN assisted_center TEXT;
