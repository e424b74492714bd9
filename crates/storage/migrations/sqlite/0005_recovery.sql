-- Access recovery («Не удаётся войти?»): the code or link sent to a
-- confirmed contact, only as a keyed hash. A recovery of an unknown login
-- is written too (without an account), so both take the same steps.
CREATE TABLE recoveries (
    id                TEXT    PRIMARY KEY,
    account_id        TEXT    REFERENCES accounts (id) ON DELETE CASCADE,
    login_kind        TEXT    NOT NULL CHECK (login_kind IN ('phone', 'email', 'snils')),
    channel           TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    lang              TEXT    NOT NULL,
    secret_hash       BLOB    NOT NULL UNIQUE,
    secret_expires_at INTEGER NOT NULL,
    attempts          INTEGER NOT NULL,
    confirmed_at      INTEGER,
    completed_at      INTEGER,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL
);
CREATE INDEX recoveries_expires_at ON recoveries (expires_at);
