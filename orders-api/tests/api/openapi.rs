//! The OpenAPI document: what is served, what is committed, and what it promises.
//!
//! `UPDATE_OPENAPI=1 cargo nextest run -p orders-api openapi` rewrites the committed file.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::TestApp;

fn generated() -> Value {
    serde_json::to_value(orders_api::openapi()).expect("serialise the document")
}

#[tokio::test]
async fn the_served_document_is_the_generated_one_and_the_committed_one() {
    let app = TestApp::spawn().await;
    let resp = app.anon(Method::GET, "/openapi.json").send().await.unwrap();
    let served: Value = app.json_ok(resp, 200).await;
    b2b_testkit::assert_openapi_current("orders-api", &served, &generated());
}

const OPERATOR: &[&str] = &["operator_jwt"];
const EITHER: &[&str] = &["operator_jwt", "service_token"];
/// Open, unless METRICS_TOKEN is set.
const METRICS: &[&str] = &["metrics_token"];

/// (method, path, accepted credentials, success status) of every route in the contract.
const CONTRACT: [(&str, &str, &[&str], &str); 11] = [
    ("get", "/health", &[], "200"),
    ("get", "/metrics", METRICS, "200"),
    ("post", "/products", OPERATOR, "201"),
    ("get", "/products", OPERATOR, "200"),
    ("get", "/products/{id}", OPERATOR, "200"),
    ("patch", "/products/{id}", OPERATOR, "200"),
    ("post", "/orders", EITHER, "201"),
    ("get", "/orders", EITHER, "200"),
    ("get", "/orders/{id}", EITHER, "200"),
    ("post", "/orders/{id}/confirm", EITHER, "200"),
    ("post", "/orders/{id}/cancel", EITHER, "200"),
];

#[test]
fn every_route_documents_its_credentials_and_responses() {
    let doc = generated();
    let mut operations = 0;
    for item in doc["paths"].as_object().unwrap().values() {
        operations += item.as_object().unwrap().len();
    }
    assert_eq!(
        operations,
        CONTRACT.len(),
        "an operation outside the contract, or one missing"
    );
    for (method, path, schemes, success) in CONTRACT {
        let op = &doc["paths"][path][method];
        let responses = op["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path}"));
        assert!(
            responses.contains_key(success),
            "{method} {path} lacks {success}"
        );
        let documented: Vec<&str> = op["security"]
            .as_array()
            .map(|s| {
                s.iter()
                    .flat_map(|r| r.as_object().unwrap().keys().map(String::as_str))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(documented, schemes, "{method} {path}");
        let mut expected = vec![];
        if !schemes.is_empty() {
            expected.extend(["401", "500"]);
        }
        if schemes == OPERATOR {
            expected.push("403");
        }
        if op.get("requestBody").is_some() {
            expected.extend(["400", "413", "415"]);
        }
        for code in expected {
            assert!(responses.contains_key(code), "{method} {path} lacks {code}");
            let problem = &responses[code]["content"]["application/problem+json"];
            assert!(
                problem.is_object(),
                "{method} {path} {code} is not a problem"
            );
        }
    }
    let confirm = &doc["paths"]["/orders/{id}/confirm"]["post"];
    let params = confirm["parameters"].as_array().unwrap();
    let key = params
        .iter()
        .find(|p| p["name"] == "X-Idempotency-Key")
        .expect("key documented");
    assert_eq!(
        (&key["in"], &key["required"]),
        (&"header".into(), &true.into())
    );
}

/// Swagger UI's "Try it out" picks an operation by its id: duplicates run the wrong route.
#[tokio::test]
async fn operation_ids_are_unique_and_the_docs_page_stays_offline() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .anon(Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| {
            op["operationId"]
                .as_str()
                .expect("every operation has an id")
        })
        .collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all, "duplicate operation ids: {ids:?}");
    // Off localhost, Swagger UI would send the spec's URL to an online validator.
    let init = app
        .anon(Method::GET, "/docs/swagger-initializer.js")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains(r#""validatorUrl": "none""#), "{init}");
}
