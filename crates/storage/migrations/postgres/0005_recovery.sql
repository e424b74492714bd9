-- Access recovery («Не удаётся войти?»): the code or link sent to a
-- confirmed contact, only as a keyed hash. A recovery of an unknown login
-- is written too (without an account), so both take the same steps.
CREATE TABLE recoveries (
    id                TEXT    PRIMARY KEY,
    account_id        TEXT    REFERENCES accounts (id) ON DELETE CASCADE,
    login_kind        TEXT    NOT NULL CHECK (login_kind IN ('phone', 'email', 'snils')),
    channel           TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    lang              TEXT    NOT NULL,
    secret_hash       BYTEA   NOT NULL UNIQUE,
    secret_expires_at BIGINT  NOT NULL,
    attempts          BIGINT  NOT NULL,
    confirmed_at      BIGINT,
    completed_at      BIGINT,
    created_at        BIGINT  NOT NULL,
    expires_at        BIGINT  NOT NULL
);
CREATE INDEX recoveries_expires_at ON recoveries (expires_at);
