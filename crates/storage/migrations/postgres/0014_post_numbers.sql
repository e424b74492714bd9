-- Letters the portal prints itself ([post] mode = "print"): each takes the
-- next serial of the tracking range the post allocated, once (its key is
-- the letter's), and the post's status files move it along; a status is
-- kept only if it is newer than the one held.
CREATE TABLE post_numbers (
    letter_key TEXT    PRIMARY KEY,
    prefix     TEXT    NOT NULL,
    serial     BIGINT  NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('accepted', 'in_transit', 'arrived', 'handed_over')),
    status_at  BIGINT  NOT NULL,
    created_at BIGINT  NOT NULL,
    UNIQUE (prefix, serial)
);
