-- Demo data for local use: five customers, ten products with stock, and one development
-- operator (admin@b2b.local / admin123, argon2id). Never load this into production.

INSERT INTO operators (id, email, email_key, password_hash, created_at) VALUES
    (1, 'admin@b2b.local', 'admin@b2b.local', '$argon2id$v=19$m=19456,t=2,p=1$oDWrtxBHZdpEdhL54EZFKQ$IaDOgh13bHDvRB9ZgsL0FRWiL2QDfno/J96QOLe87Pk', '2026-01-01 00:00:00.000000');

INSERT INTO customers (id, name, email, email_key, phone, created_at, updated_at) VALUES
    (1, 'ACME Corp', 'ops@acme.com', 'ops@acme.com', '+1-555-0100', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'),
    (2, 'Globex Corporation', 'purchasing@globex.com', 'purchasing@globex.com', '+1-555-0101', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'),
    (3, 'Initech', 'orders@initech.com', 'orders@initech.com', NULL, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'),
    (4, 'Umbrella Supplies', 'buyer@umbrella.com', 'buyer@umbrella.com', '+44-20-7946-0958', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'),
    (5, 'Stark Industries', 'procurement@stark.com', 'procurement@stark.com', '+1-555-0104', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000');

INSERT INTO products (id, sku, sku_key, name, price_cents, stock, created_at, updated_at) VALUES
    (1, 'SKU-001', 'sku-001', 'Steel bolts M8 (box of 100)', 1299, 500, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'),
    (2, 'SKU-002', 'sku-002', 'Industrial gloves (pair)', 899, 1000, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'),
    (3, 'SKU-003', 'sku-003', 'Safety helmet', 2499, 200, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'),
    (4, 'SKU-004', 'sku-004', 'Hydraulic pump', 45900, 25, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'),
    (5, 'SKU-005', 'sku-005', 'Copper wire 2.5mm (100 m)', 7450, 120, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'),
    (6, 'SKU-006', 'sku-006', 'Pallet wrap film', 1850, 300, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'),
    (7, 'SKU-007', 'sku-007', 'LED work light', 3999, 80, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'),
    (8, 'SKU-008', 'sku-008', 'Cordless drill', 12900, 40, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'),
    (9, 'SKU-009', 'sku-009', 'Cable ties (pack of 500)', 650, 750, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'),
    (10, 'SKU-010', 'sku-010', 'Forklift battery', 289000, 5, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000');
