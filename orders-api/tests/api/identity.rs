//! SKUs on every backend alike: unique without regard to case, and to case only; and a SKU
//! whose lower case is longer than itself still fits (ISSUE 11, holes 5 and 6).

use b2b_testkit::Backend;
use serde_json::json;

use crate::helpers::{TestApp, ids, on_each_backend, problem};

on_each_backend!(
    an_accent_in_a_sku_is_another_sku,
    a_sku_whose_lower_case_is_longer_is_stored,
);

async fn an_accent_in_a_sku_is_another_sku(backend: Backend) {
    let app = TestApp::on(backend).await;
    let plain = app.create_product("SKU-E", 100, 1).await;
    let accented = app.create_product("SKU-É", 100, 1).await;
    assert_ne!(plain["id"], accented["id"]);
    // Full width and a soft hyphen are other characters too.
    app.create_product("ＳKU-E", 100, 1).await;
    app.create_product("SKU\u{ad}-E", 100, 1).await;

    for taken in ["sku-e", "SKU-E", "sku-é", "SKU-É"] {
        let body = json!({"sku": taken, "name": "Copy", "price_cents": 1, "stock": 1});
        problem(app.post("/products", &body).await, 409, "SKU_TAKEN").await;
    }
    assert_eq!(app.count("products").await, 14, "nothing else was written");

    // Search still ignores case on every backend.
    let found = app.get_ok("/products?search=sku-%C3%A9").await;
    assert!(ids(&found).contains(&accented["id"].as_i64().unwrap()));
}

async fn a_sku_whose_lower_case_is_longer_is_stored(backend: Backend) {
    let app = TestApp::on(backend).await;
    // 64 characters, the limit, lower-casing to 128.
    let sku = "İ".repeat(64);
    let created = app.create_product(&sku, 100, 1).await;
    assert_eq!(created["sku"], sku.as_str());
    let again = json!({"sku": sku, "name": "x", "price_cents": 1, "stock": 1});
    problem(app.post("/products", &again).await, 409, "SKU_TAKEN").await;
    let wide =
        json!({"sku": "𝔸".repeat(64), "name": "𝔹".repeat(255), "price_cents": 1, "stock": 1});
    let resp = app.post("/products", &wide).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
}
