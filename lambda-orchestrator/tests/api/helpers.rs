//! The system on port 0: the real customers-api and orders-api over one seeded database, and
//! orchestrators pointed at them (or at fakes the fault tests put in between).

use std::time::Duration;

use b2b_platform::Auth;
use b2b_testkit::{Backend, JWT_SECRET, SERVICE_TOKEN, TestDb, client, spawn};
use lambda_orchestrator::upstream::RetryPolicy;
use lambda_orchestrator::{AppState, app};

#[path = "../common/system.rs"]
mod system;

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
pub use system::config;
use system::{spawn_customers_api, spawn_orders_api};

/// Seeded product 2: price 899, stock 1000.
pub const WIDGET: i64 = 2;
/// Seeded product 10: the scarcest (price 289 000, stock 5).
pub const SCARCE: i64 = 10;
pub const ORCHESTRATE: &str = "/orchestrator/create-and-confirm-order";

pub(crate) use b2b_testkit::on_each_backend;

/// A token of the seeded operator, as `/auth/token` would issue it.
pub fn operator_token() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    Auth::new(JWT_SECRET, SERVICE_TOKEN, 3600)
        .expect("auth")
        .issue("1", i64::try_from(now).expect("now"))
}

/// Short pauses so retry tests stay fast; generous time-outs so a busy machine does not flake.
pub fn quick_policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        attempt_timeout: Duration::from_secs(10),
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(100),
        deadline: Duration::from_secs(25),
    }
}

/// The orchestrator's state, calling the services at these bases.
pub fn state(customers: &str, orders: &str, policy: RetryPolicy) -> AppState {
    AppState::new(&config(customers, orders, policy)).expect("orchestrator state")
}

/// customers-api and orders-api over one seeded database, each with its own pool as
/// separate services have. The database lives as long as this value.
pub struct Apis {
    _db: TestDb,
    pub customers: String,
    pub orders: String,
    client: reqwest::Client,
}

impl Apis {
    pub async fn start(backend: Backend) -> Self {
        let db = TestDb::new(backend).await.seeded().await;
        let customers = spawn_customers_api(&db.url).await;
        let orders = spawn_orders_api(&db.url, &customers, Duration::from_secs(5), 10, None).await;
        Self {
            _db: db,
            customers,
            orders,
            client: client(),
        }
    }

    /// An orchestrator calling these two services with the production retry policy.
    pub async fn orchestrator(&self) -> Orchestrator {
        Orchestrator::spawn(&self.customers, &self.orders, RetryPolicy::default()).await
    }

    /// A request to orders-api as an operator.
    fn orders_api(&self, method: Method, path: &str) -> RequestBuilder {
        let url = format!("{}{path}", self.orders);
        self.client
            .request(method, url)
            .bearer_auth(operator_token())
    }

    async fn orders_json(&self, req: RequestBuilder) -> Value {
        let resp = req.send().await.expect("orders-api");
        let url = resp.url().clone();
        assert_eq!(resp.status(), 200, "{url}");
        resp.json().await.expect("JSON")
    }

    pub async fn product(&self, id: i64) -> Value {
        let req = self.orders_api(Method::GET, &format!("/products/{id}"));
        self.orders_json(req).await
    }

    pub async fn stock(&self, id: i64) -> i64 {
        self.product(id).await["stock"].as_i64().expect("stock")
    }

    pub async fn set_stock(&self, id: i64, stock: i64) {
        let req = self.orders_api(Method::PATCH, &format!("/products/{id}"));
        self.orders_json(req.json(&json!({ "stock": stock }))).await;
    }

    /// `PATCH /products/{id}` with `body`, as an operator.
    pub async fn patch_product(&self, id: i64, body: Value) {
        let req = self.orders_api(Method::PATCH, &format!("/products/{id}"));
        self.orders_json(req.json(&body)).await;
    }

    /// Cancels an order as an operator.
    pub async fn cancel(&self, id: i64) {
        let req = self.orders_api(Method::POST, &format!("/orders/{id}/cancel"));
        self.orders_json(req).await;
    }

    /// Soft-deletes a customer through customers-api.
    pub async fn delete_customer(&self, id: i64) {
        let url = format!("{}/customers/{id}", self.customers);
        let resp = self.client.delete(url).bearer_auth(operator_token()).send();
        assert_eq!(resp.await.expect("customers-api").status(), 204);
    }

    pub async fn order(&self, id: i64) -> Value {
        let req = self.orders_api(Method::GET, &format!("/orders/{id}"));
        self.orders_json(req).await
    }

    /// Every order of a customer, whatever its status.
    pub async fn orders_of(&self, customer_id: i64) -> Vec<Value> {
        let path = format!("/orders?customer_id={customer_id}&limit=100");
        let page = self.orders_json(self.orders_api(Method::GET, &path)).await;
        assert!(page["next_cursor"].is_null(), "more than one page");
        page["data"].as_array().expect("data").clone()
    }
}

/// A running orchestrator.
#[derive(Clone)]
pub struct Orchestrator {
    pub base: String,
    client: reqwest::Client,
}

impl Orchestrator {
    pub async fn spawn(customers: &str, orders: &str, policy: RetryPolicy) -> Self {
        let base = spawn(app(state(customers, orders, policy))).await;
        Self {
            base,
            client: client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /orchestrator/create-and-confirm-order` with no credentials yet.
    pub fn post(&self) -> RequestBuilder {
        self.client.request(Method::POST, self.url(ORCHESTRATE))
    }

    /// The call as the seeded operator.
    pub async fn call(&self, body: &Value) -> Answer {
        let req = self.post().bearer_auth(operator_token()).json(body);
        Answer::from(req).await
    }
}

/// A request body for customer `customer_id` with `(product_id, qty)` lines.
pub fn request(customer_id: i64, lines: &[(i64, i64)], key: &str) -> Value {
    let items: Vec<Value> = lines
        .iter()
        .map(|(p, q)| json!({"product_id": p, "qty": q}))
        .collect();
    json!({"customer_id": customer_id, "items": items, "idempotency_key": key})
}

/// An orchestrator's answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub async fn from(req: RequestBuilder) -> Self {
        let resp = req.send().await.expect("orchestrator");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.json().await.expect("a JSON body");
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The confirmed order of a 201 success envelope.
    pub fn order(&self) -> &Value {
        assert_eq!(self.status, 201, "{}", self.body);
        assert_eq!(self.body["success"], true, "{}", self.body);
        &self.body["data"]["order"]
    }

    pub fn order_id(&self) -> i64 {
        self.order()["id"].as_i64().expect("order id")
    }

    /// Asserts a failure envelope with `status` and `code`; returns its `error`.
    pub fn failure(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["success"], false, "{}", self.body);
        assert_eq!(self.body["error"]["code"], code, "{}", self.body);
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "no message in {}",
            self.body
        );
        let correlation = self.body["correlationId"].as_str().expect("correlationId");
        assert_eq!(self.header("x-correlation-id"), Some(correlation));
        &self.body["error"]
    }
}

/// The sorted keys of a JSON object.
pub fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}
