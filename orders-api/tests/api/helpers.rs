//! An orders-api server on port 0 next to a real customers-api, both over one seeded database;
//! the orders-api clock is manual so tests move time instead of sleeping.

pub use b2b_testkit::{error_fields, ids, problem};
use std::time::Duration;

use b2b_platform::Db;
use b2b_platform::clock::{Clock, ManualClock};
use b2b_platform::db::DbOptions;
use b2b_testkit::{Backend, JWT_SECRET, SERVICE_TOKEN, TestDb, client, spawn};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use orders_api::{AppState, Config, app};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

/// Seeded product 10: the scarcest (stock 5, price 289 000).
pub const SCARCE: i64 = 10;

pub(crate) use b2b_testkit::on_each_backend;

/// The orders-api configuration the tests use.
pub fn config(db: &TestDb, customers_api_base: &str, timeout: Duration) -> Config {
    Config {
        port: 0,
        database_url: db.url.clone(),
        jwt_secret: JWT_SECRET.into(),
        service_token: SERVICE_TOKEN.into(),
        customers_api_base: customers_api_base.into(),
        customers_api_timeout: timeout,
        idempotency_ttl_hours: 24,
        cancellation_window_minutes: 10,
        metrics_token: None,
    }
}

/// Starts the real customers-api over `db` with a pool of its own, as a separate service has.
pub async fn spawn_customers_api(db: &TestDb) -> String {
    let pool = Db::connect(&db.url, &DbOptions::default())
        .await
        .expect("customers-api pool");
    let config = customers_api::Config {
        port: 0,
        database_url: db.url.clone(),
        jwt_secret: JWT_SECRET.into(),
        service_token: SERVICE_TOKEN.into(),
        jwt_ttl_secs: 3600,
        login: customers_api::LoginSettings::default(),
        metrics_token: None,
    };
    let state = customers_api::AppState::new(pool, &config).expect("customers-api state");
    spawn(customers_api::app(state)).await
}

/// A running orders-api; the database lives as long as this value.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    pub clock: ManualClock,
    /// The customers-api this one calls.
    pub customers: String,
}

impl TestApp {
    /// Most API tests: seeded SQLite.
    pub async fn spawn() -> Self {
        Self::on(Backend::Sqlite).await
    }

    pub async fn on(backend: Backend) -> Self {
        let db = TestDb::new(backend).await.seeded().await;
        let customers = spawn_customers_api(&db).await;
        Self::start(db, &customers, Duration::from_secs(5)).await
    }

    /// orders-api over `db`, calling customers-api at `customers_api_base`.
    pub async fn start(db: TestDb, customers_api_base: &str, timeout: Duration) -> Self {
        let config = config(&db, customers_api_base, timeout);
        let mut state = AppState::new(db.db.clone(), &config).expect("state");
        let (clock, handle) = Clock::manual(chrono::Utc::now());
        state.clock = clock;
        Self {
            base: spawn(app(state)).await,
            client: client(),
            db,
            clock: handle,
            customers: customers_api_base.to_owned(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request with no credentials.
    pub fn anon(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request as an operator.
    pub fn op(&self, method: Method, path: &str) -> RequestBuilder {
        self.anon(method, path).bearer_auth(token())
    }

    /// A request as another service (the orchestrator).
    pub fn service(&self, method: Method, path: &str) -> RequestBuilder {
        self.anon(method, path).bearer_auth(SERVICE_TOKEN)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.op(Method::GET, path).send().await.expect("GET")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        let req = self.op(Method::POST, path).json(body);
        req.send().await.expect("POST")
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        let req = self.op(Method::PATCH, path).json(body);
        req.send().await.expect("PATCH")
    }

    /// `POST /orders`, with an `Idempotency-Key` when given.
    pub async fn order(&self, body: &Value, key: Option<&str>) -> Response {
        let mut req = self.op(Method::POST, "/orders").json(body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        req.send().await.expect("POST /orders")
    }

    /// Creates an order of `lines` (product id, qty) for customer 1; fails unless 201.
    pub async fn create_order(&self, lines: &[(i64, i64)]) -> Value {
        let resp = self.order(&order_body(1, lines), None).await;
        assert_eq!(resp.status(), 201, "creating an order of {lines:?}");
        resp.json().await.expect("order")
    }

    pub async fn confirm(&self, id: i64, key: &str) -> Response {
        let req = self.op(Method::POST, &format!("/orders/{id}/confirm"));
        let req = req.header("X-Idempotency-Key", key);
        req.send().await.expect("confirm")
    }

    pub async fn cancel(&self, id: i64) -> Response {
        let req = self.op(Method::POST, &format!("/orders/{id}/cancel"));
        req.send().await.expect("cancel")
    }

    /// A JSON body, failing the test unless the status is `status`.
    pub async fn json_ok(&self, resp: Response, status: u16) -> Value {
        let (url, got) = (resp.url().clone(), resp.status());
        let text = resp.text().await.expect("body");
        assert_eq!(got, status, "{url}: {text}");
        serde_json::from_str(&text).expect("JSON body")
    }

    /// `GET path`, failing the test unless 200.
    pub async fn get_ok(&self, path: &str) -> Value {
        self.json_ok(self.get(path).await, 200).await
    }

    /// `PATCH path`, failing the test unless 200.
    pub async fn patch_ok(&self, path: &str, body: &Value) -> Value {
        self.json_ok(self.patch(path, body).await, 200).await
    }

    /// An order as the API shows it.
    pub async fn order_by_id(&self, id: i64) -> Value {
        self.get_ok(&format!("/orders/{id}")).await
    }

    /// The stock of a product as the API shows it.
    pub async fn stock(&self, product_id: i64) -> i64 {
        let product = self.get_ok(&format!("/products/{product_id}")).await;
        product["stock"].as_i64().expect("stock")
    }

    /// The stock of several products.
    pub async fn stocks(&self, ids: &[i64]) -> Vec<i64> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.stock(*id).await);
        }
        out
    }

    /// Creates a product; fails unless 201.
    pub async fn create_product(&self, sku: &str, price_cents: i64, stock: i64) -> Value {
        let body = json!({"sku": sku, "name": format!("Product {sku}"),
                          "price_cents": price_cents, "stock": stock});
        self.json_ok(self.post("/products", &body).await, 201).await
    }

    /// Every order, walking all pages of `GET /orders`.
    pub async fn all_orders(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut path = "/orders?limit=100".to_owned();
        loop {
            let page = self.get_ok(&path).await;
            out.extend(page["data"].as_array().expect("data").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("/orders?limit=100&cursor={c}"),
                None => return out,
            }
        }
    }

    /// The quantity of `product_id` held by orders that are not canceled.
    pub async fn held(&self, product_id: i64) -> i64 {
        let orders = self.all_orders().await;
        let live = orders.iter().filter(|o| o["status"] != "CANCELED");
        live.flat_map(|o| o["items"].as_array().expect("items").iter())
            .filter(|i| i["product_id"] == product_id)
            .map(|i| i["qty"].as_i64().expect("qty"))
            .sum()
    }

    /// Rows in `table`, read straight from the database.
    pub async fn count(&self, table: &str) -> i64 {
        count(&self.db.db, table).await
    }
}

/// Rows in `table`.
pub async fn count(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let row: Option<(i64,)> = db.fetch_optional(&sql, &[]).await.expect("count");
    row.expect("a count").0
}

/// The body of `POST /orders`.
pub fn order_body(customer_id: i64, lines: &[(i64, i64)]) -> Value {
    let items: Vec<Value> = lines
        .iter()
        .map(|(p, q)| json!({"product_id": p, "qty": q}))
        .collect();
    json!({"customer_id": customer_id, "items": items})
}

/// An operator token like the one customers-api's `/auth/token` issues.
pub fn token() -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": "1", "iat": now, "exp": now + 600,
                        "iss": "b2b-orders", "aud": "b2b-orders-api"});
    let key = EncodingKey::from_secret(JWT_SECRET.as_bytes());
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).expect("sign")
}

/// The object made of `keys` of `value`.
pub fn pick(value: &Value, keys: &[&str]) -> Value {
    keys.iter()
        .map(|k| (k.to_string(), value[k].clone()))
        .collect()
}

/// Whether a response was a replay of a stored outcome.
pub fn replayed(resp: &Response) -> bool {
    resp.headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}
