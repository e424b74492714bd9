-- The citizens' second factor («Вход с подтверждением»): an SMS code to the
-- account's phone or an authenticator app (TOTP). The app's key is sealed;
-- the last time step taken makes each app code work once. Backup codes are
-- kept only as keyed hashes, each spent once.
CREATE TABLE second_factors (
    account_id     TEXT    PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    method         TEXT    NOT NULL CHECK (method IN ('sms', 'totp')),
    totp_secret    BLOB,
    totp_last_step INTEGER,
    enabled_at     INTEGER NOT NULL
);
CREATE TABLE backup_codes (
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash  BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (account_id, code_hash)
);
-- A step that waits for the second factor: a login whose password was
-- right, an app or phone being added, or the factor being turned off or its
-- backup codes renewed. An SMS code is kept as a keyed hash; a new app's key
-- sealed, until the first code from it is typed. A login keeps what its
-- session will be (remembered or not, the device) until then.
CREATE TABLE factor_challenges (
    id              TEXT    PRIMARY KEY,
    account_id      TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose         TEXT    NOT NULL CHECK (purpose IN ('login', 'enrol', 'manage')),
    method          TEXT    NOT NULL CHECK (method IN ('sms', 'totp')),
    totp_secret     BLOB,
    code_hash       BLOB,
    code_expires_at INTEGER,
    sent_at         INTEGER,
    attempts        INTEGER NOT NULL,
    remember        INTEGER NOT NULL,
    device_hash     BLOB,
    user_agent      TEXT,
    network         TEXT,
    lang            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX factor_challenges_account ON factor_challenges (account_id, purpose);
CREATE INDEX factor_challenges_expires_at ON factor_challenges (expires_at);
