//! The closing report: faults injected, requests made, answers by code, invariants PASS/FAIL.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use crate::checks::{self, Check};
use crate::cluster::Cluster;
use crate::faults::FaultReport;
use crate::load::LoadResult;
use crate::timeline::{Timeline, format_event};

/// Prints the report; returns whether every check that ran passed.
pub fn print(
    timeline: &Timeline,
    cluster: &Cluster,
    load: &LoadResult,
    faults: &FaultReport,
    server_errors: &[(String, BTreeMap<u16, u64>)],
    checks: &[Check],
) -> bool {
    println!("\n== faults injected ({})", faults.injected);
    for e in timeline.of_kind("fault") {
        println!("  {}", format_event(&e));
    }
    println!("\n== requests");
    let (retried, most) = checks::retried(load);
    let probes: usize = load.outcomes.iter().map(|o| o.probe.len()).sum();
    println!(
        "  {} orchestrations (idempotency keys), {} requests to the orchestrator ({} key-reuse probes); {} keys needed retries, at most {} tries",
        load.outcomes.len(),
        load.tally.requests.load(Ordering::Relaxed),
        probes,
        retried,
        most
    );
    println!(
        "  {}: {}",
        cluster.orders_proxy.name,
        cluster.orders_proxy.stats.summary()
    );
    println!(
        "  {}: {}",
        cluster.customers_proxy.name,
        cluster.customers_proxy.stats.summary()
    );
    let served: Vec<String> = cluster
        .balancer
        .served
        .iter()
        .zip(&cluster.orders)
        .map(|(n, s)| format!("{} {}", s.name, n.load(Ordering::Relaxed)))
        .collect();
    println!("  balancer connections: {}", served.join(", "));
    println!("\n== every answer, by code");
    for (label, n) in load.tally.by_answer.lock().expect("tally").iter() {
        println!("  {n:>6}  {label}");
    }
    println!("\n== 5xx answered by the services (from their logs)");
    for (service, counts) in server_errors {
        let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} × {s}")).collect();
        let counts = if counts.is_empty() {
            "none".to_owned()
        } else {
            counts.join(", ")
        };
        println!("  {service}: {counts}");
    }
    println!("\n== what the clients were finally told");
    for (label, n) in checks::final_answers(load) {
        println!("  {n:>6}  {label}");
    }
    println!("\n== invariants");
    let mut ok = true;
    for c in checks {
        let verdict = match c.pass {
            Some(true) => "PASS",
            Some(false) => {
                ok = false;
                "FAIL"
            }
            None => "SKIP",
        };
        println!("  {verdict}  {} — {}", c.name, c.detail);
        for n in c.notes.iter().take(20) {
            println!("          {n}");
        }
        if c.notes.len() > 20 {
            println!("          … and {} more", c.notes.len() - 20);
        }
    }
    ok
}
