-- 0002: identities keyed by case only, and a version per product for ETag / If-Match; the same
-- as db/migrations/mysql/0002 (which says why and how the keys are sized; TEXT has no limit).
--
-- The key columns are written from Rust (b2b_domain::identity::key) and compared with SQLite's
-- default BINARY collation. The old `UNIQUE COLLATE NOCASE` constraints on operators.email and
-- products.sku stay (dropping them means rebuilding the tables): NOCASE folds ASCII letters
-- only, so any two values it calls equal have equal keys, and it never refuses what the keys
-- allow. Existing rows are keyed with lower(), which folds ASCII only: exact for the ASCII
-- e-mails and SKUs written so far; a row with other capitals is re-keyed by writing it again.

ALTER TABLE operators ADD COLUMN email_key TEXT NOT NULL DEFAULT '';
UPDATE operators SET email_key = lower(email);
CREATE UNIQUE INDEX uq_operators_email_key ON operators (email_key);

ALTER TABLE products ADD COLUMN sku_key TEXT NOT NULL DEFAULT '';
UPDATE products SET sku_key = lower(sku);
CREATE UNIQUE INDEX uq_products_sku_key ON products (sku_key);

-- Every UPDATE of a product adds one (PATCH, an order's decrement, a cancel's restore); the
-- ETag is "<version>".
ALTER TABLE products ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
