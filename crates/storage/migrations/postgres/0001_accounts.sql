-- Registrations in progress, accounts, sessions and rate-limit events.
-- Times are Unix seconds (UTC). Personal data arrive sealed (BYTEA); lookups
-- go through keyed hashes (the *_index and *_hash columns).
CREATE TABLE registrations (
    id                TEXT    PRIMARY KEY,
    channel           TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    lang              TEXT    NOT NULL,
    surname           BYTEA   NOT NULL,
    given_name        BYTEA   NOT NULL,
    contact           BYTEA   NOT NULL,
    contact_index     BYTEA   NOT NULL,
    existing_account  BOOLEAN NOT NULL,
    secret_hash       BYTEA   NOT NULL,
    secret_expires_at BIGINT  NOT NULL,
    attempts          BIGINT  NOT NULL,
    sent_at           BIGINT  NOT NULL,
    sends             BIGINT  NOT NULL,
    confirmed_at      BIGINT,
    created_at        BIGINT  NOT NULL,
    expires_at        BIGINT  NOT NULL
);
CREATE UNIQUE INDEX registrations_secret_hash ON registrations (secret_hash);
CREATE INDEX registrations_expires_at ON registrations (expires_at);

CREATE TABLE accounts (
    id              TEXT    PRIMARY KEY,
    level           TEXT    NOT NULL CHECK (level IN ('simplified', 'standard', 'confirmed')),
    surname         BYTEA   NOT NULL,
    given_name      BYTEA   NOT NULL,
    phone           BYTEA,
    phone_index     BYTEA   UNIQUE,
    email           BYTEA,
    email_index     BYTEA   UNIQUE,
    snils_index     BYTEA   UNIQUE,
    password_hash   TEXT    NOT NULL,
    failed_logins   BIGINT  NOT NULL DEFAULT 0,
    throttled_until BIGINT,
    locked          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE TABLE sessions (
    token_hash     BYTEA   PRIMARY KEY,
    account_id     TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at     BIGINT  NOT NULL,
    last_seen_at   BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL,
    idle_timeout_s BIGINT  NOT NULL,
    remember       BOOLEAN NOT NULL
);
CREATE INDEX sessions_account_id ON sessions (account_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE rate_events (
    bucket TEXT   NOT NULL,
    key    BYTEA  NOT NULL,
    at     BIGINT NOT NULL
);
CREATE INDEX rate_events_bucket_key_at ON rate_events (bucket, key, at);
