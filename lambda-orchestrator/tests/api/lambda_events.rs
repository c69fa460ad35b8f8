//! The Lambda entry: committed API Gateway (REST v1, HTTP API v2) and function URL events,
//! parsed as `lambda_http` parses them and served by `lambda_service` against the real APIs.

use axum::http::StatusCode;
use b2b_testkit::Backend;
use lambda_orchestrator::{app, lambda_service};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::{Apis, WIDGET, keys, operator_token, quick_policy, state};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// A committed event with `{{TOKEN}}` replaced by `token`.
fn event(name: &str, token: &str) -> Value {
    let path = format!("{FIXTURES}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text.replace("{{TOKEN}}", token)).expect("fixture JSON")
}

struct Reply {
    status: StatusCode,
    correlation: Option<String>,
    www_authenticate: Option<String>,
    body: Value,
}

/// Runs `event` through the Lambda service, as the runtime would hand it over.
async fn invoke(apis: &Apis, event: &Value) -> Reply {
    let request = lambda_http::request::from_str(&event.to_string()).expect("a Lambda HTTP event");
    let service = lambda_service(app(state(&apis.customers, &apis.orders, quick_policy())));
    let resp = service.oneshot(request).await.expect("infallible");
    let header = |name: &str| {
        let value = resp.headers().get(name)?.to_str().ok()?;
        Some(value.to_owned())
    };
    let (correlation, www_authenticate) = (header("x-correlation-id"), header("www-authenticate"));
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    let body = serde_json::from_slice(&bytes).expect("a JSON body");
    Reply {
        status,
        correlation,
        www_authenticate,
        body,
    }
}

/// Asserts the 201 envelope for the fixtures' order (3 of product 2); returns its order id.
async fn assert_created(apis: &Apis, reply: &Reply, correlation: &str) -> i64 {
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(keys(&reply.body), ["correlationId", "data", "success"]);
    assert_eq!(reply.body["success"], true);
    assert_eq!(reply.body["correlationId"], correlation);
    assert_eq!(reply.correlation.as_deref(), Some(correlation));
    assert_eq!(reply.body["data"]["customer"]["name"], "ACME Corp");
    let order = &reply.body["data"]["order"];
    assert_eq!(order["status"], "CONFIRMED");
    assert_eq!(order["total_cents"], 3 * 899);
    let id = order["id"].as_i64().expect("id");
    assert_eq!(apis.order(id).await["status"], "CONFIRMED");
    id
}

#[tokio::test]
async fn a_rest_api_event_with_a_stage_creates_and_confirms() {
    let apis = Apis::start(Backend::Sqlite).await;
    let event = event("apigw-rest-v1.json", &operator_token());
    assert_eq!(event["requestContext"]["stage"], "dev");

    let reply = invoke(&apis, &event).await;

    // No correlation_id in this body: the header's is used.
    assert_created(&apis, &reply, "apigw-rest-789").await;
    assert_eq!(apis.stock(WIDGET).await, 1000 - 3);
}

#[tokio::test]
async fn a_rest_api_path_carrying_the_stage_prefix_routes() {
    let apis = Apis::start(Backend::Sqlite).await;
    let mut event = event("apigw-rest-v1.json", &operator_token());
    event["path"] = json!("/dev/orchestrator/create-and-confirm-order");

    let reply = invoke(&apis, &event).await;

    let id = assert_created(&apis, &reply, "apigw-rest-789").await;
    // Sent again (API Gateway retried it): the same order.
    let reply = invoke(&apis, &event).await;
    assert_eq!(reply.body["data"]["order"]["id"], id);
    assert_eq!(apis.stock(WIDGET).await, 1000 - 3);
}

#[tokio::test]
async fn an_http_api_event_creates_and_confirms() {
    let apis = Apis::start(Backend::Sqlite).await;
    let event = event("apigw-http-v2.json", &operator_token());
    assert_eq!(event["requestContext"]["stage"], "$default");

    let reply = invoke(&apis, &event).await;

    assert_created(&apis, &reply, "apigw-http-789").await;
}

#[tokio::test]
async fn a_function_url_event_creates_and_confirms() {
    let apis = Apis::start(Backend::Sqlite).await;
    let event = event("function-url.json", &operator_token());
    let domain = event["requestContext"]["domainName"].as_str().unwrap();
    assert!(domain.contains(".lambda-url.") && domain.ends_with(".on.aws"));

    let reply = invoke(&apis, &event).await;

    assert_created(&apis, &reply, "function-url-789").await;
}

#[tokio::test]
async fn an_event_without_a_valid_token_is_401() {
    let apis = Apis::start(Backend::Sqlite).await;
    let event = event("apigw-rest-v1.json", "not-a-token");

    let reply = invoke(&apis, &event).await;

    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["success"], false);
    assert_eq!(reply.body["error"]["code"], "UNAUTHORIZED");
    assert_eq!(reply.www_authenticate.as_deref(), Some("Bearer"));
    assert!(apis.orders_of(1).await.is_empty());
}

/// `event` turned into `GET /health` (v1 and v2 shapes alike).
fn health(mut event: Value) -> Value {
    event["body"] = Value::Null;
    if event["version"] == "2.0" {
        event["rawPath"] = json!("/health");
        event["requestContext"]["http"]["method"] = json!("GET");
        event["requestContext"]["http"]["path"] = json!("/health");
    } else {
        event["path"] = json!("/health");
        event["httpMethod"] = json!("GET");
        event["requestContext"]["httpMethod"] = json!("GET");
    }
    event
}

#[tokio::test]
async fn health_answers_through_every_event_kind() {
    let apis = Apis::start(Backend::Sqlite).await;
    for name in [
        "apigw-rest-v1.json",
        "apigw-http-v2.json",
        "function-url.json",
    ] {
        let reply = invoke(&apis, &health(event(name, ""))).await;
        assert_eq!(reply.status, StatusCode::OK, "{name}");
        assert_eq!(reply.body, json!({"status": "ok"}), "{name}");
    }
}
