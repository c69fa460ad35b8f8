//! The system under test, wired as in production but on free 127.0.0.1 ports:
//!
//! ```text
//! load ─▶ orchestrator ─▶ fault proxy ─▶ customers-api ◀─────────────┐
//!                      └▶ fault proxy ─▶ balancer ─▶ orders-api #1 ───┤ (direct)
//!                                                 └▶ orders-api #2 ───┘
//! ```

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::proxy::{Balancer, Fault, FaultProxy};
use crate::services::{Service, free_port, health};
use crate::timeline::Timeline;

/// The orchestrator's settings: short, so faults turn into retries and time-outs quickly.
pub const UPSTREAM_TIMEOUT_MS: u64 = 1_500;
pub const ORCHESTRATION_DEADLINE_MS: u64 = 10_000;
const ORCHESTRATOR_ENV: [(&str, &str); 3] = [
    ("UPSTREAM_MAX_ATTEMPTS", "4"),
    ("UPSTREAM_BACKOFF_MS", "50"),
    ("UPSTREAM_MAX_BACKOFF_MS", "500"),
];
/// orders-api's time-out of a customer look-up.
pub const CUSTOMERS_API_TIMEOUT_MS: u64 = 800;

pub struct Cluster {
    pub customers: Service,
    pub orders: Vec<Service>,
    pub orchestrator: Service,
    pub balancer: Balancer,
    pub customers_proxy: FaultProxy,
    pub orders_proxy: FaultProxy,
    pub http: reqwest::Client,
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl Cluster {
    /// Starts every part on `database_url` and waits until each is healthy.
    pub async fn start(
        bins: &Path,
        logs: &Path,
        database_url: &str,
        timeline: &Timeline,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        let jwt = format!("chaos-jwt-{}", uuid::Uuid::new_v4().simple());
        let service_token = format!("chaos-svc-{}", uuid::Uuid::new_v4().simple());
        let secrets = [
            ("JWT_SECRET", jwt.as_str()),
            ("SERVICE_TOKEN", service_token.as_str()),
        ];

        let mut api_env = env(&secrets);
        api_env.push(("DATABASE_URL".into(), database_url.to_owned()));
        let mut customers = Service::new(
            "customers-api",
            bins.join("customers-api"),
            free_port()?,
            api_env.clone(),
            logs,
        );
        customers.start(&http).await?;
        timeline.note(
            "setup",
            format!(
                "customers-api on {} (pid {:?})",
                customers.base(),
                customers.pid()
            ),
        );

        api_env.push(("CUSTOMERS_API_BASE".into(), customers.base()));
        api_env.push((
            "CUSTOMERS_API_TIMEOUT_MS".into(),
            CUSTOMERS_API_TIMEOUT_MS.to_string(),
        ));
        let mut orders = Vec::new();
        for n in 1..=2 {
            let mut replica = Service::new(
                &format!("orders-api#{n}"),
                bins.join("orders-api"),
                free_port()?,
                api_env.clone(),
                logs,
            );
            replica.start(&http).await?;
            timeline.note(
                "setup",
                format!(
                    "{} on {} (pid {:?})",
                    replica.name,
                    replica.base(),
                    replica.pid()
                ),
            );
            orders.push(replica);
        }

        let balancer = Balancer::spawn(orders.iter().map(Service::addr).collect()).await?;
        let orders_proxy = FaultProxy::spawn("orders proxy", balancer.addr).await?;
        let customers_proxy = FaultProxy::spawn("customers proxy", customers.addr()).await?;
        timeline.note(
            "setup",
            format!(
                "balancer on {} (round robin over both replicas); fault proxies: orders {}, customers {}",
                balancer.addr, orders_proxy.addr, customers_proxy.addr
            ),
        );

        let mut orch_env = env(&secrets);
        orch_env.extend(env(&ORCHESTRATOR_ENV));
        orch_env.push((
            "UPSTREAM_TIMEOUT_MS".into(),
            UPSTREAM_TIMEOUT_MS.to_string(),
        ));
        orch_env.push((
            "ORCHESTRATION_DEADLINE_MS".into(),
            ORCHESTRATION_DEADLINE_MS.to_string(),
        ));
        orch_env.push(("CUSTOMERS_API_BASE".into(), customers_proxy.base()));
        orch_env.push(("ORDERS_API_BASE".into(), orders_proxy.base()));
        let mut orchestrator = Service::new(
            "lambda-orchestrator",
            bins.join("lambda-orchestrator"),
            free_port()?,
            orch_env,
            logs,
        );
        orchestrator.start(&http).await?;
        timeline.note(
            "setup",
            format!(
                "lambda-orchestrator on {} (pid {:?})",
                orchestrator.base(),
                orchestrator.pid()
            ),
        );

        Ok(Self {
            customers,
            orders,
            orchestrator,
            balancer,
            customers_proxy,
            orders_proxy,
            http,
        })
    }

    /// An operator token from customers-api (the demo operator of the seed).
    pub async fn operator_token(&self) -> anyhow::Result<String> {
        let resp = self
            .http
            .post(format!("{}/auth/token", self.customers.base()))
            .json(&serde_json::json!({"email": "admin@b2b.local", "password": "admin123"}))
            .send()
            .await?;
        anyhow::ensure!(resp.status() == 200, "log-in answered {}", resp.status());
        let body: serde_json::Value = resp.json().await?;
        body["access_token"]
            .as_str()
            .map(str::to_owned)
            .context("no access_token in the log-in answer")
    }

    /// The APIs that have a database: name and base URL.
    pub fn apis(&self) -> Vec<(String, String)> {
        std::iter::once(&self.customers)
            .chain(&self.orders)
            .map(|s| (s.name.clone(), s.base()))
            .collect()
    }

    pub fn set_proxies(&self, fault: Fault) {
        self.orders_proxy.set(fault);
        self.customers_proxy.set(fault);
    }

    /// Whether every part answers `/health` with 200 right now.
    pub async fn all_healthy(&self) -> bool {
        for (_, base) in self.apis() {
            if health(&self.http, &base).await != Some(200) {
                return false;
            }
        }
        health(&self.http, &self.orchestrator.base()).await == Some(200)
    }
}
