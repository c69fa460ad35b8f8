//! The orchestration against the real services: its answers (SPEC §7) and what it leaves in
//! orders-api, on every backend.

use b2b_testkit::{Backend, SERVICE_TOKEN};
use serde_json::{Value, json};

use crate::helpers::{
    Answer, Apis, Orchestrator, SCARCE, WIDGET, keys, on_each_backend, operator_token,
    quick_policy, request,
};
use crate::proxy::{Action, Proxy, Seen};

on_each_backend!(
    success_is_201_with_the_documented_envelope,
    the_same_key_again_returns_the_same_order_and_takes_stock_once,
    concurrent_calls_with_one_key_make_one_order,
    the_same_key_with_other_items_is_422,
    unknown_customers_and_products_are_404,
    short_stock_keeps_nothing_and_the_same_key_retries,
    a_key_that_took_effect_answers_the_first_envelope_whatever_changed,
);

async fn success_is_201_with_the_documented_envelope(backend: Backend) {
    let apis = Apis::start(backend).await;
    let orch = apis.orchestrator().await;
    let price_5 = apis.product(5).await["price_cents"].as_i64().unwrap();
    let mut body = request(1, &[(WIDGET, 3), (5, 2)], "abc-123");
    body["correlation_id"] = json!("req-789");

    let a = orch.call(&body).await;

    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(keys(&a.body), ["correlationId", "data", "success"]);
    assert_eq!(a.body["success"], true);
    assert_eq!(a.body["correlationId"], "req-789");
    assert_eq!(a.header("x-correlation-id"), Some("req-789"));
    assert_eq!(a.header("content-type"), Some("application/json"));
    let data = &a.body["data"];
    assert_eq!(keys(data), ["customer", "order"]);
    let customer = &data["customer"];
    assert_eq!(keys(customer), ["email", "id", "name", "phone"]);
    assert_eq!(
        (&customer["id"], &customer["name"], &customer["email"]),
        (&json!(1), &json!("ACME Corp"), &json!("ops@acme.com"))
    );
    let order = a.order();
    assert_eq!(keys(order), ["id", "items", "status", "total_cents"]);
    assert_eq!(order["status"], "CONFIRMED");
    let expected_items = json!([
        {"product_id": WIDGET, "qty": 3, "unit_price_cents": 899, "subtotal_cents": 2697},
        {"product_id": 5, "qty": 2, "unit_price_cents": price_5, "subtotal_cents": 2 * price_5},
    ]);
    assert_eq!(order["items"], expected_items);
    assert_eq!(order["total_cents"], 2697 + 2 * price_5);

    let stored = apis.order(a.order_id()).await;
    assert_eq!(
        (
            &stored["status"],
            &stored["customer_id"],
            &stored["total_cents"]
        ),
        (&json!("CONFIRMED"), &json!(1), &order["total_cents"])
    );
    assert_eq!(apis.stock(WIDGET).await, 1000 - 3);
}

#[tokio::test]
async fn the_body_correlation_id_wins_over_the_header() {
    let apis = Apis::start(Backend::Sqlite).await;
    let orch = apis.orchestrator().await;
    let token = operator_token();
    let send = |body: Value, header: Option<&'static str>| {
        let mut req = orch.post().bearer_auth(&token).json(&body);
        if let Some(h) = header {
            req = req.header("X-Correlation-Id", h);
        }
        Answer::from(req)
    };

    let mut body = request(1, &[(WIDGET, 1)], "corr-1");
    body["correlation_id"] = json!("from-body");
    let a = send(body, Some("from-header")).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["correlationId"], "from-body");
    assert_eq!(a.header("x-correlation-id"), Some("from-body"));

    let a = send(request(1, &[(WIDGET, 1)], "corr-2"), Some("from-header")).await;
    assert_eq!(a.body["correlationId"], "from-header");
    assert_eq!(a.header("x-correlation-id"), Some("from-header"));

    // Neither: a new one, the same in the header and the body (failures too).
    let a = send(json!({"customer_id": 1}), None).await;
    let id = a.body["correlationId"].as_str().expect("a generated id");
    assert!(!id.is_empty());
    assert_eq!(a.header("x-correlation-id"), Some(id));
}

async fn the_same_key_again_returns_the_same_order_and_takes_stock_once(backend: Backend) {
    let apis = Apis::start(backend).await;
    let orch = apis.orchestrator().await;
    let body = request(2, &[(WIDGET, 4)], "again-1");

    let first = orch.call(&body).await;
    let second = orch.call(&body).await;

    assert_eq!(second.order_id(), first.order_id());
    assert_eq!(second.body["data"], first.body["data"]);
    assert_eq!(apis.stock(WIDGET).await, 1000 - 4);
    assert_eq!(apis.orders_of(2).await.len(), 1);
}

async fn concurrent_calls_with_one_key_make_one_order(backend: Backend) {
    let apis = Apis::start(backend).await;
    let orch = apis.orchestrator().await;
    let body = request(3, &[(WIDGET, 5), (SCARCE, 1)], "race-1");

    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (orch, body) = (orch.clone(), body.clone());
        calls.spawn(async move { orch.call(&body).await });
    }
    let answers = calls.join_all().await;

    let ids: Vec<i64> = answers.iter().map(|a| a.order_id()).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let orders = apis.orders_of(3).await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["status"], "CONFIRMED");
    assert_eq!(apis.stock(WIDGET).await, 1000 - 5);
    assert_eq!(apis.stock(SCARCE).await, 5 - 1);
}

async fn the_same_key_with_other_items_is_422(backend: Backend) {
    let apis = Apis::start(backend).await;
    let orch = apis.orchestrator().await;
    let first = orch.call(&request(1, &[(WIDGET, 1)], "reuse-1")).await;
    first.order_id();

    let other_items = orch.call(&request(1, &[(WIDGET, 2)], "reuse-1")).await;
    other_items.failure(422, "IDEMPOTENCY_KEY_REUSED");
    let other_customer = orch.call(&request(2, &[(WIDGET, 1)], "reuse-1")).await;
    other_customer.failure(422, "IDEMPOTENCY_KEY_REUSED");

    assert_eq!(apis.stock(WIDGET).await, 1000 - 1);
    assert_eq!(apis.orders_of(1).await.len(), 1);
    assert!(apis.orders_of(2).await.is_empty());
}

async fn unknown_customers_and_products_are_404(backend: Backend) {
    let apis = Apis::start(backend).await;
    let orch = apis.orchestrator().await;

    let a = orch.call(&request(999, &[(WIDGET, 1)], "nobody-1")).await;
    a.failure(404, "CUSTOMER_NOT_FOUND");

    let a = orch
        .call(&request(1, &[(WIDGET, 1), (999, 1)], "nothing-1"))
        .await;
    let error = a.failure(404, "PRODUCT_NOT_FOUND");
    assert_eq!(error["details"]["product_ids"], json!([999]), "{error}");

    assert!(apis.orders_of(1).await.is_empty());
    assert!(apis.orders_of(999).await.is_empty());
    assert_eq!(apis.stock(WIDGET).await, 1000);
}

async fn short_stock_keeps_nothing_and_the_same_key_retries(backend: Backend) {
    let apis = Apis::start(backend).await;
    let orch = apis.orchestrator().await;
    let body = request(4, &[(WIDGET, 2), (SCARCE, 6)], "short-1");

    let a = orch.call(&body).await;
    let error = a.failure(409, "INSUFFICIENT_STOCK");
    assert_eq!(error["details"]["product_ids"], json!([SCARCE]), "{error}");
    assert!(apis.orders_of(4).await.is_empty());
    assert_eq!(apis.stock(WIDGET).await, 1000);
    assert_eq!(apis.stock(SCARCE).await, 5);

    apis.set_stock(SCARCE, 10).await;
    let a = orch.call(&body).await;
    assert_eq!(a.order()["status"], "CONFIRMED");
    assert_eq!(a.order()["total_cents"], 2 * 899 + 6 * 289_000);
    assert_eq!(apis.stock(SCARCE).await, 4);
    assert_eq!(apis.stock(WIDGET).await, 1000 - 2);
    assert_eq!(apis.orders_of(4).await.len(), 1);
}

/// SPEC §11: a retry answers with the key's outcome, whatever changed since; the customer check
/// still applies to every new key.
async fn a_key_that_took_effect_answers_the_first_envelope_whatever_changed(backend: Backend) {
    let apis = Apis::start(backend).await;
    let orch = apis.orchestrator().await;
    let mut body = request(5, &[(SCARCE, 2), (WIDGET, 1)], "then-1");
    body["correlation_id"] = json!("then-corr");
    let first = orch.call(&body).await;
    let order_id = first.order_id();

    apis.delete_customer(5).await;
    apis.patch_product(WIDGET, json!({"price_cents": 1})).await;
    apis.patch_product(SCARCE, json!({"stock": 0})).await;
    let again = orch.call(&body).await;
    assert_eq!((again.status, &again.body), (201, &first.body));
    // An operator cancels it: the call with this key still took effect, as it answered then.
    apis.cancel(order_id).await;
    let again = orch.call(&body).await;
    assert_eq!((again.status, &again.body), (201, &first.body));

    let a = orch.call(&request(5, &[(WIDGET, 1)], "then-2")).await;
    a.failure(404, "CUSTOMER_NOT_FOUND");
    let a = orch.call(&request(5, &[(WIDGET, 1)], "then-1")).await;
    a.failure(422, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(apis.orders_of(5).await.len(), 1);
    assert_eq!(apis.stock(WIDGET).await, 1000);
}

#[tokio::test]
async fn credentials_are_checked_before_anything_else() {
    let apis = Apis::start(Backend::Sqlite).await;
    let orch = apis.orchestrator().await;
    let body = request(1, &[(WIDGET, 1)], "auth-1");

    for req in [
        orch.post().json(&body),
        orch.post().bearer_auth("not-a-jwt").json(&body),
    ] {
        let a = Answer::from(req).await;
        a.failure(401, "UNAUTHORIZED");
        assert_eq!(a.header("www-authenticate"), Some("Bearer"));
    }
    let a = Answer::from(orch.post().bearer_auth(SERVICE_TOKEN).json(&body)).await;
    a.failure(403, "FORBIDDEN");

    assert!(apis.orders_of(1).await.is_empty());
}

/// The `field`s of a 400's `details.errors`, in order.
fn error_fields(a: &Answer) -> Vec<String> {
    let error = a.failure(400, "VALIDATION_ERROR");
    let errors = error["details"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {error}"));
    errors
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect()
}

#[tokio::test]
async fn invalid_bodies_are_400_listing_every_field() {
    let apis = Apis::start(Backend::Sqlite).await;
    let orch = apis.orchestrator().await;

    let a = orch
        .call(&json!({"customer_id": "1", "items": [], "idempotency_key": "a b"}))
        .await;
    assert_eq!(
        error_fields(&a),
        ["customer_id", "items", "idempotency_key"]
    );
    let a = orch.call(&json!({})).await;
    assert_eq!(
        error_fields(&a),
        ["customer_id", "items", "idempotency_key"]
    );
    let lines = json!([{"product_id": 2, "qty": 0}, {"product_id": 3, "qty": 10_001}]);
    let a = orch
        .call(&json!({"customer_id": 0, "items": lines, "idempotency_key": "k"}))
        .await;
    assert_eq!(
        error_fields(&a),
        ["customer_id", "items[0].qty", "items[1].qty"]
    );
    let a = orch
        .call(&request(1, &[(2, 1), (3, 1), (2, 1)], "k-0"))
        .await;
    assert_eq!(error_fields(&a), ["items[2].product_id"]);

    let mut unknown = request(1, &[(WIDGET, 1)], "k-1");
    unknown["coupon"] = json!("FREE");
    let a = orch.call(&unknown).await;
    a.failure(400, "VALIDATION_ERROR");

    let token = operator_token();
    let malformed = orch
        .post()
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"customer_id\": 1,");
    let a = Answer::from(malformed).await;
    a.failure(400, "VALIDATION_ERROR");
    let text = orch.post().bearer_auth(&token).body("customer_id=1");
    Answer::from(text)
        .await
        .failure(415, "UNSUPPORTED_MEDIA_TYPE");

    assert!(apis.orders_of(1).await.is_empty());
}

#[tokio::test]
async fn every_call_carries_the_correlation_id_the_service_token_and_the_key() {
    let apis = Apis::start(Backend::Sqlite).await;
    let customers = Proxy::spawn(&apis.customers, |_, _, _| Action::Forward).await;
    let orders = Proxy::spawn(&apis.orders, |_, _, _| Action::Forward).await;
    let orch = Orchestrator::spawn(&customers.base, &orders.base, quick_policy()).await;
    let mut body = request(1, &[(WIDGET, 1)], "abc-123");
    body["correlation_id"] = json!("req-789");

    orch.call(&body).await.order_id();

    let seen: Vec<Seen> = customers.log().into_iter().chain(orders.log()).collect();
    assert_eq!(seen.len(), 3, "look-up, create, confirm: {seen:?}");
    let service = format!("Bearer {SERVICE_TOKEN}");
    for s in &seen {
        let header = |name: &str| s.headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(header("x-correlation-id"), Some("req-789"), "{}", s.path);
        assert_eq!(
            header("authorization"),
            Some(service.as_str()),
            "{}",
            s.path
        );
    }
    assert_eq!(seen[1].headers["idempotency-key"], "abc-123");
    assert!(seen[2].path.ends_with("/confirm"));
    assert_eq!(seen[2].headers["x-idempotency-key"], "abc-123");
}
