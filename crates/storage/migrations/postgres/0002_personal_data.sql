-- Personal data of the standard account, the registry checks (each row is
-- also the job that runs it), and the transactional outbox of notifications.
-- Every personal value is sealed (BYTEA, key id inside); statuses are plain.
CREATE TABLE personal_data (
    account_id    TEXT    PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    status        TEXT    NOT NULL CHECK (status IN ('draft', 'in_progress', 'verified', 'failed')),
    draft         BYTEA,
    submitted     BYTEA,
    submission_id TEXT    UNIQUE,
    submitted_at  BIGINT,
    verified      BYTEA,
    verified_at   BIGINT,
    addresses     BYTEA,
    updated_at    BIGINT  NOT NULL
);

CREATE TABLE checks (
    id                 TEXT    PRIMARY KEY,
    submission_id      TEXT    NOT NULL,
    account_id         TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    registry           TEXT    NOT NULL CHECK (registry IN ('sfr', 'mvd')),
    status             TEXT    NOT NULL CHECK (status IN ('pending', 'retrying', 'passed', 'failed')),
    reason             TEXT,
    request            BYTEA   NOT NULL,
    gateway_request_id TEXT,
    attempts           BIGINT  NOT NULL,
    next_run_at        BIGINT  NOT NULL,
    deadline_at        BIGINT  NOT NULL,
    leased_until       BIGINT,
    created_at         BIGINT  NOT NULL,
    finished_at        BIGINT,
    UNIQUE (submission_id, registry)
);
CREATE INDEX checks_due ON checks (next_run_at) WHERE status IN ('pending', 'retrying');
CREATE INDEX checks_account_id ON checks (account_id);

CREATE TABLE outbox (
    id              TEXT    PRIMARY KEY,
    dedupe_key      TEXT    NOT NULL UNIQUE,
    account_id      TEXT    REFERENCES accounts (id) ON DELETE CASCADE,
    channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient       BYTEA   NOT NULL,
    subject         BYTEA   NOT NULL,
    body            BYTEA   NOT NULL,
    created_at      BIGINT  NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    attempts        BIGINT  NOT NULL,
    leased_until    BIGINT,
    delivered_at    BIGINT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
