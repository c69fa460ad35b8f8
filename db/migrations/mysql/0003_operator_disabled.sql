-- 0003: an operator can be disabled without deleting the row (`customers-api operators disable`):
-- the log-in refuses them like a wrong password, and `enable` sets the column back to NULL.
-- A timestamp rather than a flag, so `operators list` says since when.
--
-- Re-runnable like 0002: docker compose's MySQL loads db/schema.sql (this file included) before
-- the services run their migrations over it, and MySQL 8 has no ADD COLUMN IF NOT EXISTS.

SET @step = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'operators' AND column_name = 'disabled_at') = 0,
    'ALTER TABLE operators ADD COLUMN disabled_at DATETIME(6) NULL AFTER created_at',
    'DO 0');
PREPARE step FROM @step;
EXECUTE step;
DEALLOCATE PREPARE step;
