-- Stored Idempotency-Key outcomes expire after idempotency.retention_hours; the background sweep
-- deletes them by age.
create index idempotency_key_created_at on idempotency_key (created_at);
