-- Personal data of the standard account, the registry checks (each row is
-- also the job that runs it), and the transactional outbox of notifications.
-- Every personal value is sealed (BLOB, key id inside); statuses are plain.
CREATE TABLE personal_data (
    account_id    TEXT    PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    status        TEXT    NOT NULL CHECK (status IN ('draft', 'in_progress', 'verified', 'failed')),
    draft         BLOB,
    submitted     BLOB,
    submission_id TEXT    UNIQUE,
    submitted_at  INTEGER,
    verified      BLOB,
    verified_at   INTEGER,
    addresses     BLOB,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE checks (
    id                 TEXT    PRIMARY KEY,
    submission_id      TEXT    NOT NULL,
    account_id         TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    registry           TEXT    NOT NULL CHECK (registry IN ('sfr', 'mvd')),
    status             TEXT    NOT NULL CHECK (status IN ('pending', 'retrying', 'passed', 'failed')),
    reason             TEXT,
    request            BLOB    NOT NULL,
    gateway_request_id TEXT,
    attempts           INTEGER NOT NULL,
    next_run_at        INTEGER NOT NULL,
    deadline_at        INTEGER NOT NULL,
    leased_until       INTEGER,
    created_at         INTEGER NOT NULL,
    finished_at        INTEGER,
    UNIQUE (submission_id, registry)
);
CREATE INDEX checks_due ON checks (next_run_at) WHERE status IN ('pending', 'retrying');
CREATE INDEX checks_account_id ON checks (account_id);

CREATE TABLE outbox (
    id              TEXT    PRIMARY KEY,
    dedupe_key      TEXT    NOT NULL UNIQUE,
    account_id      TEXT    REFERENCES accounts (id) ON DELETE CASCADE,
    channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient       BLOB    NOT NULL,
    subject         BLOB    NOT NULL,
    body            BLOB    NOT NULL,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    leased_until    INTEGER,
    delivered_at    INTEGER
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
