//! Products: the catalogue and its stock, for operators only.

use b2b_testkit::{Backend, SERVICE_TOKEN};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_fields, ids, on_each_backend, pick, problem};

on_each_backend!(products_are_created_read_and_patched);

async fn products_are_created_read_and_patched(backend: Backend) {
    let app = TestApp::on(backend).await;
    let created = app.create_product("BOLT-M10", 1599, 40).await;
    let fields = ["sku", "name", "price_cents", "stock"];
    let expected =
        json!({"sku": "BOLT-M10", "name": "Product BOLT-M10", "price_cents": 1599, "stock": 40});
    assert_eq!(pick(&created, &fields), expected);
    let path = format!("/products/{}", created["id"]);
    assert_eq!(app.get_ok(&path).await, created);

    let patched = app.patch_ok(&path, &json!({"name": "Bolts M10"})).await;
    let expected =
        json!({"sku": "BOLT-M10", "name": "Bolts M10", "price_cents": 1599, "stock": 40});
    assert_eq!(pick(&patched, &fields), expected);
    let patched = app
        .patch_ok(&path, &json!({"price_cents": 0, "stock": 7}))
        .await;
    let expected = json!({"sku": "BOLT-M10", "name": "Bolts M10", "price_cents": 0, "stock": 7});
    assert_eq!(
        pick(&patched, &fields),
        expected,
        "a free product is allowed"
    );
    assert_eq!(app.get_ok(&path).await, patched);

    let taken = json!({"sku": "BOLT-M10", "name": "Other", "price_cents": 1, "stock": 1});
    problem(app.post("/products", &taken).await, 409, "SKU_TAKEN").await;
}

#[tokio::test]
async fn unknown_products_are_404() {
    let app = TestApp::spawn().await;
    problem(app.get("/products/999").await, 404, "PRODUCT_NOT_FOUND").await;
    let resp = app.patch("/products/999", &json!({"stock": 1})).await;
    problem(resp, 404, "PRODUCT_NOT_FOUND").await;
    let body = problem(app.get("/products/abc").await, 400, "VALIDATION_ERROR").await;
    assert_eq!(error_fields(&body), ["id"]);
}

#[tokio::test]
async fn invalid_products_list_every_failing_field() {
    let app = TestApp::spawn().await;
    let bad = json!({"sku": "", "name": "x".repeat(256), "price_cents": -1, "stock": -5, "colour": "red"});
    let body = problem(app.post("/products", &bad).await, 400, "VALIDATION_ERROR").await;
    assert_eq!(
        error_fields(&body),
        ["sku", "name", "price_cents", "stock", "colour"]
    );
    let missing = problem(
        app.post("/products", &json!({})).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(
        error_fields(&missing),
        ["sku", "name", "price_cents", "stock"]
    );
    let long_sku = json!({"sku": "S".repeat(65), "name": "n", "price_cents": 1, "stock": 1});
    let body = problem(
        app.post("/products", &long_sku).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(error_fields(&body), ["sku"]);
    assert_eq!(app.count("products").await, 10, "nothing was written");
}

#[tokio::test]
async fn patches_cannot_change_the_sku_or_go_negative() {
    let app = TestApp::spawn().await;
    let before = app.get_ok("/products/1").await;
    for (body, field) in [
        (json!({"sku": "NEW-SKU"}), "sku"),
        (json!({"stock": -1}), "stock"),
        (json!({"price_cents": -100}), "price_cents"),
        (json!({"name": ""}), "name"),
        (json!({"name": null}), "name"),
        (json!({"stock": "12"}), "stock"),
        (json!({"weight": 3}), "weight"),
    ] {
        let body = problem(
            app.patch("/products/1", &body).await,
            400,
            "VALIDATION_ERROR",
        )
        .await;
        assert_eq!(error_fields(&body), [field]);
    }
    let resp = app
        .patch("/products/1", &json!({"sku": "NEW", "stock": 3}))
        .await;
    problem(resp, 400, "VALIDATION_ERROR").await;
    assert_eq!(app.get_ok("/products/1").await, before);
}

#[tokio::test]
async fn malformed_or_non_json_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let resp = app
        .op(Method::POST, "/products")
        .header("content-type", "application/json")
        .body("{\"sku\": ")
        .send()
        .await
        .unwrap();
    let body = problem(resp, 400, "MALFORMED_JSON").await;
    assert!(body.get("errors").is_none());
    let resp = app
        .op(Method::POST, "/products")
        .body("sku=A")
        .send()
        .await
        .unwrap();
    problem(resp, 415, "UNSUPPORTED_MEDIA_TYPE").await;
}

#[tokio::test]
async fn the_list_searches_sku_and_name_without_regard_to_case() {
    let app = TestApp::spawn().await;
    let all = app.get_ok("/products").await;
    assert_eq!(ids(&all), (1..=10).collect::<Vec<_>>());
    assert!(all["next_cursor"].is_null());

    let by_sku = app.get_ok("/products?search=sku-01").await;
    assert_eq!(ids(&by_sku), [10]);
    let by_name = app.get_ok("/products?search=GLOVES").await;
    assert_eq!(ids(&by_name), [2]);
    let none = app.get_ok("/products?search=%25").await;
    assert_eq!(
        ids(&none),
        Vec::<i64>::new(),
        "% is literal, not a wildcard"
    );
}

#[tokio::test]
async fn the_list_is_paged_by_cursor() {
    let app = TestApp::spawn().await;
    let mut seen = Vec::new();
    let mut path = "/products?limit=3".to_owned();
    loop {
        let page: Value = app.get_ok(&path).await;
        assert!(ids(&page).len() <= 3);
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/products?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, (1..=10).collect::<Vec<_>>());

    for bad in ["limit=0", "limit=101", "limit=ten", "cursor=not-a-cursor"] {
        let resp = app.get(&format!("/products?{bad}")).await;
        let body = problem(resp, 400, "VALIDATION_ERROR").await;
        assert_eq!(
            error_fields(&body),
            [bad.split('=').next().unwrap()],
            "{bad}"
        );
    }
}

#[tokio::test]
async fn only_operators_reach_products() {
    let app = TestApp::spawn().await;
    let body = json!({"sku": "X-1", "name": "x", "price_cents": 1, "stock": 1});
    let routes = [
        (Method::GET, "/products"),
        (Method::GET, "/products/1"),
        (Method::POST, "/products"),
        (Method::PATCH, "/products/1"),
    ];
    for (method, path) in routes {
        let resp = app
            .anon(method.clone(), path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let www = resp.headers().get("www-authenticate").cloned();
        problem(resp, 401, "UNAUTHORIZED").await;
        assert_eq!(www.unwrap(), "Bearer", "{method} {path}");

        let resp = app
            .anon(method.clone(), path)
            .bearer_auth(SERVICE_TOKEN)
            .json(&body);
        problem(resp.send().await.unwrap(), 403, "FORBIDDEN").await;

        let resp = app
            .anon(method.clone(), path)
            .bearer_auth("not-a-token")
            .json(&body);
        problem(resp.send().await.unwrap(), 401, "UNAUTHORIZED").await;
    }
    assert_eq!(app.count("products").await, 10);
    assert_eq!(app.stock(1).await, 500, "the PATCH did not go through");
}
