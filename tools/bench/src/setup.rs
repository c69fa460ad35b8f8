//! Getting a run ready: the machine's description, the schema and operator, the services'
//! settings, an operator token, and the orders the replay and deep-page scenarios use.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicU64;

use anyhow::Context;
use b2b_platform::extract::encode_cursor;
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::dataset::Scale;
use crate::dbstatus::StatusReader;
use crate::procfs;
use crate::report::Machine;
use crate::scenarios::{Env, HttpWorker, Scenario};
use crate::services::Service;
use crate::settings::Settings;

/// The command as typed, to print in the report (less what scripts/bench.sh adds).
pub fn command_line(s: &Settings) -> String {
    let mut words = vec![
        if s.smoke {
            "scripts/bench.sh --smoke"
        } else {
            "scripts/bench.sh"
        }
        .to_owned(),
    ];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--smoke" => {}
            "--bin-dir" | "--mysql-url" => {
                let _ = args.next();
            }
            _ => words.push(a),
        }
    }
    words.join(" ")
}

fn output(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

pub async fn machine(s: &Settings) -> anyhow::Result<Machine> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mut reader = StatusReader::connect(&s.mysql_url)
        .await
        .with_context(|| format!("cannot connect to {}", s.mysql_url))?;
    let mut settings = reader
        .variables(&[
            "version",
            "innodb_buffer_pool_size",
            "innodb_flush_log_at_trx_commit",
            "sync_binlog",
            "log_bin",
            "max_connections",
            "thread_handling",
        ])
        .await?;
    let version = settings.remove("version").unwrap_or_default();
    Ok(Machine {
        nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu: cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1))
            .unwrap_or("?")
            .trim()
            .to_owned(),
        memory_mib: meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024),
        kernel: output("uname", &["-r"]),
        database: version,
        database_settings: settings,
        rustc: output("rustc", &["-V"]),
        load_average_at_start: procfs::load_average().unwrap_or(f64::NAN),
    })
}

/// Applies the migrations and loads the demo operator (`customers-api seed`).
pub fn migrate_and_seed(bin: &Path, db_url: &str, dir: &Path) -> anyhow::Result<()> {
    let out = Command::new(bin)
        .arg("seed")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("LOG_FORMAT", "json")
        .output()
        .context("cannot run customers-api seed")?;
    anyhow::ensure!(
        out.status.success(),
        "customers-api seed failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// How many more connections the server takes now, less a margin for the services and others.
pub async fn connection_headroom(reader: &mut StatusReader) -> Option<usize> {
    let vars = reader.variables(&["max_connections"]).await.ok()?;
    let max: usize = vars.get("max_connections")?.parse().ok()?;
    let connected = reader.threads_connected().await.ok()?;
    Some(max.saturating_sub(connected + 8))
}

pub struct Secrets {
    pub jwt: String,
    pub service: String,
}

impl Secrets {
    pub fn random() -> Self {
        let make = || {
            rand::rng()
                .sample_iter(Alphanumeric)
                .take(48)
                .map(char::from)
                .collect()
        };
        Self {
            jwt: make(),
            service: make(),
        }
    }
}

/// What every service is given.
pub fn base_env<'a>(s: &'a Settings, secrets: &Secrets) -> Vec<(&'a str, String)> {
    let mut env = vec![
        ("JWT_SECRET", secrets.jwt.clone()),
        ("SERVICE_TOKEN", secrets.service.clone()),
        ("RUST_LOG", s.rust_log.clone()),
        ("LOG_FORMAT", "json".to_owned()),
    ];
    env.extend(s.service_env.iter().map(|(k, v)| (k.as_str(), v.clone())));
    env
}

/// An operator token, the replayable confirmations and the deep cursors.
pub async fn scenario_env(s: &Settings, scale: Scale, svcs: &[Service]) -> anyhow::Result<Env> {
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{}/auth/token", svcs[0].base()))
        .json(&serde_json::json!({"email": "admin@b2b.local", "password": "admin123"}))
        .send()
        .await?;
    anyhow::ensure!(
        resp.status().is_success(),
        "log-in failed: {}",
        resp.status()
    );
    let body: serde_json::Value = resp.json().await?;
    let token = body["access_token"]
        .as_str()
        .context("no access_token in the log-in answer")?;

    let run_tag = format!(
        "bench{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default()
    );
    let replay_count = if s.smoke { 32 } else { 256 }.min(scale.created_orders() / 4);
    let fresh_limit = scale.created_orders() - replay_count;
    let replays: Vec<(i64, String)> = (fresh_limit..scale.created_orders())
        .filter_map(|k| scale.created_order(k))
        .map(|id| (id, format!("{run_tag}-replay-{id}")))
        .collect();
    // The filtered deep page: a cursor 20 CREATED orders before the end of the fresh pool.
    let deep_status_from = scale
        .created_order(fresh_limit.saturating_sub(21))
        .unwrap_or(1)
        - 1;
    let env = Env {
        customers: svcs[0].base(),
        orders: svcs[1].base(),
        orchestrator: svcs[2].base(),
        auth: format!("Bearer {token}"),
        scale,
        run_tag,
        replays,
        deep_cursor: encode_cursor(scale.orders as i64 - 50),
        deep_status_cursor: encode_cursor(deep_status_from),
        next_created: AtomicU64::new(0),
        fresh_limit,
        exhausted: AtomicU64::new(0),
        seq: AtomicU64::new(0),
    };

    // Confirm the replay set once, each with its key.
    for (id, key) in &env.replays {
        let resp = http
            .post(format!("{}/orders/{id}/confirm", env.orders))
            .header("Authorization", &env.auth)
            .header("X-Idempotency-Key", key)
            .send()
            .await?;
        anyhow::ensure!(
            resp.status().is_success(),
            "confirming order {id} for the replays: {}",
            resp.status()
        );
    }
    // Every scenario answers once before anything is measured.
    let env = std::sync::Arc::new(env);
    for sc in Scenario::ALL {
        use crate::driver::Worker;
        let mut w = HttpWorker::new(sc, env.clone())?;
        w.once()
            .await
            .map_err(|e| anyhow::anyhow!("{} does not work: {e}", sc.name()))?;
    }
    std::sync::Arc::try_unwrap(env).map_err(|_| anyhow::anyhow!("env still shared"))
}
