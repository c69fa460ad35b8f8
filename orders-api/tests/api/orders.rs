//! Orders: creation (all lines or none), reads, filters and pages, and who may call.

use b2b_testkit::{Backend, SERVICE_TOKEN};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    SCARCE, TestApp, error_fields, ids, on_each_backend, order_body, problem, token,
};

on_each_backend!(
    an_order_captures_prices_and_takes_stock,
    a_short_line_rolls_every_line_back,
    orders_are_filtered_by_status_customer_and_time,
);

async fn an_order_captures_prices_and_takes_stock(backend: Backend) {
    let app = TestApp::on(backend).await;
    // Lines in any order; the order lists them by product.
    let resp = app.order(&order_body(2, &[(4, 2), (1, 3)]), None).await;
    let order = app.json_ok(resp, 201).await;
    assert_eq!(order["customer_id"], 2);
    assert_eq!(order["status"], "CREATED");
    assert_eq!(
        order["items"],
        json!([
            {"product_id": 1, "qty": 3, "unit_price_cents": 1299, "subtotal_cents": 3897},
            {"product_id": 4, "qty": 2, "unit_price_cents": 45900, "subtotal_cents": 91800},
        ])
    );
    assert_eq!(order["total_cents"], 3897 + 91800);
    assert!(order["confirmed_at"].is_null() && order["canceled_at"].is_null());
    let created_at = order["created_at"].as_str().unwrap();
    assert!(
        DateTime::parse_from_rfc3339(created_at).is_ok(),
        "{created_at}"
    );
    assert_eq!(app.stocks(&[1, 4]).await, [497, 23]);

    let id = order["id"].as_i64().unwrap();
    assert_eq!(app.order_by_id(id).await, order);

    // A later price change does not touch the order; the next order pays the new price.
    app.patch_ok("/products/1", &json!({"price_cents": 1500}))
        .await;
    assert_eq!(app.order_by_id(id).await, order);
    let next = app.create_order(&[(1, 2)]).await;
    assert_eq!(
        (&next["items"][0]["unit_price_cents"], &next["total_cents"]),
        (&json!(1500), &json!(3000))
    );
    assert_eq!(app.stock(1).await, 495);
}

async fn a_short_line_rolls_every_line_back(backend: Backend) {
    let app = TestApp::on(backend).await;
    let before = app.stocks(&[1, 4, SCARCE]).await;
    let short = order_body(1, &[(1, 2), (SCARCE, 6), (4, 26)]);
    let body = problem(app.order(&short, None).await, 409, "INSUFFICIENT_STOCK").await;
    assert_eq!(body["product_ids"], json!([4, SCARCE]));
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains('4') && detail.contains("10"), "{detail}");
    assert_eq!(
        app.stocks(&[1, 4, SCARCE]).await,
        before,
        "no line kept its stock"
    );
    assert_eq!(app.count("orders").await, 0);
    assert_eq!(app.count("order_items").await, 0);

    // Exactly the stock there is can be taken.
    app.create_order(&[(SCARCE, 5)]).await;
    assert_eq!(app.stock(SCARCE).await, 0);
    let resp = app.order(&order_body(1, &[(SCARCE, 1)]), None).await;
    problem(resp, 409, "INSUFFICIENT_STOCK").await;
}

#[tokio::test]
async fn unknown_products_are_named_and_nothing_is_taken() {
    let app = TestApp::spawn().await;
    let body = order_body(1, &[(1, 1), (999, 1), (998, 2)]);
    let body = problem(app.order(&body, None).await, 404, "PRODUCT_NOT_FOUND").await;
    assert_eq!(body["product_ids"], json!([998, 999]));
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("998") && detail.contains("999"), "{detail}");
    assert_eq!(app.stock(1).await, 500);
    assert_eq!(app.count("orders").await, 0);
}

#[tokio::test]
async fn unknown_or_deleted_customers_are_404() {
    let app = TestApp::spawn().await;
    let resp = app.order(&order_body(999, &[(1, 1)]), None).await;
    let body = problem(resp, 404, "CUSTOMER_NOT_FOUND").await;
    assert!(body["detail"].as_str().unwrap().contains("999"));

    let url = format!("{}/customers/5", app.customers);
    let delete = app.client.delete(url).bearer_auth(token());
    let deleted = delete.send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let resp = app.order(&order_body(5, &[(1, 1)]), None).await;
    problem(resp, 404, "CUSTOMER_NOT_FOUND").await;
    assert_eq!(app.stock(1).await, 500);
    assert_eq!(app.count("orders").await, 0);
}

#[tokio::test]
async fn invalid_orders_list_every_failing_field() {
    let app = TestApp::spawn().await;
    let many: Vec<(i64, i64)> = (1..=101).map(|p| (p, 1)).collect();
    let cases = [
        (json!({"customer_id": 1, "items": []}), vec!["items"]),
        (order_body(1, &many), vec!["items"]),
        (order_body(1, &[(1, 0)]), vec!["items[0].qty"]),
        (order_body(1, &[(1, 10_001)]), vec!["items[0].qty"]),
        (
            order_body(1, &[(1, 1), (2, 1), (1, 2)]),
            vec!["items[2].product_id"],
        ),
        (
            order_body(0, &[(0, 1)]),
            vec!["customer_id", "items[0].product_id"],
        ),
        (
            json!({"customer_id": 1, "items": [{"product_id": 1, "qty": 1}], "note": "x"}),
            vec!["note"],
        ),
        (
            json!({"customer_id": 1, "items": [{"product_id": 1, "qty": 1, "price": 1}]}),
            vec!["items[0].price"],
        ),
        (
            json!({"customer_id": "1", "items": [{"qty": 1.5}]}),
            vec!["customer_id", "items[0].product_id", "items[0].qty"],
        ),
        (json!({}), vec!["customer_id", "items"]),
    ];
    for (body, fields) in cases {
        let problem = problem(app.order(&body, None).await, 400, "VALIDATION_ERROR").await;
        assert_eq!(error_fields(&problem), fields, "{body}");
    }
    let resp = app
        .op(Method::POST, "/orders")
        .header("content-type", "application/json")
        .body("{\"customer_id\": 1, \"items\": [")
        .send()
        .await
        .unwrap();
    let body = problem(resp, 400, "MALFORMED_JSON").await;
    assert!(body.get("errors").is_none());
    assert_eq!(app.count("orders").await, 0);
    assert_eq!(app.stock(1).await, 500);
}

#[tokio::test]
async fn oversized_or_non_json_orders_are_refused() {
    let app = TestApp::spawn().await;
    let mut body = order_body(1, &[(1, 1)]);
    body["padding"] = "x".repeat(70 * 1024).into();
    problem(app.order(&body, None).await, 413, "PAYLOAD_TOO_LARGE").await;
    let text = order_body(1, &[(1, 1)]).to_string();
    let req = app.op(Method::POST, "/orders").body(text);
    let resp = req
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    problem(resp, 415, "UNSUPPORTED_MEDIA_TYPE").await;
    assert_eq!(app.count("orders").await, 0);
}

#[tokio::test]
async fn the_largest_orders_are_accepted() {
    let app = TestApp::spawn().await;
    app.patch_ok("/products/1", &json!({"stock": 10_000})).await;
    app.create_order(&[(1, 10_000)]).await;
    assert_eq!(app.stock(1).await, 0);

    let mut lines: Vec<(i64, i64)> = (2..=10).map(|p| (p, 1)).collect();
    for n in 0..91 {
        let product = app.create_product(&format!("BULK-{n}"), 100, 1).await;
        lines.push((product["id"].as_i64().unwrap(), 1));
    }
    let order = app.create_order(&lines).await;
    assert_eq!(order["items"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn unknown_orders_are_404() {
    let app = TestApp::spawn().await;
    problem(app.get("/orders/999").await, 404, "ORDER_NOT_FOUND").await;
    let body = problem(app.get("/orders/0").await, 400, "VALIDATION_ERROR").await;
    assert_eq!(error_fields(&body), ["id"]);
}

async fn listed(app: &TestApp, query: String) -> Vec<i64> {
    ids(&app.get_ok(&format!("/orders?{query}")).await)
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

async fn orders_are_filtered_by_status_customer_and_time(backend: Backend) {
    let app = TestApp::on(backend).await;
    let hour = chrono::Duration::hours(1);
    let first = app.create_order(&[(1, 1)]).await;
    app.clock.advance(hour);
    let resp = app.order(&order_body(2, &[(2, 1)]), None).await;
    let second = app.json_ok(resp, 201).await;
    app.clock.advance(hour);
    let third = app.create_order(&[(3, 1)]).await;
    let [a, b, c] = [&first, &second, &third].map(|o| o["id"].as_i64().unwrap());
    assert_eq!(app.confirm(b, "filter-confirm").await.status(), 200);
    assert_eq!(app.cancel(c).await.status(), 200);

    let t0: DateTime<Utc> = first["created_at"].as_str().unwrap().parse().unwrap();
    let half = chrono::Duration::minutes(30);
    let list = |q: String| listed(&app, q);
    assert_eq!(list(String::new()).await, [a, b, c]);
    assert_eq!(list("status=CREATED".into()).await, [a]);
    assert_eq!(list("status=CONFIRMED".into()).await, [b]);
    assert_eq!(list("status=CANCELED".into()).await, [c]);
    assert_eq!(list("customer_id=1".into()).await, [a, c]);
    assert_eq!(list("customer_id=1&status=CANCELED".into()).await, [c]);
    assert_eq!(list("customer_id=3".into()).await, Vec::<i64>::new());
    assert_eq!(list(format!("from={}", stamp(t0 + half))).await, [b, c]);
    assert_eq!(
        list(format!("to={}", stamp(t0 + hour + half))).await,
        [a, b]
    );
    let window = format!("from={}&to={}", stamp(t0 + half), stamp(t0 + hour + half));
    assert_eq!(list(window).await, [b]);
    // Both bounds are inclusive.
    let exact = format!("from={}&to={}", stamp(t0 + hour), stamp(t0 + hour));
    assert_eq!(list(exact).await, [b]);

    // Pages carry the lines of their orders.
    let page = app.get_ok("/orders?status=CONFIRMED").await;
    assert_eq!(page["data"][0], app.order_by_id(b).await);
    assert_eq!(page["data"][0]["items"][0]["product_id"], 2);
}

#[tokio::test]
async fn bad_filters_are_400() {
    let app = TestApp::spawn().await;
    let resp = app
        .get("/orders?status=shipped&customer_id=0&from=yesterday&to=2026-13-01")
        .await;
    let body = problem(resp, 400, "VALIDATION_ERROR").await;
    let mut fields = error_fields(&body);
    fields.sort();
    assert_eq!(fields, ["customer_id", "from", "status", "to"]);
    for bad in ["limit=0", "limit=101", "cursor=bm90LWEtY3Vyc29y"] {
        let body = problem(
            app.get(&format!("/orders?{bad}")).await,
            400,
            "VALIDATION_ERROR",
        )
        .await;
        assert_eq!(error_fields(&body).len(), 1, "{bad}");
    }
}

#[tokio::test]
async fn pages_are_stable_while_orders_are_added() {
    let app = TestApp::spawn().await;
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(app.create_order(&[(1, 1)]).await["id"].as_i64().unwrap());
    }
    let first = app.get_ok("/orders?limit=2").await;
    assert_eq!(ids(&first), made[..2]);
    // An order made between two pages shows up at the end, nothing repeats or goes missing.
    made.push(app.create_order(&[(2, 1)]).await["id"].as_i64().unwrap());
    let mut seen = ids(&first);
    let mut cursor = first["next_cursor"].as_str().unwrap().to_owned();
    loop {
        let page: Value = app
            .get_ok(&format!("/orders?limit=2&cursor={cursor}"))
            .await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, made);
}

#[tokio::test]
async fn order_routes_take_an_operator_or_a_service() {
    let app = TestApp::spawn().await;
    let resp = app
        .service(Method::POST, "/orders")
        .json(&order_body(1, &[(1, 2)]))
        .send()
        .await
        .unwrap();
    let order = app.json_ok(resp, 201).await;
    let id = order["id"].as_i64().unwrap();
    let get = app
        .service(Method::GET, &format!("/orders/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(app.json_ok(get, 200).await, order);
    let list = app.service(Method::GET, "/orders").send().await.unwrap();
    assert_eq!(ids(&app.json_ok(list, 200).await), [id]);
    let confirm = app
        .service(Method::POST, &format!("/orders/{id}/confirm"))
        .header("X-Idempotency-Key", "svc-1")
        .send()
        .await
        .unwrap();
    assert_eq!(app.json_ok(confirm, 200).await["status"], "CONFIRMED");
    let cancel = app
        .service(Method::POST, &format!("/orders/{id}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(app.json_ok(cancel, 200).await["status"], "CANCELED");

    let other = app.create_order(&[(1, 1)]).await;
    let other = other["id"].as_i64().unwrap();
    let routes = [
        (Method::POST, "/orders".to_owned()),
        (Method::GET, "/orders".to_owned()),
        (Method::GET, format!("/orders/{other}")),
        (Method::POST, format!("/orders/{other}/confirm")),
        (Method::POST, format!("/orders/{other}/cancel")),
    ];
    for (method, path) in routes {
        for auth in [None, Some("wrong-token"), Some(&SERVICE_TOKEN[1..])] {
            let mut req = app
                .anon(method.clone(), &path)
                .header("X-Idempotency-Key", "anon-1");
            if let Some(t) = auth {
                req = req.bearer_auth(t);
            }
            let resp = req.json(&order_body(1, &[(1, 1)])).send().await.unwrap();
            problem(resp, 401, "UNAUTHORIZED").await;
        }
    }
    assert_eq!(app.order_by_id(other).await["status"], "CREATED");
    assert_eq!(app.stock(1).await, 499, "only the live order holds stock");
}
