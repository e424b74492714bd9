-- An administrator disabled the account (`uslugi admin account disable`):
-- while its row is here no session of the account opens (the insert of a
-- session checks it), and its sessions ended in the same transaction.
CREATE TABLE account_blocks (
    account_id  TEXT    PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    disabled_at INTEGER NOT NULL
);
