//! OWASP API Security Top 10 (2023), item by item where it applies to this service, and the
//! process-level checks: no default secrets outside `cargo run`, no secret in the logs.
//! (API1 and API5 — who may call which route — are exercised route by route in `auth`.)

use std::process::Stdio;
use std::time::Duration;

use b2b_testkit::{JWT_SECRET, SERVICE_TOKEN, TestDb};
use reqwest::Method;
use serde_json::json;
use tokio::io::AsyncReadExt;

use crate::helpers::{TestApp, problem};

const BIN: &str = env!("CARGO_BIN_EXE_customers-api");

/// API3 (broken object property level authorisation): fields a client must not set are refused,
/// not silently applied.
#[tokio::test]
async fn mass_assignment_through_unknown_fields_is_refused() {
    let app = TestApp::spawn().await;
    for field in ["id", "created_at", "deleted_at", "email_key"] {
        let mut body = json!({"name": "Mallory", "email": format!("{field}@evil.example")});
        body[field] = json!(1);
        let resp = app.post("/customers", &body).await;
        let p = problem(resp, 400, "VALIDATION_ERROR").await;
        assert_eq!(p["errors"][0]["field"], field, "{p}");
        let resp = app.put("/customers/1", &body).await;
        problem(resp, 400, "VALIDATION_ERROR").await;
    }
    let acme = app.customer(1).await.unwrap();
    assert_eq!(acme["name"], "ACME Corp", "unchanged");
    let found = app
        .get("/customers?search=evil.example")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(
        found["data"].as_array().unwrap().len(),
        0,
        "nothing created"
    );
}

/// API4 (unrestricted resource consumption): page size, body size and log-in attempts are bounded.
#[tokio::test]
async fn resource_consumption_is_bounded() {
    let app = TestApp::spawn().await;
    problem(
        app.get("/customers?limit=101").await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    let huge = json!({"name": "x".repeat(70 * 1024), "email": "big@example.com"});
    problem(
        app.post("/customers", &huge).await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    let search = "a".repeat(256);
    problem(
        app.get(&format!("/customers?search={search}")).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
}

/// API8 (security misconfiguration): hardening headers on every answer, errors without internals.
#[tokio::test]
async fn responses_carry_hardening_headers_and_no_internals() {
    let app = TestApp::spawn().await;
    for resp in [
        app.get("/customers/1").await,
        app.anon(Method::GET, "/customers/1").send().await.unwrap(),
        app.get("/nope").await,
    ] {
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert!(
            h.get("access-control-allow-origin").is_none(),
            "no CORS opened"
        );
        let body = resp.text().await.unwrap();
        for leak in ["sqlx", "SELECT", "panicked", "src/"] {
            assert!(!body.contains(leak), "{leak} in {body}");
        }
    }
}

fn command(db: &TestDb) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("PORT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// API8: the binary never falls back to the development secrets; only `cargo run` does.
#[tokio::test]
async fn the_service_refuses_to_start_without_real_secrets() {
    let db = TestDb::sqlite().await;
    let out = command(&db).output().await.unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_SECRET is not set"));
    let out = command(&db)
        .env("JWT_SECRET", "short")
        .env("SERVICE_TOKEN", SERVICE_TOKEN)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_SECRET is too short"));
}

/// No password, secret, service token or issued token ever reaches the logs, even at debug level.
#[tokio::test]
async fn no_secret_is_ever_logged() {
    let db = TestDb::sqlite().await.seeded().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = command(&db)
        .env("PORT", port.to_string())
        .env("JWT_SECRET", JWT_SECRET)
        .env("SERVICE_TOKEN", SERVICE_TOKEN)
        .env("RUST_LOG", "debug")
        .env("LOG_FORMAT", "json")
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = b2b_testkit::client();
    for _ in 0..100 {
        if client.get(format!("{base}/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let password = "admin123";
    let login = json!({"email": "admin@b2b.local", "password": password});
    let token: serde_json::Value = client
        .post(format!("{base}/auth/token"))
        .json(&login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let wrong = json!({"email": "admin@b2b.local", "password": "hunter2-wrong"});
    client
        .post(format!("{base}/auth/token"))
        .json(&wrong)
        .send()
        .await
        .unwrap();
    client
        .get(format!("{base}/customers/1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    client
        .get(format!("{base}/internal/customers/1"))
        .bearer_auth(SERVICE_TOKEN)
        .send()
        .await
        .unwrap();
    client
        .get(format!("{base}/customers/1"))
        .bearer_auth("forged.token.value")
        .send()
        .await
        .unwrap();

    child.start_kill().unwrap();
    let mut logs = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    assert!(
        logs.contains("operator logged in"),
        "the logs were captured: {logs}"
    );
    for secret in [
        password,
        "hunter2-wrong",
        JWT_SECRET,
        SERVICE_TOKEN,
        token.as_str(),
        "forged.token.value",
    ] {
        assert!(!logs.contains(secret), "{secret:?} appears in the logs");
    }
}
