//! The OpenAPI document: what is served, what is committed, and what it promises.
//!
//! `UPDATE_OPENAPI=1 cargo nextest run -p customers-api openapi` rewrites the committed file.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::TestApp;

fn generated() -> Value {
    serde_json::to_value(customers_api::openapi()).expect("serialise the document")
}

#[tokio::test]
async fn the_served_document_is_the_generated_one_and_the_committed_one() {
    let app = TestApp::spawn().await;
    let served: Value = app
        .anon(Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    b2b_testkit::assert_openapi_current("customers-api", &served, &generated());
}

/// (method, path, security scheme, success status) of every route in the contract.
const CONTRACT: [(&str, &str, Option<&str>, &str); 9] = [
    ("post", "/auth/token", None, "200"),
    ("get", "/health", None, "200"),
    // Open, unless METRICS_TOKEN is set (then only that token: no 403).
    ("get", "/metrics", Some("metrics_token"), "200"),
    ("post", "/customers", Some("operator_jwt"), "201"),
    ("get", "/customers", Some("operator_jwt"), "200"),
    ("get", "/customers/{id}", Some("operator_jwt"), "200"),
    ("put", "/customers/{id}", Some("operator_jwt"), "200"),
    ("delete", "/customers/{id}", Some("operator_jwt"), "204"),
    (
        "get",
        "/internal/customers/{id}",
        Some("service_token"),
        "200",
    ),
];

#[test]
fn every_route_documents_its_credentials_and_responses() {
    let doc = generated();
    for (method, path, scheme, success) in CONTRACT {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.contains_key(success),
            "{method} {path} lacks {success}"
        );
        let schemes: Vec<&str> = op["security"]
            .as_array()
            .map(|s| {
                s.iter()
                    .flat_map(|r| r.as_object().unwrap().keys().map(String::as_str))
                    .collect()
            })
            .unwrap_or_default();
        match scheme {
            Some(s) => {
                assert_eq!(schemes, [s], "{method} {path}");
                let codes: &[&str] = if s == "metrics_token" {
                    &["401"]
                } else {
                    &["401", "403"]
                };
                for &code in codes {
                    assert!(responses.contains_key(code), "{method} {path} lacks {code}");
                }
            }
            None => assert!(schemes.is_empty(), "{method} {path} should be public"),
        }
    }
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert!(schemes.contains_key("operator_jwt") && schemes.contains_key("service_token"));
}

#[test]
fn every_operation_has_a_success_and_documented_problems() {
    let doc = generated();
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|c| c.starts_with('2')),
                "{method} {path} has no 2xx"
            );
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if secured {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} is secured but lacks 401"
                );
            }
            if op.get("requestBody").is_some() {
                for code in ["400", "413", "415"] {
                    assert!(
                        responses.contains_key(code),
                        "{method} {path} reads a body but lacks {code}"
                    );
                }
            }
            // (503 of /health is its own JSON body, not a problem)
            for (code, r) in responses
                .iter()
                .filter(|(c, _)| c.starts_with('4') || *c == "500")
            {
                assert!(
                    r["content"]["application/problem+json"].is_object(),
                    "{method} {path} {code}"
                );
            }
        }
    }
    assert_eq!(
        count,
        CONTRACT.len(),
        "an operation outside the contract, or one missing"
    );
}
