//! b2b-bench: the benchmark harness (run it through `scripts/bench.sh`). On a fresh MariaDB/MySQL
//! database it loads data at scale with bulk SQL, measures the database's own commit rate (the
//! yardstick), starts the three release binaries on free 127.0.0.1 ports, drives each scenario
//! at fixed concurrencies for a fixed time, counts the statements and commits each request
//! costs, times the Lambda bootstrap, and writes `results.md` and `results.json`.
//!
//! Exit status: 0 done; 1 done but some request failed (the smoke run's check); 2 not done.

mod dataset;
mod dbstatus;
mod driver;
mod lambda;
mod measure;
mod procfs;
mod report;
mod scenarios;
mod services;
mod settings;
mod setup;
mod watch;
mod yardstick;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::dataset::Scale;
use crate::dbstatus::StatusReader;
use crate::measure::Watched;
use crate::report::{Bound, CensusRow, Report};
use crate::scenarios::{HttpWorker, Scenario};
use crate::services::{BINARIES, Service};
use crate::settings::Settings;
use crate::yardstick::{CommitWorker, PoolCommitWorker};

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "-h" || a == "--help") {
        print!("{}", settings::USAGE);
        return;
    }
    let settings = match Settings::parse(std::env::args().skip(1)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e:#}");
            std::process::exit(2);
        }
    };
    match run(settings).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("b2b-bench: {e:#}");
            std::process::exit(2);
        }
    }
}

fn phase(what: &str) {
    eprintln!("\n== {what}");
}

fn titles() -> BTreeMap<String, String> {
    Scenario::ALL
        .iter()
        .map(|sc| (sc.name().to_owned(), sc.title().to_owned()))
        .collect()
}

/// Writes `results.md` beside a run's `results.json` again (after a change to the tables).
fn render(json: &std::path::Path) -> anyhow::Result<i32> {
    let mut report: Report = serde_json::from_str(&std::fs::read_to_string(json)?)?;
    // Runs made before the "other" CPU column: the machine's busy time less the watched processes'.
    let cores = report.machine.nproc as f64;
    for row in report
        .yardstick
        .iter_mut()
        .chain(report.scenarios.iter_mut())
    {
        if !row.cpu_us.contains_key("other") && row.rps > 0.0 {
            let busy = row.machine_busy_pct / 100.0 * cores * 1e6 / row.rps;
            let watched: f64 = row.cpu_us.values().sum();
            row.cpu_us
                .insert("other".to_owned(), (busy - watched).max(0.0));
        }
    }
    let md = report.markdown(&titles());
    std::fs::write(json.with_file_name("results.md"), &md)?;
    println!("{md}");
    Ok(0)
}

async fn run(s: Settings) -> anyhow::Result<i32> {
    if let Some(json) = &s.render {
        return render(json);
    }
    let wall = Instant::now();
    std::fs::create_dir_all(&s.out)?;
    let out = s.out.canonicalize()?;
    let bins = services::copy_binaries(&s.bin_dir, &out.join("bin"))?;
    let scale = Scale {
        customers: s.customers,
        products: s.products,
        orders: s.orders,
    };
    let mut report = Report {
        command: setup::command_line(&s),
        machine: setup::machine(&s).await?,
        scale: [
            ("customers".to_owned(), s.customers),
            ("products".to_owned(), s.products),
            ("orders".to_owned(), s.orders),
        ]
        .into(),
        duration_s: s.duration.as_secs_f64(),
        warmup_s: s.warmup.as_secs_f64(),
        ..Report::default()
    };
    eprintln!("results in {}", out.display());

    phase("data");
    let db_url = s.database_url();
    if s.reuse_data && dataset::loaded_at(&db_url, scale).await {
        eprintln!("  reusing {} (loaded at this scale)", s.database);
    } else {
        dataset::recreate(&s.mysql_url, &s.database).await?;
        setup::migrate_and_seed(&bins.join("customers-api"), &db_url, &out)?;
        let t = Instant::now();
        let times = dataset::load(&db_url, scale).await?;
        eprintln!("  loaded in {:.1} s", t.elapsed().as_secs_f64());
        report.load = Some(times);
    }

    let mut reader = StatusReader::connect(&db_url).await?;
    let db_pid = procfs::database_pid();
    let me = std::process::id();
    let mut watched = Watched {
        pids: [("driver".to_owned(), me)]
            .into_iter()
            .chain(db_pid.map(|p| ("mariadbd".to_owned(), p)))
            .collect(),
        services: Vec::new(),
        ticks_per_s: procfs::clock_ticks(),
    };

    // The yardstick runs before the services hold their pools, so that 128 client connections
    // fit under the server's max_connections.
    phase("yardstick: BEGIN; INSERT; COMMIT");
    let headroom = setup::connection_headroom(&mut reader).await;
    for &c in s.concurrency.iter().filter(|_| s.wants("yardstick")) {
        if headroom.is_some_and(|h| c > h) {
            report.warnings.push(format!(
                "yardstick at {c} clients skipped: the server has room for {} more connections",
                headroom.unwrap_or(0)
            ));
            continue;
        }
        let mut workers = Vec::with_capacity(c);
        for task in 0..c {
            workers.push(CommitWorker::connect(&db_url, task as i64).await?);
        }
        let row = measure::run("yardstick", workers, &s, &watched, &mut reader).await;
        report.yardstick.push(row);
        let pool = PoolCommitWorker::pool(&db_url, c).await?;
        let workers = (0..c)
            .map(|task| PoolCommitWorker::new(pool.clone(), task as i64))
            .collect();
        let row = measure::run("yardstick_pool", workers, &s, &watched, &mut reader).await;
        pool.close().await;
        report.yardstick.push(row);
        // Let the server see the closed connections go before the next, larger, set.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    phase("services");
    let secrets = setup::Secrets::random();
    let mut env = setup::base_env(&s, &secrets);
    env.push(("DATABASE_URL", db_url.clone()));
    env.push(("LOGIN_ATTEMPTS_PER_MINUTE", "1000".to_owned()));
    let customers = Service::start("customers-api", &bins.join(BINARIES[0]), &env, &out).await?;
    env.push(("CUSTOMERS_API_BASE", customers.base()));
    let orders = Service::start("orders-api", &bins.join(BINARIES[1]), &env, &out).await?;
    let mut orch_env = setup::base_env(&s, &secrets);
    orch_env.push(("CUSTOMERS_API_BASE", customers.base()));
    orch_env.push(("ORDERS_API_BASE", orders.base()));
    let orchestrator = Service::start(
        "lambda-orchestrator",
        &bins.join(BINARIES[2]),
        &orch_env,
        &out,
    )
    .await?;
    let mut svcs = vec![customers, orders, orchestrator];
    for svc in &svcs {
        watched.pids.push((svc.name.to_owned(), svc.pid));
        watched.services.push((svc.name.to_owned(), svc.pid));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    report.idle_rss_start = rss_of(&svcs);
    for (name, rss) in &report.idle_rss_start {
        eprintln!("  {name}: idle RSS {:.1} MB", *rss as f64 / 1_048_576.0);
    }

    let env = Arc::new(setup::scenario_env(&s, scale, &svcs).await?);

    phase("scenarios");
    let wanted: Vec<Scenario> = Scenario::ALL
        .into_iter()
        .filter(|sc| s.wants(sc.name()))
        .collect();
    for &sc in &wanted {
        for &c in &s.concurrency {
            let workers = (0..c)
                .map(|_| HttpWorker::new(sc, env.clone()))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let row = measure::run(sc.name(), workers, &s, &watched, &mut reader).await;
            report.scenarios.push(row);
            for svc in &mut svcs {
                anyhow::ensure!(
                    svc.alive(),
                    "{} died during {}; see its log",
                    svc.name,
                    sc.name()
                );
            }
        }
    }
    let exhausted = env.exhausted.load(std::sync::atomic::Ordering::Relaxed);
    if exhausted > 0 {
        report.warnings.push(format!(
            "confirm_fresh used up the CREATED orders: {exhausted} confirms went to already confirmed orders"
        ));
    }

    phase("statements and commits per request");
    let rounds = if s.smoke { 1 } else { 3 };
    for &sc in &wanted {
        let mut worker = HttpWorker::new(sc, env.clone())?;
        driver::run_n(&mut worker, 3).await;
        let (per_request, failed) =
            dbstatus::census(&mut reader, &mut worker, s.census, rounds).await?;
        eprintln!(
            "  {:<26} Questions {:.2}  Com_commit {:.2}  pings {:.2}",
            sc.name(),
            per_request.get("Questions").copied().unwrap_or_default(),
            per_request.get("Com_commit").copied().unwrap_or_default(),
            per_request
                .get("Com_admin_commands")
                .copied()
                .unwrap_or_default()
        );
        report.census.push(CensusRow {
            scenario: sc.name().to_owned(),
            requests: s.census * rounds as u64,
            failed,
            per_request,
        });
    }
    report.bound = bounds(&report);

    tokio::time::sleep(s.settle).await;
    report.idle_rss_end = rss_of(&svcs);

    phase("Lambda bootstrap");
    let bin = bins.join("lambda-orchestrator");
    let (bytes, stripped) = lambda::binary(&bin)?;
    report.lambda.binary_bytes = bytes;
    report.lambda.stripped = stripped;
    let mut local_env = setup::base_env(&s, &secrets);
    local_env.push(("CUSTOMERS_API_BASE", svcs[0].base()));
    local_env.push(("ORDERS_API_BASE", svcs[1].base()));
    let owned: Vec<(String, String)> = local_env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let (b, e, o, n) = (bin.clone(), owned, out.clone(), s.cold_starts);
    report.lambda.local_cold_start_ms =
        tokio::task::spawn_blocking(move || lambda::cold_starts(&b, &e, &o, n)).await??;
    report.lambda.lambda_cold_start_ms =
        lambda::lambda_cold_starts(&bin, &local_env, &out, s.cold_starts).await?;
    eprintln!(
        "  {} bytes, stripped: {stripped}; cold start median {:.1} ms local mode, {:.1} ms Lambda mode",
        bytes,
        report::median(&report.lambda.local_cold_start_ms),
        report::median(&report.lambda.lambda_cold_start_ms)
    );
    if s.lambda_watch {
        watch::measure(&bin, &local_env, &out, &mut report.lambda).await;
    }

    for svc in svcs {
        svc.stop().await;
    }
    report.load_average_at_end = procfs::load_average().unwrap_or(f64::NAN);
    report.wall_s = wall.elapsed().as_secs_f64();

    let md = report.markdown(&titles());
    std::fs::write(out.join("results.md"), &md)?;
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    println!("{md}");
    eprintln!("results: {}/results.md", out.display());

    let failed: Vec<String> = report
        .scenarios
        .iter()
        .chain(&report.yardstick)
        .filter(|r| r.ok == 0 || !r.errors.is_empty())
        .map(|r| format!("{} at {} clients", r.scenario, r.concurrency))
        .chain(
            report
                .census
                .iter()
                .filter(|c| c.failed > 0)
                .map(|c| format!("{} (census)", c.scenario)),
        )
        .collect();
    if failed.is_empty() {
        Ok(0)
    } else {
        eprintln!("requests failed in: {}", failed.join(", "));
        Ok(1)
    }
}

fn rss_of(svcs: &[Service]) -> BTreeMap<String, u64> {
    svcs.iter()
        .filter_map(|svc| Some((svc.name.to_owned(), procfs::rss(svc.pid)?)))
        .collect()
}

/// Orchestrated orders/s against the commit rate ÷ commits per order, per concurrency.
fn bounds(r: &Report) -> Vec<Bound> {
    let Some(per_order) = r
        .census
        .iter()
        .find(|c| c.scenario == "orchestrate")
        .and_then(|c| c.per_request.get("Com_commit").copied())
        .filter(|&c| c > 0.0)
    else {
        return Vec::new();
    };
    r.yardstick
        .iter()
        .filter(|y| y.scenario == "yardstick")
        .filter_map(|y| {
            let o = r
                .scenarios
                .iter()
                .find(|o| o.scenario == "orchestrate" && o.concurrency == y.concurrency)?;
            let bound = y.rps / per_order;
            Some(Bound {
                concurrency: y.concurrency,
                commit_rate: y.rps,
                commits_per_order: per_order,
                bound_orders_per_s: bound,
                orchestrated_per_s: o.rps,
                fraction: o.rps / bound,
                orchestrate_errors: o.errors.values().sum(),
            })
        })
        .collect()
}
