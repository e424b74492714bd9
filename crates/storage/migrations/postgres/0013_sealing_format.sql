-- Sealed values now bind their row's key as associated data (format 2).
-- The node that first starts on format 2 seals every older value again and
-- raises this number; until then it is 1, the format every value so far has.
CREATE TABLE sealing_format (
    format BIGINT NOT NULL
);
INSERT INTO sealing_format (format) SELECT 1;
