-- 0005: `idempotency_keys.status` goes; the same as db/migrations/mysql/0005 (which says why).

ALTER TABLE idempotency_keys DROP COLUMN status;
