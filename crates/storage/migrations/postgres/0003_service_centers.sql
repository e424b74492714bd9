-- Service centers: public data (names, addresses, hours), kept as the JSON
-- of the domain type; the region is a column for the search by region.
CREATE TABLE service_centers (
    id         TEXT    PRIMARY KEY,
    region     TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);
CREATE INDEX service_centers_region ON service_centers (region);
