//! The load: concurrent clients calling the orchestrator with an operator token. Each key is
//! retried with the SAME idempotency key on no answer, 5xx and an in-flight 409 `CONFLICT`, with
//! jittered back-off, until a definitive answer or [`MAX_TRIES`]; what the client was finally
//! told is kept per key for the checks.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::timeline::Timeline;

/// Tries of one key, the first included.
pub const MAX_TRIES: u32 = 12;
/// A customer and a product that do not exist.
pub const MISSING_ID: i64 = 999_999;

/// What a key is expected to end in, by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// An order (or `INSUFFICIENT_STOCK`).
    Order,
    CustomerNotFound,
    ProductNotFound,
}

/// One orchestration to drive.
#[derive(Debug, Clone)]
pub struct Plan {
    pub key: String,
    pub customer_id: i64,
    pub items: Vec<(i64, i64)>,
    pub expect: Expect,
    /// After a success, send the same key with other items: must be 422.
    pub probe_reuse: bool,
}

impl Plan {
    fn body(&self, items: &[(i64, i64)], correlation: &str) -> Value {
        let items: Vec<Value> = items
            .iter()
            .map(|(p, q)| json!({"product_id": p, "qty": q}))
            .collect();
        json!({"customer_id": self.customer_id, "items": items,
               "idempotency_key": self.key, "correlation_id": correlation})
    }
}

/// `n` orchestrations over customers 1..=5 and products 1..=10 (1–3 lines, 1–3 each), a few
/// aimed at a missing customer or product, a few probing key reuse; the same for a same seed.
pub fn plans(n: usize, seed: u64, run: &str) -> Vec<Plan> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let lines = rng.random_range(1..=3);
            let mut items: Vec<(i64, i64)> = rand::seq::index::sample(&mut rng, 10, lines)
                .into_iter()
                .map(|p| (p as i64 + 1, rng.random_range(1..=3)))
                .collect();
            let roll = rng.random_range(0..100);
            let (customer_id, expect) = match roll {
                0..3 => (MISSING_ID, Expect::CustomerNotFound),
                3..6 => {
                    items[0].0 = MISSING_ID;
                    (rng.random_range(1..=5), Expect::ProductNotFound)
                }
                _ => (rng.random_range(1..=5), Expect::Order),
            };
            Plan {
                key: format!("chaos-{run}-{i:04}"),
                customer_id,
                items,
                expect,
                probe_reuse: (6..10).contains(&roll),
            }
        })
        .collect()
}

/// What one call got.
#[derive(Debug, Clone)]
pub enum Answer {
    Http {
        status: u16,
        /// `CONFIRMED` for a success, else the error code.
        code: String,
        compensated: Option<bool>,
        order_id: Option<i64>,
        /// `details.status`: the state of an order that is no longer confirmed.
        state: Option<String>,
        /// `details.upstream_status` of an `UPSTREAM_*` error.
        upstream_status: Option<u16>,
    },
    /// Time-out or connection error.
    NoAnswer(String),
}

impl Answer {
    pub fn label(&self) -> String {
        match self {
            Answer::Http {
                status,
                code,
                compensated,
                upstream_status,
                state,
                ..
            } => {
                let mut s = format!("{status} {code}");
                if let Some(state) = state {
                    s.push_str(&format!(" (order {state})"));
                }
                if let Some(u) = upstream_status {
                    s.push_str(&format!(" (upstream {u})"));
                }
                match compensated {
                    Some(true) => s.push_str(" compensated"),
                    Some(false) => s.push_str(" NOT compensated"),
                    None => {}
                }
                s
            }
            Answer::NoAnswer(why) => format!("no answer ({why})"),
        }
    }

    /// Worth another try with the same key.
    fn retry(&self) -> bool {
        match self {
            Answer::NoAnswer(_) => true,
            // A 409 CONFLICT about the order's state (compensated, or no longer confirmed) is
            // settled: every retry would say so again. Any other CONFLICT is a call in flight.
            Answer::Http {
                status,
                code,
                compensated,
                state,
                ..
            } => {
                *status >= 500
                    || (*status == 409
                        && code == "CONFLICT"
                        && compensated.is_none()
                        && state.is_none())
            }
        }
    }

    pub fn confirmed(&self) -> Option<i64> {
        match self {
            Answer::Http {
                status: 201,
                order_id,
                ..
            } => *order_id,
            _ => None,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            Answer::Http { code, .. } => code,
            Answer::NoAnswer(_) => "",
        }
    }

    pub fn compensated(&self) -> Option<bool> {
        match self {
            Answer::Http { compensated, .. } => *compensated,
            Answer::NoAnswer(_) => None,
        }
    }

    /// The order state the answer reports, if any.
    pub fn state(&self) -> Option<&str> {
        match self {
            Answer::Http { state, .. } => state.as_deref(),
            Answer::NoAnswer(_) => None,
        }
    }

    pub fn order_id(&self) -> Option<i64> {
        match self {
            Answer::Http { order_id, .. } => *order_id,
            Answer::NoAnswer(_) => None,
        }
    }

    /// 201, 404, 409 `INSUFFICIENT_STOCK`, 422, or a settled 409 `CONFLICT`.
    pub fn definitive(&self) -> bool {
        !self.retry()
    }
}

/// One try and when it ended.
#[derive(Debug, Clone)]
pub struct Try {
    pub at_secs: f64,
    pub answer: Answer,
}

/// Everything one key went through.
#[derive(Debug, Clone)]
pub struct KeyOutcome {
    pub plan: Plan,
    pub tries: Vec<Try>,
    /// The key-reuse probe's tries, when one was sent.
    pub probe: Vec<Try>,
}

impl KeyOutcome {
    /// What the client was finally told.
    pub fn last(&self) -> &Answer {
        &self.tries.last().expect("at least one try").answer
    }
}

/// Counts of the answers of every request.
#[derive(Default)]
pub struct Tally {
    pub requests: AtomicU64,
    pub by_answer: Mutex<BTreeMap<String, u64>>,
}

struct Client {
    http: reqwest::Client,
    url: String,
    token: String,
    timeline: Timeline,
    tally: Tally,
}

impl Client {
    async fn call(&self, body: &Value) -> Try {
        self.tally.requests.fetch_add(1, Ordering::Relaxed);
        let sent = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await;
        let answer = match sent {
            Err(e) if e.is_timeout() => Answer::NoAnswer("timeout".to_owned()),
            Err(_) => Answer::NoAnswer("connection error".to_owned()),
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.json::<Value>().await {
                    Ok(v) => parse(status, &v),
                    Err(e) if e.is_timeout() => Answer::NoAnswer("timeout".to_owned()),
                    Err(_) => parse(status, &Value::Null),
                }
            }
        };
        let label = answer.label();
        *self
            .tally
            .by_answer
            .lock()
            .expect("tally")
            .entry(label)
            .or_default() += 1;
        Try {
            at_secs: self.timeline.elapsed_secs(),
            answer,
        }
    }

    /// Calls with `items` until a definitive answer or [`MAX_TRIES`].
    async fn drive(&self, plan: &Plan, items: &[(i64, i64)], tag: &str) -> Vec<Try> {
        let mut tries = Vec::new();
        loop {
            let n = tries.len() + 1;
            let t = self
                .call(&plan.body(items, &format!("{}-{tag}{n}", plan.key)))
                .await;
            let again = t.answer.retry();
            tries.push(t);
            if !again || tries.len() >= MAX_TRIES as usize {
                return tries;
            }
            let ceiling = (200u64 << (n - 1).min(4)).min(2_000);
            let pause = rand::random_range(100..=ceiling.max(100));
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }

    async fn run(&self, plan: &Plan) -> KeyOutcome {
        let tries = self.drive(plan, &plan.items, "t").await;
        let mut probe = Vec::new();
        let confirmed = tries.last().is_some_and(|t| t.answer.confirmed().is_some());
        if plan.probe_reuse && confirmed {
            let mut other = plan.items.clone();
            other[0].1 += 1;
            probe = self.drive(plan, &other, "reuse").await;
        }
        KeyOutcome {
            plan: plan.clone(),
            tries,
            probe,
        }
    }
}

fn parse(status: u16, v: &Value) -> Answer {
    let error = &v["error"];
    let details = &error["details"];
    let code = if status == 201 {
        v["data"]["order"]["status"]
            .as_str()
            .unwrap_or("?")
            .to_owned()
    } else {
        error["code"].as_str().unwrap_or("?").to_owned()
    };
    let order_id = if status == 201 {
        v["data"]["order"]["id"].as_i64()
    } else {
        details["order_id"].as_i64()
    };
    Answer::Http {
        status,
        code,
        compensated: details["compensated"].as_bool(),
        order_id,
        state: details["status"].as_str().map(str::to_owned),
        upstream_status: details["upstream_status"]
            .as_u64()
            .and_then(|u| u16::try_from(u).ok()),
    }
}

/// The load's results: every key's outcome, and the counts of every request's answer.
pub struct LoadResult {
    pub outcomes: Vec<KeyOutcome>,
    pub tally: Tally,
}

/// Drives `plans` with `clients` concurrent clients, their starts spread evenly over `spread`.
pub async fn run(
    orchestrator: &str,
    token: &str,
    plans: Vec<Plan>,
    clients: usize,
    spread: Duration,
    per_call_timeout: Duration,
    timeline: &Timeline,
) -> anyhow::Result<LoadResult> {
    let client = Arc::new(Client {
        http: reqwest::Client::builder()
            .timeout(per_call_timeout)
            .pool_max_idle_per_host(clients)
            .build()?,
        url: format!("{orchestrator}/orchestrator/create-and-confirm-order"),
        token: token.to_owned(),
        timeline: timeline.clone(),
        tally: Tally::default(),
    });
    let total = plans.len();
    let plans = Arc::new(plans);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let start = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (client, plans, next, done, results) = (
            client.clone(),
            plans.clone(),
            next.clone(),
            done.clone(),
            results.clone(),
        );
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(plan) = plans.get(i) else { return };
                let due = start + spread.mul_f64(i as f64 / plans.len() as f64);
                tokio::time::sleep_until(due).await;
                let outcome = client.run(plan).await;
                results.lock().expect("results").push(outcome);
                done.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    let progress = {
        let (client, done, timeline) = (client.clone(), done.clone(), timeline.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                timeline.note(
                    "load",
                    format!(
                        "{}/{total} orchestrations settled, {} requests sent",
                        done.load(Ordering::SeqCst),
                        client.tally.requests.load(Ordering::Relaxed)
                    ),
                );
            }
        })
    };
    while let Some(joined) = workers.join_next().await {
        joined?;
    }
    progress.abort();
    let _ = progress.await;
    let mut outcomes = std::mem::take(&mut *results.lock().expect("results"));
    outcomes.sort_by(|a, b| a.plan.key.cmp(&b.plan.key));
    let client = Arc::into_inner(client).expect("the workers are done");
    Ok(LoadResult {
        outcomes,
        tally: client.tally,
    })
}
