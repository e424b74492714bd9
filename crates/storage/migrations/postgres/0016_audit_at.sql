-- `uslugi admin audit export --since --until` reads the log by time.
CREATE INDEX audit_log_at ON audit_log (at, seq);
