//! Conditional stock corrections (ISSUE 11, hole 9): product answers carry a strong `ETag` that
//! changes with every write, orders included, and `PATCH` with `If-Match` applies only to the
//! version the client read (412 otherwise, and nothing changes).

use b2b_testkit::Backend;
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_fields, on_each_backend, problem};

const PATH: &str = "/products/1";

fn etag_of(resp: &Response) -> String {
    let tag = resp.headers().get("etag").expect("an ETag header");
    tag.to_str().unwrap().to_owned()
}

impl TestApp {
    /// `GET /products/1`: the product and its ETag.
    async fn tagged(&self) -> (Value, String) {
        let resp = self.get(PATH).await;
        let tag = etag_of(&resp);
        (self.json_ok(resp, 200).await, tag)
    }

    async fn patch_if(&self, if_match: &str, body: &Value) -> Response {
        let req = self.op(Method::PATCH, PATH).header("if-match", if_match);
        req.json(body).send().await.expect("PATCH")
    }
}

on_each_backend!(
    the_etag_changes_with_every_write_orders_included,
    a_stale_if_match_is_412_and_changes_nothing,
    a_fresh_if_match_applies_and_answers_the_new_etag,
    if_match_star_and_lists,
    a_weak_tag_never_matches,
    a_malformed_if_match_is_400,
    an_order_between_the_read_and_the_correction_makes_it_412,
);

async fn the_etag_changes_with_every_write_orders_included(backend: Backend) {
    let app = TestApp::on(backend).await;
    let body = json!({"sku": "TAG-1", "name": "Tagged", "price_cents": 1, "stock": 9});
    let created = app.post("/products", &body).await;
    assert_eq!(etag_of(&created), "\"1\"", "POST answers an ETag");
    let id = app.json_ok(created, 201).await["id"].clone();
    let resp = app.get(&format!("/products/{id}")).await;
    assert_eq!(etag_of(&resp), "\"1\"");

    let (_, first) = app.tagged().await;
    assert!(
        first.starts_with('"') && first.ends_with('"'),
        "strong: {first}"
    );
    let order = app.create_order(&[(1, 2)]).await;
    let (_, after_order) = app.tagged().await;
    assert_ne!(after_order, first, "taking stock is a new version");
    let cancel = app.cancel(order["id"].as_i64().unwrap()).await;
    assert_eq!(cancel.status(), 200);
    let (_, after_cancel) = app.tagged().await;
    assert_ne!(
        after_cancel, after_order,
        "giving stock back is a new version"
    );
    let patched = app.patch(PATH, &json!({"name": "Renamed"})).await;
    let tag = etag_of(&patched);
    assert_eq!(
        app.tagged().await.1,
        tag,
        "PATCH answers the ETag GET then shows"
    );
    assert_ne!(tag, after_cancel);
}

async fn a_stale_if_match_is_412_and_changes_nothing(backend: Backend) {
    let app = TestApp::on(backend).await;
    let (_, stale) = app.tagged().await;
    app.patch_ok(PATH, &json!({"price_cents": 1300})).await;
    let (before, current) = app.tagged().await;

    let resp = app.patch_if(&stale, &json!({"stock": 1})).await;
    problem(resp, 412, "PRECONDITION_FAILED").await;
    assert_eq!(app.tagged().await, (before, current), "nothing changed");
}

async fn a_fresh_if_match_applies_and_answers_the_new_etag(backend: Backend) {
    let app = TestApp::on(backend).await;
    let (_, tag) = app.tagged().await;
    let resp = app.patch_if(&tag, &json!({"stock": 240})).await;
    let new_tag = etag_of(&resp);
    let patched = app.json_ok(resp, 200).await;
    assert_eq!(patched["stock"], 240);
    assert_ne!(new_tag, tag);
    assert_eq!(app.tagged().await, (patched, new_tag.clone()));
    // The tag just used is spent.
    let resp = app.patch_if(&tag, &json!({"stock": 1})).await;
    problem(resp, 412, "PRECONDITION_FAILED").await;
    // Without If-Match a patch works as it always did.
    assert_eq!(app.patch_ok(PATH, &json!({"stock": 7})).await["stock"], 7);
}

async fn if_match_star_and_lists(backend: Backend) {
    let app = TestApp::on(backend).await;
    assert_eq!(app.patch_if("*", &json!({"stock": 3})).await.status(), 200);
    let resp = app
        .op(Method::PATCH, "/products/999")
        .header("if-match", "*")
        .json(&json!({"stock": 3}))
        .send()
        .await
        .unwrap();
    problem(resp, 404, "PRODUCT_NOT_FOUND").await;

    let (_, tag) = app.tagged().await;
    let list = format!("\"999\", W/{tag}, {tag}");
    let resp = app.patch_if(&list, &json!({"stock": 4})).await;
    assert_eq!(resp.status(), 200, "one strong tag of the list matches");
    let resp = app.patch_if("\"999\", \"998\"", &json!({"stock": 5})).await;
    problem(resp, 412, "PRECONDITION_FAILED").await;
    assert_eq!(app.stock(1).await, 4);
}

async fn a_weak_tag_never_matches(backend: Backend) {
    let app = TestApp::on(backend).await;
    let (before, tag) = app.tagged().await;
    let resp = app
        .patch_if(&format!("W/{tag}"), &json!({"stock": 1}))
        .await;
    problem(resp, 412, "PRECONDITION_FAILED").await;
    assert_eq!(app.tagged().await, (before, tag));
}

async fn a_malformed_if_match_is_400(backend: Backend) {
    let app = TestApp::on(backend).await;
    let (before, tag) = app.tagged().await;
    let bare = tag.trim_matches('"').to_owned();
    for bad in [bare.as_str(), "\"1", "*, \"1\"", "w/\"1\"", ""] {
        let resp = app.patch_if(bad, &json!({"stock": 1})).await;
        let body = problem(resp, 400, "VALIDATION_ERROR").await;
        assert_eq!(error_fields(&body), ["if-match"], "{bad:?}");
    }
    assert_eq!(app.tagged().await, (before, tag), "nothing changed");
}

/// An operator reads 500, counts the shelf, and sends a correction while an order takes 2:
/// the correction is refused instead of erasing the order's units.
async fn an_order_between_the_read_and_the_correction_makes_it_412(backend: Backend) {
    let app = TestApp::on(backend).await;
    let (read, tag) = app.tagged().await;
    assert_eq!(read["stock"], 500);
    app.create_order(&[(1, 2)]).await;
    let resp = app.patch_if(&tag, &json!({"stock": 490})).await;
    problem(resp, 412, "PRECONDITION_FAILED").await;
    assert_eq!(app.stock(1).await, 498, "the order's units are still taken");

    // Racing the correction against orders: either it lands before them all, or it is refused;
    // units taken are never erased.
    let (_, tag) = app.tagged().await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let req = app
            .op(Method::POST, "/orders")
            .json(&json!({"customer_id": 1, "items": [{"product_id": 1, "qty": 1}]}));
        set.spawn(async move { (true, req.send().await.unwrap().status().as_u16()) });
    }
    let req = app
        .op(Method::PATCH, PATH)
        .header("if-match", tag)
        .json(&json!({"stock": 490}));
    set.spawn(async move { (false, req.send().await.unwrap().status().as_u16()) });
    let results = set.join_all().await;
    let orders = results.iter().filter(|(o, s)| *o && *s == 201).count() as i64;
    assert_eq!(orders, 4, "{results:?}");
    let patch = results.iter().find(|(o, _)| !o).unwrap().1;
    let stock = app.stock(1).await;
    // The tag was read before every order: the patch matches only if it ran before them all.
    match patch {
        200 => assert_eq!(stock, 490 - 4, "the orders took from the corrected stock"),
        412 => assert_eq!(stock, 498 - 4, "the correction wrote nothing"),
        other => panic!("PATCH answered {other}"),
    }
}
