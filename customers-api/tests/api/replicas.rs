//! Two customers-api processes behind a trusted proxy on one MariaDB database, as production
//! runs them: the log-in budgets are one budget, and the verifications keep memory bounded.

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use b2b_testkit::{Backend, JWT_SECRET, SERVICE_TOKEN, TestDb};
use chrono::{Timelike, Utc};
use serde_json::json;

/// The load balancer's address: the replicas trust it, and the tests connect from it.
const PROXY: &str = "127.0.0.2";

struct Replica {
    child: Child,
    base: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Replica {
    async fn start(database_url: &str) -> Self {
        for _ in 0..5 {
            if let Some(r) = Self::try_start(database_url).await {
                return r;
            }
        }
        panic!("customers-api did not start");
    }

    /// `None` when the port chosen was taken before the binary bound it.
    async fn try_start(database_url: &str) -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_customers-api"))
            .current_dir(std::env::temp_dir())
            .env("PORT", port.to_string())
            .env("DATABASE_URL", database_url)
            .env("JWT_SECRET", JWT_SECRET)
            .env("SERVICE_TOKEN", SERVICE_TOKEN)
            .env("TRUSTED_PROXIES", format!("{PROXY}/32"))
            .env("LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn customers-api");
        let stdout = child.stdout.take().expect("stdout");
        let replica = Self {
            child,
            base: format!("http://0.0.0.0:{port}"),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("customers-api listening") {
                    let _ = tx.send(());
                }
            }
        });
        let ready = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)));
        ready.await.ok()?.ok()?;
        Some(replica)
    }

    /// Peak resident memory of the process so far, in MiB (`VmHWM`).
    fn peak_rss_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM");
        kib / 1024
    }
}

/// A client whose connections come from `from` (a loopback address).
fn client_from(from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn attempt(
    client: &reqwest::Client,
    replica: &Replica,
    email: &str,
    password: &str,
    forwarded_for: &str,
) -> u16 {
    // The replicas listen on every interface; reach them on the loopback address we come from.
    let url = replica.base.replace("0.0.0.0", "127.0.0.1") + "/auth/token";
    client
        .post(url)
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("POST /auth/token")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(mysql_tests),
    ignore = "needs TEST_MYSQL_URL (replicas share a server database)"
)]
async fn two_replicas_behind_a_trusted_proxy_share_one_budget() {
    let db = TestDb::new(Backend::MySql).await.seeded().await;
    let replicas = [Replica::start(&db.url).await, Replica::start(&db.url).await];
    let proxy = client_from(PROXY);
    let direct = client_from("127.0.0.1");
    // The budgets are per minute: leave the test a whole one.
    let second = Utc::now().second();
    if second > 25 {
        tokio::time::sleep(Duration::from_secs(u64::from(61 - second))).await;
    }

    // 20 wrong passwords for one e-mail from one client, alternating replicas.
    let mut guesses = Vec::new();
    for i in 0..20 {
        let replica = &replicas[i % 2];
        guesses.push(attempt(&proxy, replica, "admin@b2b.local", "guess", "198.51.100.1").await);
    }
    assert_eq!(guesses[..10], [401; 10], "{guesses:?}");
    assert_eq!(guesses[10..], [429; 10], "{guesses:?}");
    // The same operator logs in from another address at once.
    let own = attempt(
        &proxy,
        &replicas[0],
        "admin@b2b.local",
        "admin123",
        "203.0.113.7",
    )
    .await;
    assert_eq!(own, 200);

    // 120 failures from one address spend that address only.
    let mut spent = Vec::new();
    for i in 0..120 {
        let email = format!("user{i}@b2b.local");
        spent.push(attempt(&proxy, &replicas[i % 2], &email, "guess", "198.51.100.3").await);
    }
    assert_eq!(
        spent.iter().filter(|s| **s == 401).count(),
        100,
        "{spent:?}"
    );
    assert!(spent[100..].iter().all(|s| *s == 429), "{spent:?}");
    let other = attempt(
        &proxy,
        &replicas[1],
        "user1@b2b.local",
        "guess",
        "198.51.100.4",
    )
    .await;
    assert_eq!(other, 401, "another address is not blocked");

    // The same 120 from an untrusted peer, each with a spoofed X-Forwarded-For, block that peer.
    let mut spoofed = Vec::new();
    for i in 0..120 {
        let email = format!("spoof{i}@b2b.local");
        let xff = format!("192.0.2.{}", i + 1);
        spoofed.push(attempt(&direct, &replicas[i % 2], &email, "guess", &xff).await);
    }
    assert_eq!(
        spoofed.iter().filter(|s| **s == 401).count(),
        100,
        "{spoofed:?}"
    );
    let blocked = attempt(
        &direct,
        &replicas[0],
        "admin@b2b.local",
        "admin123",
        "203.0.113.8",
    )
    .await;
    assert_eq!(
        blocked, 429,
        "the header of an untrusted peer changes nothing"
    );

    // 100 concurrent log-ins: the verifications are bounded, so is the memory.
    let before = replicas[0].peak_rss_mib();
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..100 {
        let proxy = proxy.clone();
        let url = replicas[0].base.replace("0.0.0.0", "127.0.0.1") + "/auth/token";
        calls.spawn(async move {
            proxy
                .post(url)
                .header("X-Forwarded-For", format!("198.18.0.{}", i + 1))
                .json(&json!({"email": format!("load{i}@b2b.local"), "password": "guess"}))
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
    }
    let answers: Vec<u16> = calls
        .join_all()
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let peak = replicas[0].peak_rss_mib();
    eprintln!(
        "100 concurrent log-ins: peak RSS {before} MiB before, {peak} MiB after; {} answered 401, {} 503",
        answers.iter().filter(|s| **s == 401).count(),
        answers.iter().filter(|s| **s == 503).count()
    );
    assert!(
        answers.iter().all(|s| *s == 401 || *s == 503),
        "{answers:?}"
    );
    assert!(peak < 200, "peak RSS {peak} MiB");
}
