//! b2b-chaos: the chaos suite. Runs the three real binaries (two orders-api replicas behind a
//! balancer) on a fresh MariaDB database, drives concurrent orchestrations through them while
//! processes, the database and the network fail on a schedule, then checks the invariants in
//! the database against what every client was told. Exits 0 when all hold, 1 when one does not
//! (the database is then kept), 2 when the run itself could not be done.
//!
//! Settings (environment): `CHAOS_ORCHESTRATIONS` (600), `CHAOS_CLIENTS` (16), `CHAOS_SECONDS`
//! (70: the load's spread, about the fault schedule's), `CHAOS_SEED` (random), `CHAOS_MYSQL_URL`
//! (`mysql://root@127.0.0.1:3306`), `CHAOS_RESTART_DB` (1; 0 skips the MariaDB restart, for
//! development only), `CHAOS_BUILD` (1; 0 uses the binaries already in `target/`),
//! `CHAOS_KEEP_DB` (0).

mod checks;
mod cluster;
mod faults;
mod load;
mod mariadb;
mod proxy;
mod report;
mod services;
mod timeline;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use b2b_platform::{Db, config};
use tokio::time::Instant;

use crate::checks::Check;
use crate::cluster::{Cluster, ORCHESTRATION_DEADLINE_MS};
use crate::timeline::Timeline;

/// Stocks set before the load: plenty of products 1–8, scarce 9 and 10 so that
/// `INSUFFICIENT_STOCK` happens and compensations give stock back to a contended row.
const STOCKS: [(i64, i64); 10] = [
    (1, 10_000),
    (2, 10_000),
    (3, 10_000),
    (4, 10_000),
    (5, 10_000),
    (6, 10_000),
    (7, 10_000),
    (8, 10_000),
    (9, 30),
    (10, 12),
];
/// However the run goes, it ends by then (the build before it aside).
const RUN_LIMIT: Duration = Duration::from_secs(600);

struct Settings {
    orchestrations: usize,
    clients: usize,
    seconds: u64,
    seed: u64,
    mysql_url: String,
    restart_db: bool,
    build: bool,
    keep_db: bool,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let flag = |name: &str, default: bool| {
            config::parse_or::<u8>(name, u8::from(default)).map(|v| v != 0)
        };
        Ok(Self {
            orchestrations: config::parse_or("CHAOS_ORCHESTRATIONS", 600)?,
            clients: config::parse_or("CHAOS_CLIENTS", 16)?.max(1),
            seconds: config::parse_or("CHAOS_SECONDS", 70)?,
            seed: config::parse_or("CHAOS_SEED", rand::random())?,
            mysql_url: config::var_or("CHAOS_MYSQL_URL", "mysql://root@127.0.0.1:3306"),
            restart_db: flag("CHAOS_RESTART_DB", true)?,
            build: flag("CHAOS_BUILD", true)?,
            keep_db: flag("CHAOS_KEEP_DB", false)?,
        })
    }
}

#[tokio::main]
async fn main() {
    let outcome = async {
        let settings = Settings::from_env()?;
        tokio::select! {
            r = run(settings) => r,
            () = b2b_platform::server::shutdown_signal() => anyhow::bail!("interrupted"),
        }
    }
    .await;
    // Every guard has been dropped by now: children killed, MariaDB running.
    let code = match outcome {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("chaos: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

/// The lowest stock seen by sampling every 500 ms, and how many samples were taken.
async fn sample_min_stock(db: Db, seen: Arc<Mutex<(Option<i64>, u64)>>) {
    loop {
        let sample = db
            .fetch_all::<(i64,)>(
                "SELECT CAST(COALESCE(MIN(stock), 0) AS SIGNED) FROM products",
                &[],
            )
            .await;
        if let Ok(rows) = sample {
            let mut s = seen.lock().expect("samples");
            let m = rows.first().map_or(0, |r| r.0);
            s.0 = Some(s.0.map_or(m, |old: i64| old.min(m)));
            s.1 += 1;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn run(s: Settings) -> anyhow::Result<bool> {
    // Declared first, dropped last: MariaDB is running when this returns, however it returns.
    let _server = mariadb::ServerGuard;
    let timeline = Timeline::new();
    tokio::task::spawn_blocking(mariadb::ensure_running).await??;
    timeline.note(
        "setup",
        format!(
            "{} orchestrations by {} clients spread over {}s, seed {} (CHAOS_SEED to replay the same load)",
            s.orchestrations, s.clients, s.seconds, s.seed
        ),
    );
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let dir = std::env::temp_dir().join(format!("b2b-chaos-{run_id}"));
    let build = s.build;
    let bin_dir = dir.join("bin");
    let bins =
        tokio::task::spawn_blocking(move || services::prepare_binaries(build, &bin_dir)).await??;
    timeline.note(
        "setup",
        format!(
            "binaries copied to {} ({} build); logs in {}",
            bins.display(),
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            dir.display()
        ),
    );

    let chaos = mariadb::ChaosDb::create(&s.mysql_url, &run_id, &STOCKS).await?;
    timeline.note(
        "setup",
        format!(
            "database {} created, migrated, seeded; stocks {STOCKS:?}",
            chaos.name
        ),
    );
    let result = tokio::time::timeout(
        RUN_LIMIT,
        drive(&s, &chaos, &bins, &dir, &run_id, &timeline),
    )
    .await
    .unwrap_or_else(|_| {
        Err(anyhow::anyhow!(
            "the run took longer than {}s",
            RUN_LIMIT.as_secs()
        ))
    });
    let passed = matches!(result, Ok(true));
    if passed && !s.keep_db {
        chaos.drop_database().await?;
        let _ = std::fs::remove_dir_all(&dir);
        timeline.note(
            "done",
            format!("database {} dropped; every invariant held", chaos.name),
        );
    } else {
        timeline.note(
            "done",
            format!(
                "database {} KEPT for inspection; logs in {}",
                chaos.name,
                dir.display()
            ),
        );
    }
    result
}

/// Starts the cluster, runs load and faults together, checks, reports.
async fn drive(
    s: &Settings,
    chaos: &mariadb::ChaosDb,
    bins: &std::path::Path,
    dir: &std::path::Path,
    run_id: &str,
    timeline: &Timeline,
) -> anyhow::Result<bool> {
    let mut cluster = Cluster::start(bins, dir, &chaos.url, timeline).await?;
    let token = cluster.operator_token().await?;
    let plans = load::plans(s.orchestrations, s.seed, run_id);
    let seen = Arc::new(Mutex::new((None, 0)));
    let sampler = tokio::spawn(sample_min_stock(chaos.db.clone(), seen.clone()));

    timeline.note("load", "load and fault schedule start");
    let start = Instant::now();
    let orchestrator = cluster.orchestrator.base();
    let per_call = Duration::from_millis(ORCHESTRATION_DEADLINE_MS) + Duration::from_secs(5);
    let (load, faults) = tokio::join!(
        load::run(
            &orchestrator,
            &token,
            plans,
            s.clients,
            Duration::from_secs(s.seconds),
            per_call,
            timeline
        ),
        faults::run(&mut cluster, start, s.restart_db, timeline),
    );
    sampler.abort();
    let (load, faults) = (load?, faults?);
    // What every key went through, kept with the logs when the run fails.
    let histories: Vec<String> = load.outcomes.iter().map(checks::history).collect();
    std::fs::write(dir.join("outcomes.txt"), histories.join("\n") + "\n")?;
    timeline.note(
        "load",
        format!("load finished in {:.1}s", start.elapsed().as_secs_f64()),
    );

    let healthy = cluster.all_healthy().await;
    let (min_seen, samples) = *seen.lock().expect("samples");
    timeline.note(
        "check",
        format!("{samples} stock samples taken during the run"),
    );
    let server_errors = checks::server_errors(dir)?;
    let mut checks =
        checks::run(&chaos.db, &STOCKS, &load, &faults, min_seen, &server_errors).await?;
    checks.push(Check {
        name: "every part healthy at the end",
        pass: Some(healthy),
        detail: "customers-api, both orders-api replicas, the orchestrator".to_owned(),
        notes: Vec::new(),
    });
    Ok(report::print(
        timeline,
        &cluster,
        &load,
        &faults,
        &server_errors,
        &checks,
    ))
}
