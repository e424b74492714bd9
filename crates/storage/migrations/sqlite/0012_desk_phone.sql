-- A registration at a service center sends the temporary password only to
-- a phone confirmed at the desk: the code sent to the typed phone, read out
-- by the citizen, typed by the operator. Kept here only as a keyed hash;
-- tries are counted per code; the phone is sealed.
CREATE TABLE desk_phones (
    id              TEXT    PRIMARY KEY,
    operator_id     TEXT    NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    phone           BLOB    NOT NULL,
    phone_index     BLOB    NOT NULL,
    code_hash       BLOB    NOT NULL,
    code_expires_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    sent_at         INTEGER NOT NULL,
    confirmed_at    INTEGER,
    used_at         INTEGER,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX desk_phones_expires_at ON desk_phones (expires_at);
