//! The system under test: the real customers-api, orders-api (on a manual clock) and
//! orchestrator on port 0 over one database, and the HTTP calls the model's operations make.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use b2b_platform::clock::ManualClock;
use b2b_platform::{Auth, Clock};
use b2b_testkit::{Backend, JWT_SECRET, SERVICE_TOKEN, TestDb, client, spawn};

use crate::parts;
use chrono::{DateTime, TimeZone, Utc};
use lambda_orchestrator::upstream::RetryPolicy;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

/// What one request to the system is, with ids and keys resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Create {
        customer: i64,
        lines: Vec<(i64, i64)>,
        key: Option<String>,
    },
    Confirm {
        order: i64,
        key: String,
    },
    Cancel {
        order: i64,
    },
    Orchestrate {
        customer: i64,
        lines: Vec<(i64, i64)>,
        key: String,
    },
    DeleteCustomer {
        customer: i64,
    },
    /// `GET /products/:id`: what a client reads before a conditional correction.
    Read {
        product: i64,
    },
    Patch {
        product: i64,
        price: Option<i64>,
        stock: Option<i64>,
        if_match: Option<Precondition>,
    },
}

/// The `If-Match` of a `PATCH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// This value, as sent.
    Sent(String),
    /// The `ETag` of the read just before it in the same task: known only once that read has
    /// answered, so [`System::run_task`] turns it into [`Precondition::Sent`].
    OfTheRead,
}

impl Call {
    /// The products whose rows this call writes (the order's for a cancel: `order_products`).
    pub fn products(&self, order_products: impl Fn(i64) -> Vec<i64>) -> Vec<i64> {
        match self {
            Self::Create { lines, .. } | Self::Orchestrate { lines, .. } => {
                lines.iter().map(|l| l.0).collect()
            }
            Self::Cancel { order } => order_products(*order),
            Self::Patch { product, .. } => vec![*product],
            Self::Confirm { .. } | Self::DeleteCustomer { .. } | Self::Read { .. } => Vec::new(),
        }
    }

    /// The idempotency scope and key this call uses, if any.
    pub fn key(&self) -> Option<(&'static str, &str)> {
        match self {
            Self::Create { key: Some(k), .. } => Some(("create", k)),
            Self::Confirm { key, .. } => Some(("confirm", key)),
            Self::Orchestrate { key, .. } => Some(("orchestrate", key)),
            _ => None,
        }
    }
}

/// One answer, read whole.
#[derive(Debug, Clone)]
pub struct Observed {
    pub status: u16,
    pub replayed: bool,
    pub retry_after: bool,
    pub correlation: Option<String>,
    pub etag: Option<String>,
    pub text: String,
    pub json: Value,
    pub elapsed: Duration,
}

impl Observed {
    /// The problem `code` (orders-api, customers-api) or envelope `error.code` (orchestrator).
    pub fn code(&self) -> &str {
        self.json
            .get("code")
            .or_else(|| self.json.get("error").and_then(|e| e.get("code")))
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// A one-line summary for transcripts.
    pub fn brief(&self) -> String {
        let mut s = format!("{} {}", self.status, self.code());
        if self.replayed {
            s.push_str(" [replayed]");
        }
        if self.retry_after {
            s.push_str(" [retry-after]");
        }
        if let Some(id) = self
            .json
            .get("id")
            .or_else(|| self.json.pointer("/data/order/id"))
        {
            s.push_str(&format!(" id={id}"));
        }
        if let Some(st) = self
            .json
            .get("status")
            .filter(|s| s.is_string())
            .or_else(|| self.json.pointer("/data/order/status"))
        {
            s.push_str(&format!(" {st}"));
        }
        if let Some(tag) = &self.etag {
            s.push_str(&format!(" etag={tag}"));
        }
        if self.json.get("stock").is_some() {
            s.push_str(&format!(
                " price={} stock={}",
                self.json["price_cents"], self.json["stock"]
            ));
        }
        s.push_str(&format!(" ({} ms)", self.elapsed.as_millis()));
        s
    }
}

/// Seconds since the epoch, for tokens.
fn unix_now() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    i64::try_from(secs).expect("now")
}

struct Inner {
    db: TestDb,
    customers: String,
    orders: String,
    orchestrator: String,
    clock: Clock,
    manual: ManualClock,
    auth: Auth,
    http: reqwest::Client,
    serial: AtomicU64,
}

/// A running system; cheap to clone, shared by every case of a run.
#[derive(Clone)]
pub struct System(Arc<Inner>);

/// Short back-offs so concurrent same-key calls settle quickly; the production deadline.
fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        attempt_timeout: Duration::from_secs(20),
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        deadline: Duration::from_secs(25),
    }
}

impl System {
    pub async fn start(backend: Backend) -> Self {
        let db = TestDb::new(backend).await;
        let customers = parts::spawn_customers_api(&db.url).await;
        // A whole second, so timestamps survive every backend's precision unchanged and the
        // window's last instant is exactly representable.
        let start: DateTime<Utc> = Utc
            .timestamp_opt(unix_now(), 0)
            .single()
            .expect("start time");
        let (clock, manual) = Clock::manual(start);
        let orders = parts::spawn_orders_api(
            &db.url,
            &customers,
            Duration::from_secs(10),
            crate::model::WINDOW_MINUTES,
            Some(clock.clone()),
        )
        .await;
        let config = parts::config(&customers, &orders, policy());
        let state = lambda_orchestrator::AppState::new(&config).expect("orchestrator state");
        let orchestrator = spawn(lambda_orchestrator::app(state)).await;
        Self(Arc::new(Inner {
            db,
            customers,
            orders,
            orchestrator,
            clock,
            manual,
            auth: Auth::new(JWT_SECRET, SERVICE_TOKEN, 3600).expect("auth"),
            http: client(),
            serial: AtomicU64::new(0),
        }))
    }

    pub fn backend(&self) -> Backend {
        self.0.db.backend
    }

    pub fn db_url(&self) -> &str {
        &self.0.db.url
    }

    /// A number never handed out before in this run: keeps cases' rows and keys apart.
    pub fn serial(&self) -> u64 {
        self.0.serial.fetch_add(1, Ordering::Relaxed)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.0.manual.advance(by);
    }

    fn request(&self, method: Method, url: String) -> RequestBuilder {
        // A fresh token each time, so runs longer than its hour keep working.
        let token = self.0.auth.issue("1", unix_now());
        self.0.http.request(method, url).bearer_auth(token)
    }

    async fn send(&self, req: RequestBuilder) -> Observed {
        let started = Instant::now();
        let resp = req.send().await.expect("the system answers");
        let status = resp.status().as_u16();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let replayed = header("idempotent-replayed").is_some_and(|v| v == "true");
        let retry_after = header("retry-after").is_some();
        let correlation = header("x-correlation-id");
        let etag = header("etag");
        let text = resp.text().await.expect("a body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Observed {
            status,
            replayed,
            retry_after,
            correlation,
            etag,
            text,
            json,
            elapsed: started.elapsed(),
        }
    }

    fn items(lines: &[(i64, i64)]) -> Vec<Value> {
        lines
            .iter()
            .map(|(p, q)| json!({"product_id": p, "qty": q}))
            .collect()
    }

    /// Sends one call and reads its answer.
    pub async fn call(&self, call: &Call) -> Observed {
        let inner = &self.0;
        let req = match call {
            Call::Create {
                customer,
                lines,
                key,
            } => {
                let body = json!({"customer_id": customer, "items": Self::items(lines)});
                let req = self.request(Method::POST, format!("{}/orders", inner.orders));
                let req = match key {
                    Some(k) => req.header("idempotency-key", k),
                    None => req,
                };
                req.json(&body)
            }
            Call::Confirm { order, key } => self
                .request(
                    Method::POST,
                    format!("{}/orders/{order}/confirm", inner.orders),
                )
                .header("x-idempotency-key", key),
            Call::Cancel { order } => self.request(
                Method::POST,
                format!("{}/orders/{order}/cancel", inner.orders),
            ),
            Call::Orchestrate {
                customer,
                lines,
                key,
            } => {
                let correlation = format!("model-{}", self.serial());
                let body = json!({"customer_id": customer, "items": Self::items(lines),
                                  "idempotency_key": key, "correlation_id": correlation});
                self.request(
                    Method::POST,
                    format!(
                        "{}/orchestrator/create-and-confirm-order",
                        inner.orchestrator
                    ),
                )
                .json(&body)
            }
            Call::DeleteCustomer { customer } => self.request(
                Method::DELETE,
                format!("{}/customers/{customer}", inner.customers),
            ),
            Call::Read { product } => {
                self.request(Method::GET, format!("{}/products/{product}", inner.orders))
            }
            Call::Patch {
                product,
                price,
                stock,
                if_match,
            } => {
                let mut body = serde_json::Map::new();
                if let Some(p) = price {
                    body.insert("price_cents".into(), json!(p));
                }
                if let Some(s) = stock {
                    body.insert("stock".into(), json!(s));
                }
                let req = self.request(
                    Method::PATCH,
                    format!("{}/products/{product}", inner.orders),
                );
                let req = match if_match {
                    None => req,
                    Some(Precondition::Sent(v)) => req.header("if-match", v),
                    Some(Precondition::OfTheRead) => {
                        panic!("a PATCH sent before the read its If-Match comes from")
                    }
                };
                req.json(&body)
            }
        };
        self.send(req).await
    }

    /// Sends the calls of one task one after the other (a read, then the `PATCH` with its
    /// `ETag`); returns the calls as sent, with their answers. A read that answered no `ETag`
    /// ends the task: there is no tag to send.
    pub async fn run_task(&self, task: &[Call]) -> Vec<(Call, Observed)> {
        let mut done: Vec<(Call, Observed)> = Vec::new();
        for call in task {
            let call = match call {
                Call::Patch {
                    product,
                    price,
                    stock,
                    if_match: Some(Precondition::OfTheRead),
                } => {
                    let Some(tag) = done.last().and_then(|(_, o)| o.etag.clone()) else {
                        break;
                    };
                    Call::Patch {
                        product: *product,
                        price: *price,
                        stock: *stock,
                        if_match: Some(Precondition::Sent(tag)),
                    }
                }
                other => other.clone(),
            };
            let obs = self.call(&call).await;
            done.push((call, obs));
        }
        done
    }

    async fn ok_json(&self, req: RequestBuilder, status: u16) -> Value {
        let obs = self.send(req).await;
        assert_eq!(obs.status, status, "set-up call failed: {}", obs.text);
        obs.json
    }

    /// A new product; returns its id and the `ETag` of the answer.
    pub async fn new_product(&self, sku: &str, price: i64, stock: i64) -> (i64, Option<String>) {
        let req = self
            .request(Method::POST, format!("{}/products", self.0.orders))
            .json(&json!({"sku": sku, "name": sku, "price_cents": price, "stock": stock}));
        let obs = self.send(req).await;
        assert_eq!(obs.status, 201, "set-up call failed: {}", obs.text);
        (obs.json["id"].as_i64().expect("product id"), obs.etag)
    }

    /// A new customer; returns it as the orchestrator reports it (`id, name, email, phone`).
    pub async fn new_customer(&self, name: &str) -> Value {
        let email = format!("{name}@model.test");
        let req = self
            .request(Method::POST, format!("{}/customers", self.0.customers))
            .json(&json!({"name": name, "email": email, "phone": "+1-555-0100"}));
        let c = self.ok_json(req, 201).await;
        json!({"id": c["id"], "name": c["name"], "email": c["email"], "phone": c["phone"]})
    }

    /// A product as `GET` shows it, with the `ETag` of the answer.
    pub async fn product(&self, id: i64) -> (Value, Option<String>) {
        let req = self.request(Method::GET, format!("{}/products/{id}", self.0.orders));
        let obs = self.send(req).await;
        assert_eq!(obs.status, 200, "reading product {id} failed: {}", obs.text);
        (obs.json, obs.etag)
    }

    /// Every order of a customer (a case makes far fewer than a page).
    pub async fn orders_of(&self, customer: i64) -> Vec<Value> {
        let url = format!("{}/orders?customer_id={customer}&limit=100", self.0.orders);
        let page = self.ok_json(self.request(Method::GET, url), 200).await;
        assert!(page["next_cursor"].is_null(), "more than one page");
        page["data"].as_array().expect("data").clone()
    }
}
