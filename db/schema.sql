-- B2B Orders schema, MySQL 8 / MariaDB >= 10.11. Applied by the services at start (sqlx
-- migrations) and, as db/schema.sql, by docker compose's MySQL on first start: every statement is
-- idempotent (IF NOT EXISTS) so a database made from db/schema.sql migrates cleanly.

CREATE TABLE IF NOT EXISTS customers (
    id BIGINT NOT NULL AUTO_INCREMENT,
    name VARCHAR(255) NOT NULL,
    email VARCHAR(255) NOT NULL,
    -- lower-cased e-mail while the customer is live, NULL once soft-deleted: uniqueness without
    -- regard to case that frees the address on deletion, on every engine
    email_key VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    phone VARCHAR(50) NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    deleted_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_customers_email_key (email_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS products (
    id BIGINT NOT NULL AUTO_INCREMENT,
    sku VARCHAR(64) NOT NULL,
    name VARCHAR(255) NOT NULL,
    price_cents BIGINT NOT NULL,
    stock BIGINT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_products_sku (sku),
    CONSTRAINT ck_products_price CHECK (price_cents >= 0),
    CONSTRAINT ck_products_stock CHECK (stock >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS orders (
    id BIGINT NOT NULL AUTO_INCREMENT,
    customer_id BIGINT NOT NULL,
    status VARCHAR(16) NOT NULL,
    total_cents BIGINT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    confirmed_at DATETIME(6) NULL,
    canceled_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    KEY ix_orders_customer (customer_id, id),
    KEY ix_orders_status (status, id),
    KEY ix_orders_created (created_at, id),
    CONSTRAINT ck_orders_status CHECK (status IN ('CREATED', 'CONFIRMED', 'CANCELED'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS order_items (
    order_id BIGINT NOT NULL,
    product_id BIGINT NOT NULL,
    qty BIGINT NOT NULL,
    unit_price_cents BIGINT NOT NULL,
    subtotal_cents BIGINT NOT NULL,
    PRIMARY KEY (order_id, product_id),
    KEY ix_order_items_product (product_id),
    CONSTRAINT fk_order_items_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT fk_order_items_product FOREIGN KEY (product_id) REFERENCES products (id),
    CONSTRAINT ck_order_items_qty CHECK (qty > 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS idempotency_keys (
    id BIGINT NOT NULL AUTO_INCREMENT,
    scope VARCHAR(32) NOT NULL,
    `key` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    request_fingerprint CHAR(64) NOT NULL,
    status VARCHAR(16) NOT NULL,
    response_status INT NULL,
    response_body MEDIUMTEXT NULL,
    created_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_idempotency_scope_key (scope, `key`),
    KEY ix_idempotency_expires (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS operators (
    id BIGINT NOT NULL AUTO_INCREMENT,
    email VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_operators_email (email)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- 0002: identities keyed by case only, every text column sized for its validated input, and a
-- version per product for ETag / If-Match.
--
-- Identity: operators.email and products.sku had the table's default collation
-- (utf8mb4_0900_ai_ci on MySQL 8, utf8mb4_general_ci on MariaDB), which also folds accents, so
-- `ádmin@b2b.local` was `admin@b2b.local` and `SKU-É` was `SKU-E`. Like customers.email_key, the
-- identity is now a key column written from Rust (b2b_domain::identity::key, str::to_lowercase)
-- and compared byte for byte (utf8mb4_bin) under the unique index: case is folded, accents,
-- width and ignorable characters are not, the same as on SQLite. The value columns keep their
-- collation, so search still ignores case (and, here, accents).
--
-- Sizes: to_lowercase makes at most two characters of one (only U+0130 `İ`, to `i` + U+0307; a
-- test in crates/domain checks every code point), so a key holds twice its value's limit:
-- e-mail keys 2 x 255 = 510, sku keys 2 x 64 = 128 (a 178-character e-mail of `İ` labels keys
-- to 278, which VARCHAR(255) refused under strict mode). VARCHAR counts characters, as the
-- validators do; the widest index, 510 x 4 bytes (utf8mb4) = 2040 bytes, is within InnoDB's
-- 3072-byte key limit. The other columns already match their validators in characters
-- (names 255, phone 50, sku 64).
--
-- Existing rows get their keys from LOWER(): it agrees with to_lowercase on every character
-- with a one-to-one lower case in the server's Unicode tables, which covers the e-mails and
-- SKUs written so far (the seed's and the benchmark's are ASCII); a row whose value holds `İ` or
-- a letter newer than those tables keeps a key the API would not compute, and is re-keyed by
-- writing it again. The old indexes folded accents, so no two existing rows share a key.
--
-- Every step checks whether it is done: docker compose's MySQL loads db/schema.sql (this file
-- included) and the seed before the services run their migrations over it. MySQL 8 has no
-- ADD COLUMN IF NOT EXISTS, hence the prepared statements over information_schema.

ALTER TABLE customers
    MODIFY email_key VARCHAR(510) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;

SET @step = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'operators' AND column_name = 'email_key') = 0,
    'ALTER TABLE operators ADD COLUMN email_key VARCHAR(510) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL AFTER email',
    'DO 0');
PREPARE step FROM @step;
EXECUTE step;
DEALLOCATE PREPARE step;

UPDATE operators SET email_key = LOWER(email) WHERE email_key IS NULL;

SET @step = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
     WHERE table_schema = DATABASE() AND table_name = 'operators' AND index_name = 'uq_operators_email') = 1,
    'ALTER TABLE operators MODIFY email_key VARCHAR(510) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, ADD UNIQUE KEY uq_operators_email_key (email_key), DROP INDEX uq_operators_email',
    'DO 0');
PREPARE step FROM @step;
EXECUTE step;
DEALLOCATE PREPARE step;

-- `version` counts the writes of a product: every UPDATE of a row adds one (PATCH, an order's
-- decrement, a cancel's restore), and the ETag is "<version>".
SET @step = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'products' AND column_name = 'sku_key') = 0,
    'ALTER TABLE products ADD COLUMN sku_key VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL AFTER sku, ADD COLUMN version BIGINT NOT NULL DEFAULT 1 AFTER stock',
    'DO 0');
PREPARE step FROM @step;
EXECUTE step;
DEALLOCATE PREPARE step;

UPDATE products SET sku_key = LOWER(sku) WHERE sku_key IS NULL;

SET @step = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
     WHERE table_schema = DATABASE() AND table_name = 'products' AND index_name = 'uq_products_sku') = 1,
    'ALTER TABLE products MODIFY sku_key VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, ADD UNIQUE KEY uq_products_sku_key (sku_key), DROP INDEX uq_products_sku',
    'DO 0');
PREPARE step FROM @step;
EXECUTE step;
DEALLOCATE PREPARE step;
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

-- Log-in attempts per budget and one-minute window, shared by every customers-api replica.
-- `bucket` is a SHA-256 of what the budget counts, so no e-mail or address is kept in clear;
-- ended windows are purged by the services.
CREATE TABLE IF NOT EXISTS login_attempts (
    bucket CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    window_start BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start),
    KEY ix_login_attempts_window (window_start)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

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
