//! Requests at once: stock is never oversold, one key takes effect once, a cancel restores once;
//! on SQLite and MariaDB, and across two orders-api processes on one database.
//!
//! Invariant checked throughout: initial stock = stock + quantities held by orders not canceled.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use b2b_testkit::{Backend, JWT_SECRET, SERVICE_TOKEN};
use reqwest::RequestBuilder;
use serde_json::Value;
use tokio::sync::Barrier;

use crate::helpers::{SCARCE, TestApp, on_each_backend, order_body, replayed, token};

on_each_backend!(
    racing_creates_never_oversell,
    racing_confirms_with_one_key_confirm_once,
    racing_creates_with_one_key_make_one_order,
    racing_cancels_restore_once,
    mixed_creates_and_cancels_keep_the_invariant,
);

/// What one racer got back.
#[derive(Debug, Clone)]
struct Outcome {
    status: u16,
    replayed: bool,
    body: Value,
}

impl Outcome {
    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// Sends every request at once (released together by a barrier); outcomes in request order.
async fn race(requests: Vec<RequestBuilder>) -> Vec<Outcome> {
    let barrier = Arc::new(Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|req| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let resp = req.send().await.expect("send");
                let replayed = replayed(&resp);
                let status = resp.status().as_u16();
                let body = resp.json().await.expect("JSON body");
                Outcome {
                    status,
                    replayed,
                    body,
                }
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.expect("racer"));
    }
    out
}

fn count(outcomes: &[Outcome], status: u16) -> usize {
    outcomes.iter().filter(|o| o.status == status).count()
}

/// The stock of `product` and the quantity held by its orders that are not canceled.
async fn stock_and_held(app: &TestApp, product: i64) -> (i64, i64) {
    (app.stock(product).await, app.held(product).await)
}

fn assert_invariant(product: i64, initial: i64, (stock, held): (i64, i64)) {
    assert!(stock >= 0, "product {product}: stock {stock}");
    let msg = format!("product {product}: stock {stock} + held {held}");
    assert_eq!(initial, stock + held, "{msg}");
}

/// 50 orders of one unit each race for a product with 10 in stock.
async fn creates_racing_on(app: &TestApp, bases: &[&str], label: &str) {
    let product = app.create_product("RACE-1", 1000, 10).await["id"]
        .as_i64()
        .unwrap();
    let requests = (0..50)
        .map(|i| {
            let url = format!("{}/orders", bases[i % bases.len()]);
            let body = order_body(1 + i as i64 % 5, &[(product, 1)]);
            app.client.post(url).bearer_auth(token()).json(&body)
        })
        .collect();
    let outcomes = race(requests).await;
    let (ok, refused) = (count(&outcomes, 201), count(&outcomes, 409));
    let (stock, held) = stock_and_held(app, product).await;
    println!(
        "{label}: attempted 50, succeeded {ok}, refused {refused}, final stock {stock}, held {held}"
    );
    assert_invariant(product, 10, (stock, held));
    assert_eq!((ok, refused, stock), (10, 40, 0), "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .filter(|o| o.status == 409)
            .all(|o| o.code() == "INSUFFICIENT_STOCK")
    );
    assert_eq!(app.count("orders").await, 10);
}

async fn racing_creates_never_oversell(backend: Backend) {
    let app = TestApp::on(backend).await;
    creates_racing_on(&app, &[&app.base], &format!("racing creates ({backend:?})")).await;
}

async fn racing_confirms_with_one_key_confirm_once(backend: Backend) {
    let app = TestApp::on(backend).await;
    let order = app.create_order(&[(1, 2)]).await["id"].as_i64().unwrap();
    let url = app.url(&format!("/orders/{order}/confirm"));
    let requests = (0..20)
        .map(|_| {
            app.client
                .post(&url)
                .bearer_auth(SERVICE_TOKEN)
                .header("X-Idempotency-Key", "race-confirm")
        })
        .collect();
    let outcomes = race(requests).await;
    let fresh = outcomes.iter().filter(|o| !o.replayed).count();
    println!(
        "racing confirms ({backend:?}): attempted 20, 200s {}, fresh {fresh}",
        count(&outcomes, 200)
    );
    assert_eq!(count(&outcomes, 200), 20, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|o| o.body == outcomes[0].body),
        "one outcome for all"
    );
    assert_eq!(fresh, 1, "exactly one confirmation took effect");
    let stored = app.order_by_id(order).await;
    assert_eq!(stored["status"], "CONFIRMED");
    assert_eq!(stored["confirmed_at"], outcomes[0].body["confirmed_at"]);
    assert_eq!(app.count("idempotency_keys").await, 1);
}

async fn racing_creates_with_one_key_make_one_order(backend: Backend) {
    let app = TestApp::on(backend).await;
    let body = order_body(2, &[(SCARCE, 3), (1, 1)]);
    let requests = (0..10)
        .map(|_| {
            let req = app
                .client
                .post(app.url("/orders"))
                .bearer_auth(SERVICE_TOKEN);
            req.header("Idempotency-Key", "race-create").json(&body)
        })
        .collect();
    let outcomes = race(requests).await;
    let fresh = outcomes.iter().filter(|o| !o.replayed).count();
    let stocks = app.stocks(&[SCARCE, 1]).await;
    println!(
        "racing keyed creates ({backend:?}): attempted 10, 201s {}, fresh {fresh}, final stocks {stocks:?}",
        count(&outcomes, 201)
    );
    assert_eq!(count(&outcomes, 201), 10, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|o| o.body == outcomes[0].body),
        "one order for all"
    );
    assert_eq!(fresh, 1);
    assert_eq!(app.count("orders").await, 1);
    assert_eq!(stocks, [2, 499], "stock taken once");
}

async fn racing_cancels_restore_once(backend: Backend) {
    let app = TestApp::on(backend).await;
    let order = app.create_order(&[(SCARCE, 4), (1, 7)]).await["id"]
        .as_i64()
        .unwrap();
    let url = app.url(&format!("/orders/{order}/cancel"));
    let requests = (0..10)
        .map(|_| app.client.post(&url).bearer_auth(token()))
        .collect();
    let outcomes = race(requests).await;
    let stocks = app.stocks(&[SCARCE, 1]).await;
    println!(
        "racing cancels ({backend:?}): attempted 10, 200s {}, final stocks {stocks:?}",
        count(&outcomes, 200)
    );
    assert_eq!(count(&outcomes, 200), 10, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| o.body == outcomes[0].body && o.body["status"] == "CANCELED")
    );
    assert_eq!(stocks, [5, 500], "restored exactly once");
}

async fn mixed_creates_and_cancels_keep_the_invariant(backend: Backend) {
    let app = TestApp::on(backend).await;
    let mut products = Vec::new();
    for sku in ["MIX-A", "MIX-B", "MIX-C"] {
        products.push(
            app.create_product(sku, 250, 30).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let pair = |i: usize| [products[i % 3], products[(i + 1) % 3]];
    let mut placed = Vec::new();
    for i in 0..10 {
        let [a, b] = pair(i);
        placed.push(
            app.create_order(&[(a, 2), (b, 2)]).await["id"]
                .as_i64()
                .unwrap(),
        );
    }

    // 40 new orders against 20 cancels (each earlier order twice), all at once.
    let mut requests: Vec<RequestBuilder> = (0..40)
        .map(|i| {
            let [a, b] = pair(i);
            let body = order_body(1, &[(a, 1 + i as i64 % 3), (b, 1)]);
            app.client
                .post(app.url("/orders"))
                .bearer_auth(token())
                .json(&body)
        })
        .collect();
    for id in placed.iter().chain(&placed) {
        requests.push(
            app.client
                .post(app.url(&format!("/orders/{id}/cancel")))
                .bearer_auth(SERVICE_TOKEN),
        );
    }
    let outcomes = race(requests).await;
    let (creates, cancels) = outcomes.split_at(40);
    let mut figures = Vec::new();
    for p in &products {
        figures.push(stock_and_held(&app, *p).await);
    }
    println!(
        "mixed load ({backend:?}): creates attempted 40, succeeded {}, refused {}; \
         cancels attempted 20, ok {}; (stock, held) per product {figures:?}",
        count(creates, 201),
        count(creates, 409),
        count(cancels, 200)
    );
    assert!(
        creates
            .iter()
            .all(|o| o.status == 201 || o.code() == "INSUFFICIENT_STOCK"),
        "{creates:?}"
    );
    assert!(
        cancels
            .iter()
            .all(|o| o.status == 200 && o.body["status"] == "CANCELED"),
        "{cancels:?}"
    );
    for (p, f) in products.iter().zip(figures) {
        assert_invariant(*p, 30, f);
    }
}

/// An orders-api process of the real binary; killed when dropped.
struct Process {
    child: Child,
    base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Starts the binary on a free port; `None` if it exited before saying it listens.
    async fn start(database_url: &str, customers_api_base: &str) -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_orders-api"))
            .current_dir(std::env::temp_dir())
            .env("PORT", port.to_string())
            .env("DATABASE_URL", database_url)
            .env("JWT_SECRET", JWT_SECRET)
            .env("SERVICE_TOKEN", SERVICE_TOKEN)
            .env("CUSTOMERS_API_BASE", customers_api_base)
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn orders-api");
        let stdout = child.stdout.take().expect("stdout");
        let process = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        // Read until the start-up line, then keep draining so logging never blocks the server.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("orders-api listening") {
                    let _ = tx.send(());
                }
            }
        });
        let ready = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)));
        ready.await.ok()?.ok()?;
        let client = b2b_testkit::client();
        for _ in 0..100 {
            let health = client.get(format!("{}/health", process.base)).send().await;
            if health.is_ok_and(|r| r.status() == 200) {
                return Some(process);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

/// The racing creates, split across two processes of the binary on one MariaDB database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(mysql_tests),
    ignore = "needs TEST_MYSQL_URL (SQLite is one process's file)"
)]
async fn two_processes_never_oversell() {
    let app = TestApp::on(Backend::MySql).await;
    let mut processes = Vec::new();
    // A port taken between choosing and binding costs one more try.
    for _ in 0..5 {
        if processes.len() < 2 {
            processes.extend(Process::start(&app.db.url, &app.customers).await);
        }
    }
    assert_eq!(processes.len(), 2, "the orders-api binary did not start");
    let bases: Vec<&str> = processes.iter().map(|p| p.base.as_str()).collect();
    creates_racing_on(&app, &bases, "two processes (MariaDB)").await;
}
