-- 0003: an operator can be disabled without deleting the row; the same as
-- db/migrations/mysql/0003 (which says why). RFC 3339 text, like every time column here.

ALTER TABLE operators ADD COLUMN disabled_at TEXT NULL;
