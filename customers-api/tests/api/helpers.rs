//! A customers-api server on port 0 over its own seeded database, and the calls tests make to it.

use b2b_testkit::{Backend, JWT_SECRET, SERVICE_TOKEN, TestDb, client, spawn};
pub use b2b_testkit::{error_fields, ids, problem};
use customers_api::{AppState, Config, app};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

pub const ISSUER: &str = "b2b-orders";
pub const AUDIENCE: &str = "b2b-orders-api";

/// A running server; the database lives as long as this value.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: TestDb,
}

impl TestApp {
    /// Most API tests: a seeded SQLite database.
    pub async fn spawn() -> Self {
        Self::on(Backend::Sqlite).await
    }

    pub async fn on(backend: Backend) -> Self {
        Self::start(backend, |_| {}, None).await
    }

    /// A server whose configuration `tweak` changed first.
    pub async fn configured(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start(backend, tweak, None).await
    }

    /// A server with these log-in settings and, when given, a clock standing at `at`.
    pub async fn with_login(
        backend: Backend,
        login: customers_api::LoginSettings,
        at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Self {
        Self::start(backend, |c| c.login = login, at).await
    }

    async fn start(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
        at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Self {
        let db = TestDb::new(backend).await.seeded().await;
        let mut config = Config {
            port: 0,
            database_url: db.url.clone(),
            jwt_secret: JWT_SECRET.into(),
            service_token: SERVICE_TOKEN.into(),
            jwt_ttl_secs: 3600,
            login: customers_api::LoginSettings::default(),
            metrics_token: None,
        };
        tweak(&mut config);
        let mut state = AppState::new(db.db.clone(), &config).expect("state");
        if let Some(at) = at {
            // The clock stands still: a test's attempts all fall in one budget window.
            state.clock = b2b_platform::Clock::manual(at).0;
        }
        let base = spawn(app(state)).await;
        Self {
            base,
            client: client(),
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request with no credentials.
    pub fn anon(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request as the seeded operator.
    pub fn op(&self, method: Method, path: &str) -> RequestBuilder {
        self.anon(method, path).bearer_auth(token())
    }

    /// A request as another service.
    pub fn service(&self, method: Method, path: &str) -> RequestBuilder {
        self.anon(method, path).bearer_auth(SERVICE_TOKEN)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.op(Method::GET, path).send().await.expect("GET")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.op(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.op(Method::PUT, path)
            .json(body)
            .send()
            .await
            .expect("PUT")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.op(Method::DELETE, path).send().await.expect("DELETE")
    }

    /// A GET with `token` as the bearer credential.
    pub async fn get_as(&self, path: &str, token: &str) -> Response {
        let req = self.anon(Method::GET, path).bearer_auth(token);
        req.send().await.expect("GET")
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        let body = json!({"email": email, "password": password});
        self.anon(Method::POST, "/auth/token")
            .json(&body)
            .send()
            .await
            .expect("login")
    }

    /// Creates a customer and returns it, failing the test unless it was a 201.
    pub async fn create(&self, name: &str, email: &str) -> Value {
        let resp = self
            .post("/customers", &json!({"name": name, "email": email}))
            .await;
        assert_eq!(resp.status(), 201, "creating {email}");
        resp.json().await.expect("customer")
    }

    /// A customer as the operator sees it (200), or `None` on 404.
    pub async fn customer(&self, id: i64) -> Option<Value> {
        let resp = self.get(&format!("/customers/{id}")).await;
        match resp.status().as_u16() {
            200 => Some(resp.json().await.expect("customer")),
            404 => None,
            other => panic!("GET /customers/{id} gave {other}"),
        }
    }

    /// Every live customer, walking all pages.
    pub async fn all_customers(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut path = "/customers?limit=100".to_owned();
        loop {
            let page = self.page(&path).await;
            out.extend(page["data"].as_array().expect("data").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("/customers?limit=100&cursor={c}"),
                None => return out,
            }
        }
    }

    /// Rows in `table`, soft-deleted ones included, read straight from the database.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let row: Option<(i64,)> = self.db.db.fetch_optional(&sql, &[]).await.expect("count");
        row.expect("a count").0
    }

    /// One list page, failing the test unless it was a 200.
    pub async fn page(&self, path: &str) -> Value {
        let resp = self.get(path).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.expect("page")
    }
}

/// Valid operator claims for the seeded operator, issued now.
pub fn claims() -> Value {
    let now = now();
    json!({"sub": "1", "iat": now, "exp": now + 600, "iss": ISSUER, "aud": AUDIENCE})
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Signs `claims` with the test secret and `alg`.
pub fn sign_with(alg: Algorithm, claims: &Value) -> String {
    let key = EncodingKey::from_secret(JWT_SECRET.as_bytes());
    jsonwebtoken::encode(&Header::new(alg), claims, &key).expect("sign")
}

pub fn sign(claims: &Value) -> String {
    sign_with(Algorithm::HS256, claims)
}

/// An operator token like the one `/auth/token` issues, made without paying for argon2 in
/// every test (the log-in itself is tested in `auth`).
pub fn token() -> String {
    sign(&claims())
}
