//! Rotating `JWT_SECRET` and `SERVICE_TOKEN` by the README's procedure while requests keep
//! flowing: two customers-api and two orders-api instances behind round-robin balancers are
//! restarted one at a time through the three steps (add the new key second, move it first,
//! remove the old one), and no request made with a credential still valid under the procedure
//! is refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header;
use axum::response::Response;
use b2b_platform::auth::{AUDIENCE, ISSUER, key_id};
use b2b_platform::config::primary_secret;
use b2b_testkit::{Backend, TestDb, client, spawn};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::RwLock;

use crate::helpers::{on_each_backend, order_body};

const OLD_JWT: &str = "rotation-old-jwt-secret-0123456789abcdef";
const NEW_JWT: &str = "rotation-new-jwt-secret-0123456789abcdef";
const OLD_SVC: &str = "rotation-old-service-token-0123456789abcdef";
const NEW_SVC: &str = "rotation-new-service-token-0123456789abcdef";

/// A round-robin load balancer in front of the current instances of one service.
struct Balancer {
    backends: RwLock<Vec<String>>,
    next: AtomicUsize,
    client: reqwest::Client,
}

impl Balancer {
    async fn pick(&self) -> String {
        let backends = self.backends.read().await;
        backends[self.next.fetch_add(1, Ordering::Relaxed) % backends.len()].clone()
    }
}

/// Forwards a request to the next instance, as it is, and its answer back.
async fn forward(State(lb): State<Arc<Balancer>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.expect("body");
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = lb
        .client
        .request(parts.method.clone(), format!("{}{path}", lb.pick().await))
        .body(body);
    for (name, value) in &parts.headers {
        if ![header::HOST, header::CONTENT_LENGTH, header::CONNECTION].contains(name) {
            out = out.header(name, value);
        }
    }
    let answer = out.send().await.expect("instance answers");
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if ![header::CONTENT_LENGTH, header::CONNECTION].contains(name) {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.expect("instance body");
    response
        .body(axum::body::Body::from(bytes))
        .expect("response")
}

/// A balancer serving on a free port; returns it and its base URL.
async fn balancer(backends: Vec<String>) -> (Arc<Balancer>, String) {
    let lb = Arc::new(Balancer {
        backends: RwLock::new(backends),
        next: AtomicUsize::new(0),
        client: client(),
    });
    let app = axum::Router::new().fallback(forward).with_state(lb.clone());
    (lb, spawn(app).await)
}

/// One service's `JWT_SECRET` and `SERVICE_TOKEN` at a point of the rotation.
#[derive(Clone)]
struct Secrets {
    jwt: String,
    service: String,
}

impl Secrets {
    fn new(jwt: &[&str], service: &[&str]) -> Self {
        Self {
            jwt: jwt.join(","),
            service: service.join(","),
        }
    }
}

async fn customers_instance(db: &TestDb, s: &Secrets) -> String {
    let config = customers_api::Config {
        port: 0,
        database_url: db.url.clone(),
        jwt_secret: s.jwt.clone(),
        service_token: s.service.clone(),
        jwt_ttl_secs: 3600,
        login: customers_api::LoginSettings {
            // Every log-in comes from the balancer's address: no brute-force budget in the way.
            attempts_per_minute: std::num::NonZeroU32::new(10_000).expect("non-zero"),
            ..customers_api::LoginSettings::default()
        },
        metrics_token: None,
    };
    let state = customers_api::AppState::new(db.db.clone(), &config).expect("customers-api");
    spawn(customers_api::app(state)).await
}

async fn orders_instance(db: &TestDb, customers_lb: &str, s: &Secrets) -> String {
    let config = orders_api::Config {
        jwt_secret: s.jwt.clone(),
        service_token: s.service.clone(),
        ..crate::helpers::config(db, customers_lb, Duration::from_secs(5))
    };
    let state = orders_api::AppState::new(db.db.clone(), &config).expect("orders-api");
    spawn(orders_api::app(state)).await
}

/// What the traffic uses: the operator tokens issued so far that the procedure still honours,
/// and the service token the orchestrator (configured like the others) currently sends.
struct Credentials {
    operator_tokens: RwLock<Vec<String>>,
    orchestrator_sends: RwLock<String>,
}

/// A request that did not get the status it should have.
type Failure = String;

/// Requests in a loop until `stop`: each operator token on both services, an order (orders-api
/// then calls customers-api with its service token), and the orchestrator's internal look-up.
async fn traffic(
    customers: String,
    orders: String,
    product: i64,
    creds: Arc<Credentials>,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
) -> Vec<Failure> {
    let http = client();
    let mut failures = Vec::new();
    let mut i = 0usize;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let token = {
            let tokens = creds.operator_tokens.read().await;
            tokens[i % tokens.len()].clone()
        };
        let service = creds.orchestrator_sends.read().await.clone();
        let calls = [
            (
                Method::GET,
                format!("{customers}/customers/1"),
                &token,
                None,
                200,
            ),
            (
                Method::GET,
                format!("{orders}/products/{product}"),
                &token,
                None,
                200,
            ),
            (
                Method::POST,
                format!("{orders}/orders"),
                &token,
                Some(order_body(1, &[(product, 1)])),
                201,
            ),
            (
                Method::GET,
                format!("{customers}/internal/customers/1"),
                &service,
                None,
                200,
            ),
        ];
        for (method, url, credential, body, expected) in calls {
            let mut req = http.request(method.clone(), &url).bearer_auth(credential);
            if let Some(body) = body {
                req = req.json(&body);
            }
            let resp = req.send().await.expect("balancer answers");
            sent.fetch_add(1, Ordering::Relaxed);
            let status = resp.status().as_u16();
            if status != expected {
                let text = resp.text().await.unwrap_or_default();
                failures.push(format!("{method} {url}: {status} {text}"));
            }
        }
    }
    failures
}

/// Logs in through the balancer: a token from whichever instance answers.
async fn log_in(customers: &str) -> String {
    let resp = client()
        .post(format!("{customers}/auth/token"))
        .json(&json!({"email": "admin@b2b.local", "password": "admin123"}))
        .send()
        .await
        .expect("log-in");
    assert_eq!(resp.status(), 200, "log-in through the balancer");
    let body: Value = resp.json().await.expect("token");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

fn kid_of(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).expect("header").kid
}

/// A token as the services issued them before keys had ids: no `kid`, signed with `secret`.
fn legacy_token(secret: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": "1", "iat": now, "exp": now + 600, "iss": ISSUER, "aud": AUDIENCE});
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("sign")
}

async fn a_rotation_under_traffic_refuses_no_valid_credential(backend: Backend) {
    let db = TestDb::new(backend).await.seeded().await;
    let start = Secrets::new(&[OLD_JWT], &[OLD_SVC]);
    let (customers_lb, customers) = balancer(vec![]).await;
    *customers_lb.backends.write().await = vec![
        customers_instance(&db, &start).await,
        customers_instance(&db, &start).await,
    ];
    let (orders_lb, orders) = balancer(vec![
        orders_instance(&db, &customers, &start).await,
        orders_instance(&db, &customers, &start).await,
    ])
    .await;

    // A product with stock for every order the traffic places.
    let first = log_in(&customers).await;
    assert_eq!(kid_of(&first), Some(key_id(OLD_JWT)));
    let product = client()
        .post(format!("{orders}/products"))
        .bearer_auth(&first)
        .json(&json!({"sku": "ROTATION-1", "name": "Rotation", "price_cents": 100, "stock": 1_000_000}))
        .send()
        .await
        .expect("create product");
    assert_eq!(product.status(), 201);
    let product = product.json::<Value>().await.expect("product")["id"]
        .as_i64()
        .expect("id");

    let first_token = first.clone();
    let creds = Arc::new(Credentials {
        operator_tokens: RwLock::new(vec![first.clone(), legacy_token(OLD_JWT)]),
        orchestrator_sends: RwLock::new(OLD_SVC.to_owned()),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            tokio::spawn(traffic(
                customers.clone(),
                orders.clone(),
                product,
                creds.clone(),
                stop.clone(),
                sent.clone(),
            ))
        })
        .collect();

    let steps = [
        // 1. The new key second everywhere: still signed and sent with the old one.
        Secrets::new(&[OLD_JWT, NEW_JWT], &[OLD_SVC, NEW_SVC]),
        // 2. The new key first: signed and sent with the new one, the old still accepted.
        Secrets::new(&[NEW_JWT, OLD_JWT], &[NEW_SVC, OLD_SVC]),
        // 3. The old key gone, once the tokens it signed have expired.
        Secrets::new(&[NEW_JWT], &[NEW_SVC]),
    ];
    let pause = Duration::from_millis(250);
    for (n, secrets) in steps.into_iter().enumerate() {
        if n == 2 {
            // The token lifetime has passed since the last instance moved to `new,old`: no
            // token signed with the old key is alive any more.
            let old = key_id(OLD_JWT);
            creds.operator_tokens.write().await.retain(|t| {
                let kid = kid_of(t);
                kid.is_some() && kid != Some(old.clone())
            });
        }
        // A rolling restart: one instance at a time, each replaced under traffic.
        for slot in 0..2 {
            let fresh = customers_instance(&db, &secrets).await;
            customers_lb.backends.write().await[slot] = fresh;
            tokio::time::sleep(pause).await;
            let fresh = orders_instance(&db, &customers, &secrets).await;
            orders_lb.backends.write().await[slot] = fresh;
            tokio::time::sleep(pause).await;
            let token = log_in(&customers).await;
            creds.operator_tokens.write().await.push(token);
        }
        *creds.orchestrator_sends.write().await = primary_secret(&secrets.service).to_owned();
        tokio::time::sleep(pause).await;
    }
    tokio::time::sleep(pause).await;
    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for w in workers {
        failures.extend(w.await.expect("traffic"));
    }
    let sent = sent.load(Ordering::Relaxed);
    assert!(
        failures.is_empty(),
        "{} of {sent} requests refused or failed during the rotation:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(sent >= 100, "only {sent} requests ran during the rotation");

    // Every token now names the new key; one still signed with the old key would be refused,
    // which is why the procedure waits a token lifetime before step 3.
    let tokens = creds.operator_tokens.read().await.clone();
    assert!(tokens.iter().any(|t| kid_of(t) == Some(key_id(NEW_JWT))));
    for stale in [first_token, legacy_token(OLD_JWT)] {
        let resp = client()
            .get(format!("{customers}/customers/1"))
            .bearer_auth(stale)
            .send()
            .await
            .expect("GET");
        assert_eq!(resp.status(), 401, "the old key is gone after step 3");
    }
    let resp = client()
        .get(format!("{customers}/internal/customers/1"))
        .bearer_auth(OLD_SVC)
        .send()
        .await
        .expect("GET");
    assert_eq!(
        resp.status(),
        401,
        "the old service token is gone after step 3"
    );
}

on_each_backend!(a_rotation_under_traffic_refuses_no_valid_credential);
