//! Replay precedence (SPEC §11): a key that already took effect is answered with its outcome,
//! whatever changed since and at once even while other transactions hold its rows; a request
//! is the same when it means the same. And an order or a cancel locks only its own products.

use std::time::Duration;

use b2b_testkit::Backend;
use reqwest::Method;
use serde_json::json;
use sqlx::{Connection, Executor, MySqlConnection, Row, SqliteConnection};

use crate::helpers::{TestApp, on_each_backend, order_body, problem, replayed, token};

on_each_backend!(
    a_create_replays_whatever_changed_since,
    the_same_lines_in_another_order_are_the_same_request,
    a_confirmation_replays_after_the_order_changed,
    the_stock_restore_reads_only_its_rows,
    the_stock_take_reads_only_its_rows,
);

/// Status, replay flag and exact body text of a response.
async fn outcome(resp: reqwest::Response) -> (u16, bool, String) {
    let replay = replayed(&resp);
    (resp.status().as_u16(), replay, resp.text().await.unwrap())
}

async fn delete_customer(app: &TestApp, id: i64) {
    let url = format!("{}/customers/{id}", app.customers);
    let resp = app.client.delete(url).bearer_auth(token()).send().await;
    assert_eq!(resp.unwrap().status(), 204);
}

async fn a_create_replays_whatever_changed_since(backend: Backend) {
    let app = TestApp::on(backend).await;
    let body = order_body(3, &[(1, 2), (4, 1)]);
    let (status, _, first) = outcome(app.order(&body, Some("then-1")).await).await;
    assert_eq!(status, 201, "{first}");

    app.patch_ok("/products/1", &json!({"price_cents": 1}))
        .await;
    app.patch_ok("/products/4", &json!({"stock": 0})).await;
    delete_customer(&app, 3).await;

    assert_eq!(
        outcome(app.order(&body, Some("then-1")).await).await,
        (201, true, first),
        "the key's outcome stands"
    );
    // The customer check still applies to every new key, and the key to every other request.
    problem(
        app.order(&body, Some("then-2")).await,
        404,
        "CUSTOMER_NOT_FOUND",
    )
    .await;
    let other = order_body(3, &[(1, 1)]);
    problem(
        app.order(&other, Some("then-1")).await,
        422,
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
    assert_eq!(app.count("orders").await, 1);
    assert_eq!(app.stock(1).await, 498);
}

async fn the_same_lines_in_another_order_are_the_same_request(backend: Backend) {
    let app = TestApp::on(backend).await;
    let (status, _, first) = outcome(
        app.order(&order_body(2, &[(4, 1), (1, 2)]), Some("set-1"))
            .await,
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let reordered = order_body(2, &[(1, 2), (4, 1)]);
    assert_eq!(
        outcome(app.order(&reordered, Some("set-1")).await).await,
        (201, true, first)
    );
    assert_eq!(app.stocks(&[1, 4]).await, [498, 24], "stock taken once");
    assert_eq!(app.count("orders").await, 1);
}

async fn a_confirmation_replays_after_the_order_changed(backend: Backend) {
    let app = TestApp::on(backend).await;
    let order = app.create_order(&[(1, 1)]).await;
    let id = order["id"].as_i64().unwrap();
    let (status, _, first) = outcome(app.confirm(id, "conf-1").await).await;
    assert_eq!(status, 200, "{first}");
    app.json_ok(app.cancel(id).await, 200).await;

    assert_eq!(
        outcome(app.confirm(id, "conf-1").await).await,
        (200, true, first)
    );
    problem(
        app.confirm(id, "conf-2").await,
        409,
        "ORDER_NOT_CONFIRMABLE",
    )
    .await;
}

/// The cancel's stock restore names its rows: a primary-key look-up on both engines, never a
/// scan of the catalogue.
async fn the_stock_restore_reads_only_its_rows(backend: Backend) {
    let sql = orders_api::products::repo::restore_sql(2);
    let time = "'2026-01-01 00:00:00'";
    reads_only_its_rows(
        backend,
        &literal(&sql, &["1", "1", "4", "1", time, "1", "4"]),
    )
    .await;
}

async fn the_stock_take_reads_only_its_rows(backend: Backend) {
    let sql = orders_api::products::repo::take_sql(2);
    let time = "'2026-01-01 00:00:00'";
    let cases = ["1", "1", "4", "1"];
    let args: Vec<&str> = cases
        .iter()
        .copied()
        .chain([time, "1", "4"])
        .chain(cases)
        .collect();
    reads_only_its_rows(backend, &literal(&sql, &args)).await;
}

/// `sql` with its placeholders replaced by `values`, in order.
fn literal(sql: &str, values: &[&str]) -> String {
    let sql = values
        .iter()
        .fold(sql.to_owned(), |s, v| s.replacen('?', v, 1));
    assert!(!sql.contains('?'), "{sql}");
    sql
}

/// The engine's plan for `sql` reads the products it names by their primary key, and no others.
async fn reads_only_its_rows(backend: Backend, sql: &str) {
    let app = TestApp::on(backend).await;
    match backend {
        Backend::MySql => {
            let mut conn = MySqlConnection::connect(&app.db.url).await.unwrap();
            let rows = sqlx::query(&format!("EXPLAIN {sql}"))
                .fetch_all(&mut conn)
                .await
                .unwrap();
            let plan: Vec<(String, Option<String>)> =
                rows.iter().map(|r| (r.get("type"), r.get("key"))).collect();
            assert_eq!(
                plan,
                [("range".to_owned(), Some("PRIMARY".to_owned()))],
                "{sql}"
            );
        }
        Backend::Sqlite => {
            let mut conn = SqliteConnection::connect(&app.db.url).await.unwrap();
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
            assert!(
                !plan.is_empty() && plan.iter().all(|step| step.3.contains("PRIMARY KEY")),
                "{plan:?}: {sql}"
            );
        }
    }
}

/// A second connection to the test database that holds row locks until dropped.
async fn lock_rows(app: &TestApp, statements: &[String]) -> MySqlConnection {
    let mut conn = MySqlConnection::connect(&app.db.url).await.unwrap();
    conn.execute("BEGIN").await.unwrap();
    for s in statements {
        conn.execute(s.as_str()).await.unwrap();
    }
    conn
}

/// A keyed retry whose rows another transaction holds is answered at once with the key's
/// outcome, not after every lock-wait time-out with a 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(mysql_tests), ignore = "needs TEST_MYSQL_URL (row locks)")]
async fn keyed_retries_are_answered_while_their_rows_are_locked() {
    let app = TestApp::on(Backend::MySql).await;
    let body = order_body(1, &[(1, 1), (2, 1)]);
    let (status, _, created) = outcome(app.order(&body, Some("busy-1")).await).await;
    assert_eq!(status, 201, "{created}");
    let id: i64 = serde_json::from_str::<serde_json::Value>(&created).unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, _, confirmed) = outcome(app.confirm(id, "busy-2").await).await;
    assert_eq!(status, 200, "{confirmed}");

    let holder = lock_rows(
        &app,
        &[
            "SELECT id FROM products WHERE id IN (1, 2) FOR UPDATE".to_owned(),
            format!("SELECT id FROM orders WHERE id = {id} FOR UPDATE"),
        ],
    )
    .await;
    let prompt = Duration::from_secs(2);
    let create = tokio::time::timeout(prompt, app.order(&body, Some("busy-1"))).await;
    let create = outcome(create.expect("the create replay waited on the locks")).await;
    assert_eq!(create, (201, true, created));
    let confirm = tokio::time::timeout(prompt, app.confirm(id, "busy-2")).await;
    let confirm = outcome(confirm.expect("the confirm replay waited on the locks")).await;
    assert_eq!(confirm, (200, true, confirmed));
    drop(holder);
}

/// A cancel locks its own order's products only: a lock held on another product, or an order
/// of another product being written, never delays it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(mysql_tests), ignore = "needs TEST_MYSQL_URL (row locks)")]
async fn a_cancel_waits_on_no_other_products_lock() {
    let app = TestApp::on(Backend::MySql).await;
    let mine = app.create_order(&[(1, 2), (4, 1)]).await;
    let other = app.create_order(&[(2, 1)]).await;
    let id = mine["id"].as_i64().unwrap();

    // Another transaction holds product 2 and is in the middle of writing an order of it.
    let holder = lock_rows(
        &app,
        &[
            "UPDATE products SET stock = stock - 1 WHERE id = 2".to_owned(),
            format!(
                "INSERT INTO order_items (order_id, product_id, qty, unit_price_cents, subtotal_cents) \
                 VALUES ({}, 3, 1, 1, 1)",
                other["id"]
            ),
        ],
    )
    .await;
    let cancel = tokio::time::timeout(
        Duration::from_secs(2),
        app.op(Method::POST, &format!("/orders/{id}/cancel")).send(),
    )
    .await
    .expect("the cancel waited on a lock of another product")
    .unwrap();
    assert_eq!(cancel.status(), 200);
    drop(holder);
    assert_eq!(app.stocks(&[1, 4]).await, [500, 25]);
}
