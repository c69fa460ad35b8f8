//! The scenarios: what one request of each is, and what answer counts as a success. Each
//! worker owns one `reqwest` client with one keep-alive connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use reqwest::{Client, Method, StatusCode};

use crate::dataset::Scale;
use crate::driver::Worker;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    GetCustomer,
    GetOrder,
    ListFirst,
    ListDeep,
    ListStatusFirst,
    ListStatusDeep,
    CreateOrder,
    ConfirmFresh,
    ConfirmReplay,
    Orchestrate,
}

impl Scenario {
    pub const ALL: [Self; 10] = [
        Self::GetCustomer,
        Self::GetOrder,
        Self::ListFirst,
        Self::ListDeep,
        Self::ListStatusFirst,
        Self::ListStatusDeep,
        Self::CreateOrder,
        Self::ConfirmFresh,
        Self::ConfirmReplay,
        Self::Orchestrate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::GetCustomer => "get_customer",
            Self::GetOrder => "get_order",
            Self::ListFirst => "list_orders_first",
            Self::ListDeep => "list_orders_deep",
            Self::ListStatusFirst => "list_orders_status_first",
            Self::ListStatusDeep => "list_orders_status_deep",
            Self::CreateOrder => "create_order",
            Self::ConfirmFresh => "confirm_fresh",
            Self::ConfirmReplay => "confirm_replay",
            Self::Orchestrate => "orchestrate",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::GetCustomer => "GET /customers/:id (random of all customers)",
            Self::GetOrder => "GET /orders/:id (random of all orders, with items)",
            Self::ListFirst => "GET /orders?limit=20 (first page)",
            Self::ListDeep => "GET /orders?limit=20&cursor=… (a page at the end of the million)",
            Self::ListStatusFirst => "GET /orders?status=CREATED&limit=20 (first page)",
            Self::ListStatusDeep => "GET /orders?status=CREATED&limit=20&cursor=… (deep page)",
            Self::CreateOrder => "POST /orders (1-3 lines, fresh Idempotency-Key)",
            Self::ConfirmFresh => "POST /orders/:id/confirm (a CREATED order, fresh key)",
            Self::ConfirmReplay => "POST /orders/:id/confirm (a replayed key)",
            Self::Orchestrate => "POST /orchestrator/create-and-confirm-order (1-3 lines)",
        }
    }
}

/// What every worker shares: where the services are, the token, the data's shape.
pub struct Env {
    pub customers: String,
    pub orders: String,
    pub orchestrator: String,
    pub auth: String,
    pub scale: Scale,
    /// Makes this run's idempotency keys unique in the database.
    pub run_tag: String,
    /// Orders confirmed with a key before the load, replayed by `ConfirmReplay`.
    pub replays: Vec<(i64, String)>,
    /// Cursors near the end of the orders, without and with the status filter.
    pub deep_cursor: String,
    pub deep_status_cursor: String,
    /// The next `CREATED` order (by [`Scale::created_order`]) for `ConfirmFresh`.
    pub next_created: AtomicU64,
    /// How many `CREATED` orders `ConfirmFresh` may use (the rest are the replays').
    pub fresh_limit: u64,
    /// Confirms that found the pool used up and confirmed an already confirmed order.
    pub exhausted: AtomicU64,
    pub seq: AtomicU64,
}

impl Env {
    fn key(&self, scenario: Scenario) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        format!("{}-{}-{n}", self.run_tag, scenario.name())
    }

    /// `{"customer_id":…,"items":[…]}` members for a random customer and 1-3 random lines.
    fn order_fields(&self) -> String {
        let mut rng = rand::rng();
        let customer = rng.random_range(1..=self.scale.customers);
        let first = rng.random_range(0..self.scale.products);
        let lines = rng.random_range(1..=3u64);
        let items: Vec<String> = (0..lines)
            .map(|k| {
                format!(
                    r#"{{"product_id":{},"qty":{}}}"#,
                    1 + (first + k) % self.scale.products,
                    rng.random_range(1..=5)
                )
            })
            .collect();
        format!(r#""customer_id":{customer},"items":[{}]"#, items.join(","))
    }
}

/// One connection's worth of one scenario.
pub struct HttpWorker {
    pub scenario: Scenario,
    pub env: Arc<Env>,
    http: Client,
}

impl HttpWorker {
    pub fn new(scenario: Scenario, env: Arc<Env>) -> anyhow::Result<Self> {
        let http = Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            scenario,
            env,
            http,
        })
    }

    /// The request to send now: method, URL, idempotency header, JSON body.
    fn request(
        &self,
    ) -> (
        Method,
        String,
        Option<(&'static str, String)>,
        Option<String>,
    ) {
        let env = &self.env;
        let s = &env.scale;
        match self.scenario {
            Scenario::GetCustomer => {
                let id = rand::rng().random_range(1..=s.customers);
                (
                    Method::GET,
                    format!("{}/customers/{id}", env.customers),
                    None,
                    None,
                )
            }
            Scenario::GetOrder => {
                let id = rand::rng().random_range(1..=s.orders);
                (
                    Method::GET,
                    format!("{}/orders/{id}", env.orders),
                    None,
                    None,
                )
            }
            Scenario::ListFirst => (
                Method::GET,
                format!("{}/orders?limit=20", env.orders),
                None,
                None,
            ),
            Scenario::ListDeep => (
                Method::GET,
                format!("{}/orders?limit=20&cursor={}", env.orders, env.deep_cursor),
                None,
                None,
            ),
            Scenario::ListStatusFirst => (
                Method::GET,
                format!("{}/orders?status=CREATED&limit=20", env.orders),
                None,
                None,
            ),
            Scenario::ListStatusDeep => (
                Method::GET,
                format!(
                    "{}/orders?status=CREATED&limit=20&cursor={}",
                    env.orders, env.deep_status_cursor
                ),
                None,
                None,
            ),
            Scenario::CreateOrder => (
                Method::POST,
                format!("{}/orders", env.orders),
                Some(("Idempotency-Key", env.key(self.scenario))),
                Some(format!("{{{}}}", env.order_fields())),
            ),
            Scenario::ConfirmFresh => {
                let k = env.next_created.fetch_add(1, Ordering::Relaxed);
                let id = match s.created_order(k).filter(|_| k < env.fresh_limit) {
                    Some(id) => id,
                    None => {
                        env.exhausted.fetch_add(1, Ordering::Relaxed);
                        1 + (k % s.orders) as i64
                    }
                };
                (
                    Method::POST,
                    format!("{}/orders/{id}/confirm", env.orders),
                    Some(("X-Idempotency-Key", env.key(self.scenario))),
                    None,
                )
            }
            Scenario::ConfirmReplay => {
                let i = rand::rng().random_range(0..env.replays.len());
                let (id, key) = &env.replays[i];
                (
                    Method::POST,
                    format!("{}/orders/{id}/confirm", env.orders),
                    Some(("X-Idempotency-Key", key.clone())),
                    None,
                )
            }
            Scenario::Orchestrate => (
                Method::POST,
                format!("{}/orchestrator/create-and-confirm-order", env.orchestrator),
                None,
                Some(format!(
                    r#"{{{},"idempotency_key":"{}"}}"#,
                    env.order_fields(),
                    env.key(self.scenario)
                )),
            ),
        }
    }

    fn expected(&self) -> StatusCode {
        match self.scenario {
            Scenario::CreateOrder | Scenario::Orchestrate => StatusCode::CREATED,
            _ => StatusCode::OK,
        }
    }
}

/// A short name for a transport failure.
pub fn transport_kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect".into()
    } else {
        "transport".into()
    }
}

impl Worker for HttpWorker {
    async fn once(&mut self) -> Result<(), String> {
        let (method, url, key, body) = self.request();
        let mut req = self
            .http
            .request(method, url)
            .header("Authorization", &self.env.auth);
        if let Some((name, value)) = key {
            req = req.header(name, value);
        }
        if let Some(body) = body {
            req = req.header("Content-Type", "application/json").body(body);
        }
        let resp = req.send().await.map_err(|e| transport_kind(&e))?;
        let status = resp.status();
        let replayed = resp.headers().contains_key("idempotent-replayed");
        // Read the whole body so the connection is reused.
        resp.bytes().await.map_err(|e| transport_kind(&e))?;
        if status != self.expected() {
            return Err(status.as_u16().to_string());
        }
        if self.scenario == Scenario::ConfirmReplay && !replayed {
            return Err("not replayed".into());
        }
        Ok(())
    }
}
