-- Delivered messages lose their sealed body (codes, links, temporary
-- passwords) a day after delivery; the sweep finds the ones still holding
-- one by this index, never by reading the whole outbox.
CREATE INDEX outbox_delivered_with_body ON outbox (delivered_at)
    WHERE delivered_at IS NOT NULL AND length(body) > 0;
