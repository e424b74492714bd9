-- The right to take a flow's next step belongs to whoever proved control of
-- the contact: confirming a registration or a recovery issues a single-use
-- continuation token, kept here only as a keyed hash with its expiry.
ALTER TABLE registrations ADD COLUMN continuation_hash BYTEA;
ALTER TABLE registrations ADD COLUMN continuation_expires_at BIGINT;
ALTER TABLE recoveries ADD COLUMN continuation_hash BYTEA;
ALTER TABLE recoveries ADD COLUMN continuation_expires_at BIGINT;

-- Six-digit codes collide (one in a million per pair of live codes): the
-- hashes of secrets are not unique. Codes are looked up by their flow's id;
-- only e-mail tokens (256 bits) are looked up by hash.
DROP INDEX registrations_secret_hash;
CREATE INDEX registrations_secret_hash ON registrations (secret_hash);
ALTER TABLE recoveries DROP CONSTRAINT recoveries_secret_hash_key;
CREATE INDEX recoveries_secret_hash ON recoveries (secret_hash);
CREATE INDEX recoveries_account_id ON recoveries (account_id);
ALTER TABLE contact_changes DROP CONSTRAINT contact_changes_secret_hash_key;
CREATE INDEX contact_changes_secret_hash ON contact_changes (secret_hash);
