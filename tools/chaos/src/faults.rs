//! The fault schedule, run while the load goes on: network faults through the proxies, a
//! replica killed and restarted (twice), customers-api and a replica frozen past every
//! time-out, and a MariaDB restart during which the APIs must answer 503 and after which they
//! must recover by themselves.

use std::time::Duration;

use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::mariadb;
use crate::proxy::{Fault, Mode, On};
use crate::services::health;
use crate::timeline::Timeline;

#[derive(Debug, Clone, Copy)]
enum Target {
    Orders,
    Customers,
    Both,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Proxy(Target, Fault),
    Kill(usize),
    Restart(usize),
    /// SIGSTOP: customers-api (`None`) or an orders-api replica.
    Freeze(Option<usize>),
    Thaw(Option<usize>),
    RestartDb,
}

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Seconds after the start of the load, and what to do then. A step that overruns delays the
/// next ones.
const SCHEDULE: [(f64, Step); 29] = [
    (
        4.0,
        Step::Proxy(Target::Both, Fault::all(Mode::Delay(ms(150)))),
    ),
    (8.0, Step::Proxy(Target::Both, Fault::PASS)),
    (10.0, Step::Kill(0)),
    (13.0, Step::Restart(0)),
    (14.0, Step::Proxy(Target::Orders, Fault::all(Mode::Reset))),
    (16.0, Step::Proxy(Target::Orders, Fault::PASS)),
    (
        16.5,
        Step::Proxy(Target::Customers, Fault::all(Mode::Reset)),
    ),
    (18.0, Step::Proxy(Target::Customers, Fault::PASS)),
    // Confirmations that take effect but whose answers are lost: replayed, or found confirmed
    // by the compensation (which cancels only a CREATED order).
    (
        19.0,
        Step::Proxy(
            Target::Orders,
            Fault {
                mode: Mode::Reset,
                on: On::Answers(CONFIRM),
            },
        ),
    ),
    (21.5, Step::Proxy(Target::Orders, Fault::PASS)),
    // 3.5 s: past orders-api's 0.8 s and the orchestrator's 1.5 s per-attempt time-outs.
    (22.0, Step::Freeze(None)),
    (25.5, Step::Thaw(None)),
    (
        26.5,
        Step::Proxy(
            Target::Orders,
            Fault {
                mode: Mode::BlackHole,
                on: On::Answers(CONFIRM),
            },
        ),
    ),
    (30.5, Step::Proxy(Target::Orders, Fault::PASS)),
    // Confirmations and cancellations unheard: compensations reported failed, then the clients'
    // retries with the same key must finish the very same orders.
    (
        31.0,
        Step::Proxy(
            Target::Orders,
            Fault {
                mode: Mode::Reset,
                on: On::Answers(CONFIRM_CANCEL),
            },
        ),
    ),
    (34.0, Step::Proxy(Target::Orders, Fault::PASS)),
    // Confirmations that never arrive: compensated.
    (
        34.5,
        Step::Proxy(
            Target::Orders,
            Fault {
                mode: Mode::Reset,
                on: On::Requests(CONFIRM),
            },
        ),
    ),
    (37.5, Step::Proxy(Target::Orders, Fault::PASS)),
    (
        38.0,
        Step::Proxy(Target::Orders, Fault::all(Mode::BlackHole)),
    ),
    (41.0, Step::Proxy(Target::Orders, Fault::PASS)),
    (
        41.5,
        Step::Proxy(Target::Customers, Fault::all(Mode::BlackHole)),
    ),
    (43.5, Step::Proxy(Target::Customers, Fault::PASS)),
    // A replica frozen mid-request, row locks and idempotency keys held, past every time-out;
    // the balancer still sends it connections.
    (44.0, Step::Freeze(Some(0))),
    (48.0, Step::Thaw(Some(0))),
    (49.5, Step::RestartDb),
    // Longer than the per-attempt time-out: requests and answers arrive after the caller gave up.
    (
        62.0,
        Step::Proxy(Target::Orders, Fault::all(Mode::Delay(ms(2_000)))),
    ),
    (65.0, Step::Proxy(Target::Orders, Fault::PASS)),
    (65.5, Step::Kill(1)),
    (68.5, Step::Restart(1)),
];
const CONFIRM: &[&str] = &["/confirm "];
const CONFIRM_CANCEL: &[&str] = &["/confirm ", "/cancel"];

/// How the database restart went, for the checks.
#[derive(Debug, Clone)]
pub struct DbRestart {
    /// Per API: seconds after the shutdown began when `/health` first answered 503.
    pub saw_503: Vec<(String, Option<f64>)>,
    /// Per API: seconds after the server was up again when `/health` answered 200.
    pub back_200: Vec<(String, Option<f64>)>,
    pub down_secs: f64,
}

/// What the schedule did.
#[derive(Debug, Default)]
pub struct FaultReport {
    pub injected: usize,
    pub db_restart: Option<DbRestart>,
}

/// Runs the schedule from `start`; `restart_db` false skips the MariaDB restart (development).
pub async fn run(
    cluster: &mut Cluster,
    start: Instant,
    restart_db: bool,
    timeline: &Timeline,
) -> anyhow::Result<FaultReport> {
    let mut report = FaultReport::default();
    for (at, step) in SCHEDULE {
        tokio::time::sleep_until(start + Duration::from_secs_f64(at)).await;
        match step {
            Step::Proxy(target, fault) => {
                let proxies: Vec<_> = match target {
                    Target::Orders => vec![&cluster.orders_proxy],
                    Target::Customers => vec![&cluster.customers_proxy],
                    Target::Both => vec![&cluster.orders_proxy, &cluster.customers_proxy],
                };
                for p in proxies {
                    p.set(fault);
                    let kind = if fault == Fault::PASS {
                        "heal"
                    } else {
                        "fault"
                    };
                    timeline.note(kind, format!("{} (orchestrator → API): {fault}", p.name));
                    if fault != Fault::PASS {
                        report.injected += 1;
                    }
                }
            }
            Step::Kill(i) => {
                let replica = &mut cluster.orders[i];
                timeline.note(
                    "fault",
                    format!("SIGKILL {} (pid {:?})", replica.name, replica.pid()),
                );
                replica.kill().await;
                report.injected += 1;
            }
            Step::Restart(i) => {
                let replica = &mut cluster.orders[i];
                let took = replica.start(&cluster.http).await?;
                timeline.note(
                    "heal",
                    format!(
                        "{} restarted (pid {:?}), healthy after {:.1}s",
                        replica.name,
                        replica.pid(),
                        took.as_secs_f64()
                    ),
                );
            }
            Step::Freeze(which) => {
                let p = match which {
                    None => &cluster.customers,
                    Some(i) => &cluster.orders[i],
                };
                p.signal("STOP")?;
                timeline.note("fault", format!("SIGSTOP {} (pid {:?})", p.name, p.pid()));
                report.injected += 1;
            }
            Step::Thaw(which) => {
                let p = match which {
                    None => &cluster.customers,
                    Some(i) => &cluster.orders[i],
                };
                p.signal("CONT")?;
                timeline.note("heal", format!("SIGCONT {}", p.name));
            }
            Step::RestartDb if !restart_db => {
                timeline.note(
                    "skip",
                    "MariaDB restart SKIPPED (CHAOS_RESTART_DB=0): not a full run",
                );
            }
            Step::RestartDb => {
                report.db_restart = Some(restart_mariadb(cluster, timeline).await?);
                report.injected += 1;
            }
        }
    }
    cluster.set_proxies(Fault::PASS);
    Ok(report)
}

/// Polls every API's `/health` until it answers `want`; seconds taken per API (`None`: not
/// within `limit`).
async fn wait_for_each(
    http: &reqwest::Client,
    apis: &[(String, String)],
    want: u16,
    limit: Duration,
) -> Vec<(String, Option<f64>)> {
    let mut polls = tokio::task::JoinSet::new();
    for (i, (name, base)) in apis.iter().cloned().enumerate() {
        let http = http.clone();
        polls.spawn(async move {
            let start = Instant::now();
            while start.elapsed() < limit {
                if health(&http, &base).await == Some(want) {
                    return (i, name, Some(start.elapsed().as_secs_f64()));
                }
                tokio::time::sleep(ms(200)).await;
            }
            (i, name, None)
        });
    }
    let mut out: Vec<_> = polls.join_all().await;
    out.sort_by_key(|(i, _, _)| *i);
    out.into_iter()
        .map(|(_, name, secs)| (name, secs))
        .collect()
}

async fn restart_mariadb(cluster: &Cluster, timeline: &Timeline) -> anyhow::Result<DbRestart> {
    let apis = cluster.apis();
    timeline.note("fault", "MariaDB: mysqladmin shutdown");
    let began = Instant::now();
    let (http, watched) = (cluster.http.clone(), apis.clone());
    let watcher =
        tokio::spawn(
            async move { wait_for_each(&http, &watched, 503, Duration::from_secs(20)).await },
        );
    mariadb::shutdown().await?;
    let stopped = Instant::now();
    timeline.note(
        "db",
        format!(
            "MariaDB: process gone {:.1}s after the shutdown began",
            (stopped - began).as_secs_f64()
        ),
    );
    let saw_503 = watcher.await?;
    for (name, secs) in &saw_503 {
        match secs {
            Some(s) => timeline.note(
                "check",
                format!("{name} /health answered 503 ({s:.1}s into the outage)"),
            ),
            None => timeline.note(
                "check",
                format!("{name} /health never answered 503 during the outage"),
            ),
        }
    }
    // Down for at least 4 s, so the services meet a dead server, not only a closing one.
    tokio::time::sleep_until(stopped + Duration::from_secs(4)).await;
    tokio::task::spawn_blocking(mariadb::ensure_running).await??;
    let up = Instant::now();
    let down_secs = (up - stopped).as_secs_f64();
    timeline.note(
        "heal",
        format!("MariaDB: started again, answers ping (down {down_secs:.1}s)"),
    );
    let back_200 = wait_for_each(&cluster.http, &apis, 200, Duration::from_secs(30)).await;
    for (name, secs) in &back_200 {
        match secs {
            Some(s) => timeline.note(
                "heal",
                format!("{name} /health back to 200 {s:.1}s after MariaDB came back"),
            ),
            None => timeline.note(
                "check",
                format!("{name} /health not back to 200 within 30 s"),
            ),
        }
    }
    Ok(DbRestart {
        saw_503,
        back_200,
        down_secs,
    })
}
