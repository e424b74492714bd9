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
    new_contact       BLOB    NOT NULL,
    contact_index     BLOB    NOT NULL,
    taken             INTEGER NOT NULL,
    secret_hash       BLOB    NOT NULL UNIQUE,
    secret_expires_at INTEGER NOT NULL,
    attempts          INTEGER NOT NULL,
    sent_at           INTEGER NOT NULL,
    sends             INTEGER NOT NULL,
    completed_at      INTEGER,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL
);
CREATE INDEX contact_changes_account_kind ON contact_changes (account_id, kind);
CREATE INDEX contact_changes_expires_at ON contact_changes (expires_at);
