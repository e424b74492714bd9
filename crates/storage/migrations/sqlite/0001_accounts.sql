-- Registrations in progress, accounts, sessions and rate-limit events.
-- Times are Unix seconds (UTC). Personal data arrive sealed (BLOB); lookups
-- go through keyed hashes (the *_index and *_hash columns).
CREATE TABLE registrations (
    id                TEXT    PRIMARY KEY,
    channel           TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    lang              TEXT    NOT NULL,
    surname           BLOB    NOT NULL,
    given_name        BLOB    NOT NULL,
    contact           BLOB    NOT NULL,
    contact_index     BLOB    NOT NULL,
    existing_account  INTEGER NOT NULL,
    secret_hash       BLOB    NOT NULL,
    secret_expires_at INTEGER NOT NULL,
    attempts          INTEGER NOT NULL,
    sent_at           INTEGER NOT NULL,
    sends             INTEGER NOT NULL,
    confirmed_at      INTEGER,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL
);
CREATE UNIQUE INDEX registrations_secret_hash ON registrations (secret_hash);
CREATE INDEX registrations_expires_at ON registrations (expires_at);

CREATE TABLE accounts (
    id              TEXT    PRIMARY KEY,
    level           TEXT    NOT NULL CHECK (level IN ('simplified', 'standard', 'confirmed')),
    surname         BLOB    NOT NULL,
    given_name      BLOB    NOT NULL,
    phone           BLOB,
    phone_index     BLOB    UNIQUE,
    email           BLOB,
    email_index     BLOB    UNIQUE,
    snils_index     BLOB    UNIQUE,
    password_hash   TEXT    NOT NULL,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    throttled_until INTEGER,
    locked          INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash     BLOB    PRIMARY KEY,
    account_id     TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at     INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    idle_timeout_s INTEGER NOT NULL,
    remember       INTEGER NOT NULL
);
CREATE INDEX sessions_account_id ON sessions (account_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE rate_events (
    bucket TEXT    NOT NULL,
    key    BLOB    NOT NULL,
    at     INTEGER NOT NULL
);
CREATE INDEX rate_events_bucket_key_at ON rate_events (bucket, key, at);
