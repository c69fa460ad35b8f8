//! The OpenAPI document: what is served, what is committed, and what it promises.
//!
//! `UPDATE_OPENAPI=1 cargo nextest run -p lambda-orchestrator openapi` rewrites the committed file.

use serde_json::Value;

use crate::helpers::{Orchestrator, quick_policy};

fn generated() -> Value {
    serde_json::to_value(lambda_orchestrator::openapi()).expect("serialise the document")
}

#[tokio::test]
async fn the_served_document_is_the_generated_one_and_the_committed_one() {
    // Serving the document calls no service.
    let orch =
        Orchestrator::spawn("http://127.0.0.1:9", "http://127.0.0.1:9", quick_policy()).await;
    let resp = b2b_testkit::client()
        .get(orch.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let served: Value = resp.json().await.unwrap();
    b2b_testkit::assert_openapi_current("lambda-orchestrator", &served, &generated());
}

#[test]
fn the_endpoint_documents_its_credentials_and_every_failure() {
    let doc = generated();
    let op = &doc["paths"]["/orchestrator/create-and-confirm-order"]["post"];
    assert!(op["requestBody"].is_object(), "no request body in {op}");
    assert_eq!(op["security"], serde_json::json!([{"operator_jwt": []}]));
    let responses = op["responses"].as_object().expect("responses");
    for code in [
        "201", "400", "401", "403", "404", "409", "413", "415", "422", "502", "503", "504",
    ] {
        assert!(responses.contains_key(code), "lacks {code}");
    }
    assert!(doc["paths"]["/health"]["get"]["responses"]["200"].is_object());
    // Open unless METRICS_TOKEN is set; its 401 is a problem, as on the other parts.
    let metrics = &doc["paths"]["/metrics"]["get"];
    assert_eq!(
        metrics["security"],
        serde_json::json!([{}, {"metrics_token": []}])
    );
    assert!(metrics["responses"]["200"]["content"]["text/plain"].is_object());
    assert!(metrics["responses"]["401"]["content"]["application/problem+json"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert!(schemes.contains_key("operator_jwt"));
}
