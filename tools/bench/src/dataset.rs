//! The data at scale, loaded through bulk SQL that runs on MySQL 8 and MariaDB alike: every row
//! is an `INSERT … SELECT` over a cross join of a 10-row digits table, its id and every field
//! computed from the row number `n`, in chunks of 100 000 rows.
//!
//! Order `n` (id `n + 1`) belongs to customer `1 + 7919·n mod C`, has `1 + (n div 7) mod 3`
//! lines on consecutive products from `7919·n mod P`, is dated `30·n` seconds after 2025-01-01,
//! and is CONFIRMED (`n mod 10` < 6), CREATED (6, 7) or CANCELED (8, 9). Prices are
//! `100 + 37·id mod 99900` cents and stock is 10^15, so no order ever runs short.

use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::{Connection, Executor, MySqlConnection};

const CHUNK: u64 = 100_000;
const EPOCH: &str = "'2025-01-01 00:00:00'";
pub const STOCK: i64 = 1_000_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub customers: u64,
    pub products: u64,
    pub orders: u64,
}

impl Scale {
    /// The id of the `k`-th order left in `CREATED` by the load (k from 0).
    pub fn created_order(&self, k: u64) -> Option<i64> {
        let n = (k / 2) * 10 + 6 + k % 2;
        (n < self.orders).then_some(n as i64 + 1)
    }

    /// How many orders the load leaves in `CREATED`.
    pub fn created_orders(&self) -> u64 {
        let full = (self.orders / 10) * 2;
        let rest = self.orders % 10;
        full + rest.saturating_sub(6).min(2)
    }
}

/// How long each table took.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct LoadTimes {
    pub customers_s: f64,
    pub products_s: f64,
    pub orders_s: f64,
    pub order_items_s: f64,
    pub analyze_s: f64,
    pub order_items: u64,
}

/// Drops and makes the database afresh.
pub async fn recreate(server_url: &str, name: &str) -> anyhow::Result<()> {
    let mut conn = MySqlConnection::connect(server_url)
        .await
        .with_context(|| format!("cannot connect to {server_url}"))?;
    conn.execute(format!("DROP DATABASE IF EXISTS `{name}`").as_str())
        .await?;
    conn.execute(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4").as_str())
        .await?;
    Ok(())
}

/// Whether the database exists and was loaded at this scale by an earlier run.
pub async fn loaded_at(db_url: &str, scale: Scale) -> bool {
    let Ok(mut conn) = MySqlConnection::connect(db_url).await else {
        return false;
    };
    let row: Result<(i64, i64, i64), _> =
        sqlx::query_as("SELECT customers, products, orders FROM bench_meta")
            .fetch_one(&mut conn)
            .await;
    matches!(row, Ok((c, p, o)) if (c as u64, p as u64, o as u64) == (scale.customers, scale.products, scale.orders))
}

/// `n` from 0 to `len - 1`, plus `base`, as a derived table with column `n`.
fn numbers(base: u64, len: u64) -> String {
    let digits = (len.saturating_sub(1).max(1) as f64).log10().floor() as u32 + 1;
    let sum: Vec<String> = (0..digits)
        .map(|d| format!("{}*d{d}.i", 10u64.pow(d)))
        .collect();
    let from: Vec<String> = (0..digits).map(|d| format!("bench_digits d{d}")).collect();
    format!(
        "(SELECT {base} + {} AS n FROM {} WHERE {} < {len})",
        sum.join(" + "),
        from.join(" CROSS JOIN "),
        sum.join(" + ")
    )
}

fn price(product_id: &str) -> String {
    format!("(100 + ({product_id}) * 37 % 99900)")
}

fn product(scale: Scale, slot: &str) -> String {
    format!(
        "(1 + (s.n * 7919 % {p} + {slot}) % {p})",
        p = scale.products
    )
}

fn qty(slot: &str) -> String {
    format!("(1 + (s.n + {slot}) % 5)")
}

const LINES: &str = "(1 + (s.n DIV 7) % 3)";

async fn timed(conn: &mut MySqlConnection, sql: &str) -> anyhow::Result<Duration> {
    let t = Instant::now();
    conn.execute(sql)
        .await
        .with_context(|| format!("bulk load failed: {}", &sql[..sql.len().min(160)]))?;
    Ok(t.elapsed())
}

/// Loads customers, products and orders with their items into a migrated database whose demo
/// rows are removed first (the operator stays).
pub async fn load(db_url: &str, scale: Scale) -> anyhow::Result<LoadTimes> {
    let mut conn = MySqlConnection::connect(db_url).await?;
    let mut times = LoadTimes::default();
    conn.execute(
        "SET SESSION foreign_key_checks = 0, unique_checks = 0; \
         DELETE FROM order_items; DELETE FROM orders; DELETE FROM idempotency_keys; \
         DELETE FROM customers; DELETE FROM products; \
         CREATE TABLE IF NOT EXISTS bench_digits (i INT NOT NULL PRIMARY KEY) ENGINE = InnoDB; \
         DELETE FROM bench_digits; \
         INSERT INTO bench_digits (i) VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9); \
         CREATE TABLE IF NOT EXISTS bench_meta (customers BIGINT NOT NULL, products BIGINT NOT NULL, orders BIGINT NOT NULL) ENGINE = InnoDB; \
         DELETE FROM bench_meta;",
    )
    .await?;

    let chunks = |total: u64| {
        (0..total.div_ceil(CHUNK)).map(move |c| (c * CHUNK, CHUNK.min(total - c * CHUNK)))
    };

    for (base, len) in chunks(scale.customers) {
        let sql = format!(
            "INSERT INTO customers (id, name, email, email_key, phone, created_at, updated_at) \
             SELECT s.n + 1, CONCAT('Customer ', s.n + 1), CONCAT('buyer', s.n + 1, '@bench.example'), \
             CONCAT('buyer', s.n + 1, '@bench.example'), CONCAT('+1-555-', LPAD(s.n % 10000, 4, '0')), \
             {EPOCH}, {EPOCH} FROM {} s",
            numbers(base, len)
        );
        times.customers_s += timed(&mut conn, &sql).await?.as_secs_f64();
    }
    for (base, len) in chunks(scale.products) {
        let sql = format!(
            "INSERT INTO products (id, sku, sku_key, name, price_cents, stock, created_at, updated_at) \
             SELECT s.n + 1, CONCAT('BENCH-', s.n + 1), CONCAT('bench-', s.n + 1), CONCAT('Product ', s.n + 1), {}, {STOCK}, \
             {EPOCH}, {EPOCH} FROM {} s",
            price("s.n + 1"),
            numbers(base, len)
        );
        times.products_s += timed(&mut conn, &sql).await?.as_secs_f64();
    }

    let total: Vec<String> = (0..3)
        .map(|k| {
            let slot = k.to_string();
            format!(
                "CASE WHEN {LINES} > {k} THEN {} * {} ELSE 0 END",
                qty(&slot),
                price(&product(scale, &slot))
            )
        })
        .collect();
    let created = format!("TIMESTAMPADD(SECOND, s.n * 30, {EPOCH})");
    for (base, len) in chunks(scale.orders) {
        let sql = format!(
            "INSERT INTO orders (id, customer_id, status, total_cents, created_at, updated_at, confirmed_at, canceled_at) \
             SELECT s.n + 1, 1 + s.n * 7919 % {c}, \
             CASE WHEN s.n % 10 < 6 THEN 'CONFIRMED' WHEN s.n % 10 < 8 THEN 'CREATED' ELSE 'CANCELED' END, \
             {total}, {created}, TIMESTAMPADD(SECOND, 120, {created}), \
             CASE WHEN s.n % 10 < 6 THEN TIMESTAMPADD(SECOND, 60, {created}) END, \
             CASE WHEN s.n % 10 >= 8 THEN TIMESTAMPADD(SECOND, 120, {created}) END \
             FROM {} s",
            numbers(base, len),
            c = scale.customers,
            total = total.join(" + "),
        );
        times.orders_s += timed(&mut conn, &sql).await?.as_secs_f64();

        let (p, q) = (product(scale, "k.i"), qty("k.i"));
        let sql = format!(
            "INSERT INTO order_items (order_id, product_id, qty, unit_price_cents, subtotal_cents) \
             SELECT s.n + 1, {p}, {q}, {pr}, {q} * {pr} \
             FROM {} s JOIN bench_digits k ON k.i < {LINES}",
            numbers(base, len),
            pr = price(&p),
        );
        times.order_items_s += timed(&mut conn, &sql).await?.as_secs_f64();
        eprintln!("  orders {} / {}", base + len, scale.orders);
    }

    let t = Instant::now();
    // ANALYZE answers a result set; fetch it rather than execute.
    sqlx::raw_sql("ANALYZE TABLE customers, products, orders, order_items")
        .fetch_all(&mut conn)
        .await?;
    times.analyze_s = t.elapsed().as_secs_f64();
    let (items,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM order_items")
        .fetch_one(&mut conn)
        .await?;
    times.order_items = items as u64;
    conn.execute(
        format!(
            "INSERT INTO bench_meta (customers, products, orders) VALUES ({}, {}, {})",
            scale.customers, scale.products, scale.orders
        )
        .as_str(),
    )
    .await?;
    Ok(times)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_orders_are_the_sixth_and_seventh_of_ten() {
        let s = Scale {
            customers: 10,
            products: 3,
            orders: 25,
        };
        let ids: Vec<i64> = (0..10).map_while(|k| s.created_order(k)).collect();
        assert_eq!(ids, [7, 8, 17, 18]);
        assert_eq!(s.created_orders(), 4);
        let s = Scale {
            orders: 1_000_000,
            ..s
        };
        assert_eq!(s.created_orders(), 200_000);
        assert_eq!(s.created_order(199_999), Some(999_998));
        assert_eq!(s.created_order(200_000), None);
    }

    #[test]
    fn numbers_use_enough_digits() {
        assert!(numbers(0, 100_000).contains("10000*d4.i"));
        assert!(!numbers(0, 100_000).contains("d5"));
        assert!(numbers(200_000, 37).contains("10*d1.i"));
        assert!(numbers(0, 10).contains("d0") && !numbers(0, 10).contains("d1"));
    }
}
