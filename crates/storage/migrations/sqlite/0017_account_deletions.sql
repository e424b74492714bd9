-- The citizen asked to delete the account («Удалить учётную запись»). It
-- is erased once erase_after has passed, unless a login before then
-- cancels it (the login's transaction deletes this row). The request ended
-- every session in its own transaction.
CREATE TABLE account_deletions (
    account_id   TEXT    PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    requested_at INTEGER NOT NULL,
    erase_after  INTEGER NOT NULL
);
CREATE INDEX account_deletions_due ON account_deletions (erase_after);
