
-- 0005: `idempotency_keys.status` goes. A key's row is seen by others only once the transaction
-- that claimed it committed, with its outcome: the outcome columns say all the status did.
--
-- Re-runnable like 0002 (a database made from db/schema.sql has no such column already), and
-- MySQL 8 has no DROP COLUMN IF EXISTS.

SET @step = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'idempotency_keys' AND column_name = 'status') = 1,
    'ALTER TABLE idempotency_keys DROP COLUMN status',
    'DO 0');
PREPARE step FROM @step;
EXECUTE step;
DEALLOCATE PREPARE step;
