
-- A key's row is visible to others only once its transaction committed, with its outcome: the
-- outcome columns say all `status` did.
ALTER TABLE idempotency_keys DROP COLUMN status;
