//! One measured run: the load driver over a fixed window, with the processes' CPU time, the
//! machine's busy time and the database's counters read at the window's edges, and the
//! services' peak RSS reset before and read after.

use std::collections::BTreeMap;

use crate::dbstatus::{Counters, StatusReader, delta};
use crate::driver::{self, Worker};
use crate::procfs::{self, MachineCpu};
use crate::report::Row;
use crate::settings::Settings;

/// The processes whose CPU time is counted, by name.
pub struct Watched {
    pub pids: Vec<(String, u32)>,
    /// Those whose peak RSS is reported (the services).
    pub services: Vec<(String, u32)>,
    pub ticks_per_s: u64,
}

struct Snapshot {
    cpu: BTreeMap<String, u64>,
    machine: MachineCpu,
    counters: Counters,
}

async fn snapshot(w: &Watched, reader: &mut StatusReader) -> Snapshot {
    let cpu = w
        .pids
        .iter()
        .filter_map(|(name, pid)| Some((name.clone(), procfs::cpu_ticks(*pid)?)))
        .collect();
    let machine = procfs::machine_cpu();
    let counters = reader.read().await.unwrap_or_default();
    Snapshot {
        cpu,
        machine,
        counters,
    }
}

/// Runs `workers` (one per client) for the settings' warm-up and window.
pub async fn run<W: Worker>(
    name: &str,
    workers: Vec<W>,
    s: &Settings,
    w: &Watched,
    reader: &mut StatusReader,
) -> Row {
    let concurrency = workers.len();
    for (_, pid) in &w.services {
        procfs::reset_peak_rss(*pid);
    }
    let running = driver::start(workers, s.warmup, s.duration);
    tokio::time::sleep_until(running.measure_from).await;
    let a = snapshot(w, reader).await;
    tokio::time::sleep_until(running.measure_to).await;
    let b = snapshot(w, reader).await;
    let out = running.finish().await;

    let ok = out.ok.max(1) as f64;
    let cpu_us: BTreeMap<String, f64> = b
        .cpu
        .iter()
        .map(|(k, v)| {
            let ticks = v.saturating_sub(*a.cpu.get(k).unwrap_or(v));
            let us = procfs::ticks_to_duration(ticks, w.ticks_per_s).as_micros() as f64;
            (k.clone(), us / ok)
        })
        .collect();
    let total = b.machine.total.saturating_sub(a.machine.total).max(1);
    let busy = b.machine.busy.saturating_sub(a.machine.busy);
    let mut cpu_us = cpu_us;
    // Whatever else kept the machine busy (other processes, the kernel's own work).
    let busy_us = procfs::ticks_to_duration(busy, w.ticks_per_s).as_micros() as f64 / ok;
    let watched: f64 = cpu_us.values().sum();
    cpu_us.insert("other".to_owned(), (busy_us - watched).max(0.0));
    let db_per_req = delta(&b.counters, &a.counters)
        .into_iter()
        .map(|(k, v)| (k, v as f64 / ok))
        .collect();
    let peak_rss = w
        .services
        .iter()
        .filter_map(|(name, pid)| Some((name.clone(), procfs::peak_rss(*pid)?)))
        .collect();
    let row = Row {
        scenario: name.to_owned(),
        concurrency,
        ok: out.ok,
        rps: out.rate(),
        p50_ms: out.ms(0.5),
        p99_ms: out.ms(0.99),
        p999_ms: out.ms(0.999),
        max_ms: out.latency.max() as f64 / 1000.0,
        errors: out.errors,
        cpu_us,
        machine_busy_pct: busy as f64 * 100.0 / total as f64,
        peak_rss,
        db_per_req,
    };
    eprintln!(
        "  {name:<26} c={concurrency:<4} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  p99.9 {:>7.2} ms  errors {}  busy {:.0}%",
        row.rps,
        row.p50_ms,
        row.p99_ms,
        row.p999_ms,
        row.errors.values().sum::<u64>(),
        row.machine_busy_pct
    );
    row
}
