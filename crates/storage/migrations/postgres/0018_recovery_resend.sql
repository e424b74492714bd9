-- A recovery's code or link can be sent again («Получить новый код»), as
-- a registration's and a contact change's can: when it was last sent and
-- how many times (each send's message has a key of its own). A resend
-- spends the hourly quota of the contact the recovery sends to: its key
-- (the contact's blind index when the recovery started) is kept, for a
-- login no account has as well, so the answers never tell the two apart.
-- Only a quota is counted by it, never a lookup: after a rotation of the
-- index key it counts afresh, as every quota does. Recoveries made before
-- this migration have none: they cannot be resent, only started again.
ALTER TABLE recoveries ADD COLUMN sent_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE recoveries ADD COLUMN sends BIGINT NOT NULL DEFAULT 1;
ALTER TABLE recoveries ADD COLUMN quota_key BYTEA;
UPDATE recoveries SET sent_at = created_at;
