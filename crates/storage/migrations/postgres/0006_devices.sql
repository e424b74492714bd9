-- Sessions and the devices they were opened from: the sessions page
-- names each (browser and system, the network it came from), and a login
-- from a device the account has not used before is told to the person.
-- The network is the address with its last part dropped (/24, /48): enough
-- to recognise, not to locate a home.
ALTER TABLE sessions ADD COLUMN device_hash BYTEA;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN network TEXT;
CREATE TABLE account_devices (
    account_id    TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    device_hash   BYTEA   NOT NULL,
    first_seen_at BIGINT  NOT NULL,
    last_seen_at  BIGINT  NOT NULL,
    PRIMARY KEY (account_id, device_hash)
);
