-- A new phone or e-mail of an account, waiting for its code or link. The
-- new value is sealed; the code or token is kept only as a keyed hash.
-- A contact that already belongs to an account gets a row all the same
-- (`taken`, with a secret nobody knows), so that the answers of a change
-- never tell whose contact it is. One live change per account and kind:
-- a new one replaces the last.
CREATE TABLE contact_changes (
    id                TEXT    PRIMARY KEY,
    account_id        TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind              TEXT    NOT NULL CHECK (kind IN ('phone', 'email')),
    lang              TEXT    NOT NULL,
    new_contact       BYTEA   NOT NULL,
    contact_index     BYTEA   NOT NULL,
    taken             BOOLEAN NOT NULL,
    secret_hash       BYTEA   NOT NULL UNIQUE,
    secret_expires_at BIGINT  NOT NULL,
    attempts          BIGINT  NOT NULL,
    sent_at           BIGINT  NOT NULL,
    sends             BIGINT  NOT NULL,
    completed_at      BIGINT,
    created_at        BIGINT  NOT NULL,
    expires_at        BIGINT  NOT NULL
);
CREATE INDEX contact_changes_account_kind ON contact_changes (account_id, kind);
CREATE INDEX contact_changes_expires_at ON contact_changes (expires_at);
