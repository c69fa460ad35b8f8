//! Log-in, who may call which route, and the tokens that must be refused.

use b2b_testkit::{JWT_SECRET, SERVICE_TOKEN};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{
    AUDIENCE, ISSUER, TestApp, claims, error_fields, now, problem, sign, sign_with, token,
};

/// Every route that needs credentials.
fn secured_routes() -> Vec<(Method, &'static str)> {
    vec![
        (Method::GET, "/customers"),
        (Method::POST, "/customers"),
        (Method::GET, "/customers/1"),
        (Method::PUT, "/customers/1"),
        (Method::DELETE, "/customers/1"),
        (Method::GET, "/internal/customers/1"),
    ]
}

fn body() -> Value {
    json!({"name": "Hijack Ltd", "email": "hijack@example.com"})
}

async fn assert_unauthorized(resp: Response) {
    assert_eq!(
        resp.headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        Some("Bearer")
    );
    problem(resp, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn log_in_returns_a_bearer_token_that_opens_the_customer_routes() {
    let app = TestApp::spawn().await;
    let resp = app.login("admin@b2b.local", "admin123").await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();

    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    let key = DecodingKey::from_secret(JWT_SECRET.as_bytes());
    let c = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("a valid HS256 token")
        .claims;
    assert_eq!(c["sub"], "1");
    let iat = c["iat"].as_i64().unwrap();
    assert!((iat - now()).abs() < 60, "iat is now");
    assert_eq!(c["exp"].as_i64().unwrap() - iat, 3600);

    assert_eq!(app.get_as("/customers/1", token).await.status(), 200);
}

#[tokio::test]
async fn log_in_ignores_the_case_of_the_email() {
    let app = TestApp::spawn().await;
    assert_eq!(app.login("Admin@B2B.Local", "admin123").await.status(), 200);
}

#[tokio::test]
async fn wrong_credentials_get_one_answer_whatever_was_wrong() {
    let app = TestApp::spawn().await;
    let mut bodies = Vec::new();
    for (email, password) in [
        ("admin@b2b.local", "wrong"),
        ("nobody@b2b.local", "admin123"),
        ("admin@b2b.local", "ADMIN123"),
    ] {
        let resp = app.login(email, password).await;
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        bodies.push(problem(resp, 401, "UNAUTHORIZED").await);
    }
    assert!(
        bodies.iter().all(|b| *b == bodies[0]),
        "the answers differ: {bodies:?}"
    );
}

#[tokio::test]
async fn log_in_rejects_an_invalid_body() {
    let app = TestApp::spawn().await;
    let send = |body: Value| app.anon(Method::POST, "/auth/token").json(&body).send();

    let p = problem(send(json!({})).await.unwrap(), 400, "VALIDATION_ERROR").await;
    assert_eq!(error_fields(&p), ["email", "password"]);
    let p = problem(
        send(json!({"email": 1, "password": ["x"]})).await.unwrap(),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(error_fields(&p), ["email", "password"]);
    let extra = json!({"email": "admin@b2b.local", "password": "admin123", "role": "root"});
    let p = problem(send(extra).await.unwrap(), 400, "VALIDATION_ERROR").await;
    assert_eq!(error_fields(&p), ["role"]);

    let resp = app
        .anon(Method::POST, "/auth/token")
        .header("content-type", "application/json")
        .body(r#"{"email": "admin@b2b.local", "#)
        .send()
        .await
        .unwrap();
    problem(resp, 400, "MALFORMED_JSON").await;
}

#[tokio::test]
async fn calls_without_credentials_get_401_with_a_bearer_challenge() {
    let app = TestApp::spawn().await;
    for (method, path) in secured_routes() {
        for auth in [
            None,
            Some("Basic YWRtaW46YWRtaW4="),
            Some("Bearer "),
            Some("Bearer not-a-token"),
        ] {
            let mut req = app.anon(method.clone(), path).json(&body());
            if let Some(auth) = auth {
                req = req.header("authorization", auth);
            }
            assert_unauthorized(req.send().await.unwrap()).await;
        }
    }
    assert!(
        app.customer(1).await.is_some(),
        "the anonymous DELETE changed nothing"
    );
    assert_eq!(
        app.all_customers().await.len(),
        5,
        "the anonymous POST changed nothing"
    );
}

#[tokio::test]
async fn the_service_token_is_refused_on_operator_routes() {
    let app = TestApp::spawn().await;
    for (method, path) in secured_routes()
        .into_iter()
        .filter(|(_, p)| p.starts_with("/customers"))
    {
        let resp = app
            .service(method.clone(), path)
            .json(&body())
            .send()
            .await
            .unwrap();
        problem(resp, 403, "FORBIDDEN").await;
    }
    assert_eq!(
        app.customer(1).await.unwrap()["name"],
        "ACME Corp",
        "the refused PUT and DELETE changed nothing"
    );
    assert_eq!(app.all_customers().await.len(), 5);
}

#[tokio::test]
async fn internal_look_ups_take_only_the_service_token() {
    let app = TestApp::spawn().await;
    let resp = app
        .service(Method::GET, "/internal/customers/1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["email"], "ops@acme.com");

    let resp = app
        .op(Method::GET, "/internal/customers/1")
        .send()
        .await
        .unwrap();
    problem(resp, 403, "FORBIDDEN").await;

    // Only the exact token: a prefix or a longer string is not "close enough".
    let near_misses = [
        &SERVICE_TOKEN[..SERVICE_TOKEN.len() - 1],
        &format!("{SERVICE_TOKEN}x"),
    ];
    for near in near_misses {
        assert_unauthorized(app.get_as("/internal/customers/1", near).await).await;
    }
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.get_as("/customers/1", &token()).await.status(),
        200,
        "the well-formed token these cases alter"
    );

    let with = |key: &str, value: Value| {
        let mut c = claims();
        c[key] = value;
        c
    };
    let without = |key: &str| {
        let mut c = claims();
        c.as_object_mut().unwrap().remove(key);
        c
    };
    let other_key =
        jsonwebtoken::EncodingKey::from_secret(b"another-secret-0123456789abcdef-0123456789");
    // {"alg":"none","typ":"JWT"} in base64url, over a valid payload, with no signature
    let unsigned = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        token().split('.').nth(1).unwrap()
    );
    let cases = [
        ("expired", sign(&with("exp", json!(now() - 120)))),
        (
            "bad signature",
            jsonwebtoken::encode(&Default::default(), &claims(), &other_key).unwrap(),
        ),
        ("alg none", unsigned),
        ("alg HS384", sign_with(Algorithm::HS384, &claims())),
        ("wrong aud", sign(&with("aud", json!("another-api")))),
        ("wrong iss", sign(&with("iss", json!("someone-else")))),
        ("iat in the future", sign(&with("iat", json!(now() + 120)))),
        ("no sub", sign(&without("sub"))),
        ("no iat", sign(&without("iat"))),
        ("no exp", sign(&without("exp"))),
        ("tampered payload", {
            let t = token();
            let mut parts: Vec<&str> = t.split('.').collect();
            let forged = sign(&with("sub", json!("2")));
            parts[1] = forged.split('.').nth(1).unwrap();
            parts.join(".")
        }),
    ];
    for (case, token) in cases {
        let resp = app.get_as("/customers/1", &token).await;
        assert_eq!(resp.status(), 401, "{case}");
        assert_unauthorized(resp).await;
    }
}

#[tokio::test]
async fn thirty_seconds_of_clock_skew_are_tolerated() {
    let app = TestApp::spawn().await;
    let mut c = claims();
    c["iat"] = json!(now() + 10);
    c["exp"] = json!(now() - 10);
    assert_eq!(app.get_as("/customers/1", &sign(&c)).await.status(), 200);
}

#[tokio::test]
async fn public_routes_need_no_credentials() {
    let app = TestApp::spawn().await;
    let resp = app.anon(Method::GET, "/health").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"status": "ok"}));

    let resp = app.anon(Method::GET, "/openapi.json").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.json::<Value>().await.unwrap()["paths"]["/customers"].is_object());

    for path in ["/docs/", "/docs"] {
        let resp = app.anon(Method::GET, path).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let html = resp.text().await.unwrap();
        assert!(html.contains("swagger-ui"), "{path} serves Swagger UI");
    }
    // served from the binary (no internet needed), and pointed at this service's document
    let bundle = app
        .anon(Method::GET, "/docs/swagger-ui-bundle.js")
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);
    let init = app
        .anon(Method::GET, "/docs/swagger-initializer.js")
        .send()
        .await
        .unwrap();
    assert!(init.text().await.unwrap().contains("/openapi.json"));
}

#[tokio::test]
async fn log_in_attempts_are_rate_limited_per_email_with_retry_after() {
    let app = TestApp::spawn().await;
    let attempt = |password: &'static str| {
        app.anon(Method::POST, "/auth/token")
            .json(&json!({"email": "admin@b2b.local", "password": password}))
            .send()
    };
    for _ in 0..customers_api::DEFAULT_LOGIN_ATTEMPTS.get() {
        assert_eq!(attempt("guess").await.unwrap().status(), 401);
    }
    // Even the right password is refused until the budget refills.
    let resp = attempt("admin123").await.unwrap();
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=60).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    problem(resp, 429, "RATE_LIMITED").await;
    // Another account is not locked out by this one's attempts.
    let other = app
        .anon(Method::POST, "/auth/token")
        .json(&json!({"email": "someone@b2b.local", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 401);
}
