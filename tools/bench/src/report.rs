//! The run's results: one JSON document, and the same as Markdown tables for BENCHMARKS.md.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::dataset::LoadTimes;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu: String,
    pub memory_mib: u64,
    pub kernel: String,
    pub database: String,
    pub database_settings: BTreeMap<String, String>,
    pub rustc: String,
    pub load_average_at_start: f64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Row {
    pub scenario: String,
    pub concurrency: usize,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// CPU time per successful request, microseconds, by process.
    pub cpu_us: BTreeMap<String, f64>,
    pub machine_busy_pct: f64,
    pub peak_rss: BTreeMap<String, u64>,
    /// Server counters per successful request during the run (global: other clients count too).
    pub db_per_req: BTreeMap<String, f64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CensusRow {
    pub scenario: String,
    pub requests: u64,
    pub failed: u64,
    pub per_request: BTreeMap<String, f64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Lambda {
    pub binary_bytes: u64,
    pub stripped: bool,
    pub local_cold_start_ms: Vec<f64>,
    pub lambda_cold_start_ms: Vec<f64>,
    pub watch_cold_start_ms: Vec<f64>,
    pub watch_warm_ms: Vec<f64>,
    pub watch_note: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Bound {
    pub concurrency: usize,
    pub commit_rate: f64,
    pub commits_per_order: f64,
    pub bound_orders_per_s: f64,
    pub orchestrated_per_s: f64,
    pub fraction: f64,
    pub orchestrate_errors: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Report {
    pub command: String,
    pub machine: Machine,
    pub scale: BTreeMap<String, u64>,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub load: Option<LoadTimes>,
    pub idle_rss_start: BTreeMap<String, u64>,
    pub idle_rss_end: BTreeMap<String, u64>,
    pub yardstick: Vec<Row>,
    pub scenarios: Vec<Row>,
    pub census: Vec<CensusRow>,
    pub bound: Vec<Bound>,
    pub lambda: Lambda,
    pub wall_s: f64,
    pub load_average_at_end: f64,
    pub warnings: Vec<String>,
}

pub fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1_048_576.0)
}

fn trio(m: &BTreeMap<String, f64>) -> String {
    let g = |k: &str| m.get(k).copied().unwrap_or(f64::NAN);
    format!(
        "{:.0} / {:.0} / {:.0}",
        g("customers-api"),
        g("orders-api"),
        g("lambda-orchestrator")
    )
}

fn trio_mb(m: &BTreeMap<String, u64>) -> String {
    let g = |k: &str| m.get(k).copied().unwrap_or(0);
    format!(
        "{} / {} / {}",
        mb(g("customers-api")),
        mb(g("orders-api")),
        mb(g("lambda-orchestrator"))
    )
}

fn errors(e: &BTreeMap<String, u64>) -> String {
    if e.is_empty() {
        return "0".into();
    }
    e.iter()
        .map(|(k, v)| format!("{v} × {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Report {
    pub fn markdown(&self, titles: &BTreeMap<String, String>) -> String {
        let mut md = String::new();
        let m = &self.machine;
        let _ = writeln!(md, "### Machine\n");
        let _ = writeln!(md, "| | |\n|---|---|");
        let _ = writeln!(md, "| CPU | {} × {} |", m.nproc, m.cpu);
        let _ = writeln!(md, "| memory | {} MiB |", m.memory_mib);
        let _ = writeln!(md, "| kernel | {} |", m.kernel);
        let _ = writeln!(md, "| database | {} |", m.database);
        for (k, v) in &m.database_settings {
            let _ = writeln!(md, "| `{k}` | {v} |");
        }
        let _ = writeln!(md, "| rustc | {} |", m.rustc);
        let _ = writeln!(
            md,
            "| load average (1 min) | {:.2} at start, {:.2} at end |",
            m.load_average_at_start, self.load_average_at_end
        );
        let _ = writeln!(md, "| command | `{}` |", self.command);
        let scale: Vec<String> = self.scale.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let _ = writeln!(
            md,
            "| data | {} |\n| per run | {:.1} s warm-up, {:.1} s measured |\n| wall time | {:.0} s |",
            scale.join(", "),
            self.warmup_s,
            self.duration_s,
            self.wall_s
        );
        if let Some(l) = &self.load {
            let _ = writeln!(
                md,
                "| bulk load | customers {:.1} s, products {:.1} s, orders {:.1} s, {} order items {:.1} s, analyze {:.1} s |",
                l.customers_s,
                l.products_s,
                l.orders_s,
                l.order_items,
                l.order_items_s,
                l.analyze_s
            );
        }

        let _ = writeln!(md, "\n### Memory at rest\n");
        let _ = writeln!(
            md,
            "| service | idle RSS after start (MB) | idle RSS after the run (MB) |\n|---|---|---|"
        );
        for (svc, start) in &self.idle_rss_start {
            let end = self.idle_rss_end.get(svc).copied().unwrap_or(0);
            let _ = writeln!(md, "| {svc} | {} | {} |", mb(*start), mb(end));
        }

        let _ = writeln!(
            md,
            "\n### Yardstick: single-row write transactions on the database\n"
        );
        let _ = writeln!(
            md,
            "`BEGIN; INSERT one row; COMMIT` in a loop: `yardstick` on one connection per client, `yardstick_pool` through one shared sqlx pool with its default settings (as the services use it: a ping on checkout and on return).\n"
        );
        let _ = writeln!(
            md,
            "| driver | clients | commits/s | p50 ms | p99 ms | p99.9 ms | errors | db CPU µs/commit | driver CPU µs/commit | other CPU µs/commit | log writes/commit | machine busy |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
        );
        for r in &self.yardstick {
            let _ = writeln!(
                md,
                "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {:.0} | {:.0} | {:.0} | {:.2} | {:.0}% |",
                r.scenario,
                r.concurrency,
                r.rps,
                r.p50_ms,
                r.p99_ms,
                r.p999_ms,
                errors(&r.errors),
                r.cpu_us.get("mariadbd").copied().unwrap_or(f64::NAN),
                r.cpu_us.get("driver").copied().unwrap_or(f64::NAN),
                r.cpu_us.get("other").copied().unwrap_or(f64::NAN),
                r.db_per_req
                    .get("Innodb_log_writes")
                    .copied()
                    .unwrap_or(f64::NAN),
                r.machine_busy_pct
            );
        }

        let _ = writeln!(md, "\n### Orchestrated orders against the commit bound\n");
        let _ = writeln!(
            md,
            "| clients | commit rate | commits per order | bound (orders/s) | orchestrated orders/s | fraction of bound | errors |\n|---|---|---|---|---|---|---|"
        );
        for b in &self.bound {
            let _ = writeln!(
                md,
                "| {} | {:.0} | {:.2} | {:.0} | {:.0} | {:.0}% | {} |",
                b.concurrency,
                b.commit_rate,
                b.commits_per_order,
                b.bound_orders_per_s,
                b.orchestrated_per_s,
                b.fraction * 100.0,
                b.orchestrate_errors
            );
        }

        md.push_str(&self.cost_model());

        let _ = writeln!(md, "\n### Database work per request (counted)\n");
        let _ = writeln!(
            md,
            "Server counters around sequential requests, smallest of the rounds, less the cost of reading them.\n"
        );
        let _ = writeln!(
            md,
            "| scenario | Questions | Com_commit | pings (Com_admin_commands) | Com_stmt_prepare | Com_select | Com_insert | Com_update | log writes |\n|---|---|---|---|---|---|---|---|---|"
        );
        for c in &self.census {
            let g = |k: &str| c.per_request.get(k).copied().unwrap_or(f64::NAN);
            let _ = writeln!(
                md,
                "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
                c.scenario,
                g("Questions"),
                g("Com_commit"),
                g("Com_admin_commands"),
                g("Com_stmt_prepare"),
                g("Com_select"),
                g("Com_insert"),
                g("Com_update"),
                g("Innodb_log_writes")
            );
        }

        let _ = writeln!(md, "\n### Scenarios\n");
        let _ = writeln!(
            md,
            "CPU is utime + stime per successful request in µs (customers-api / orders-api / orchestrator); peak RSS is VmHWM in MB, reset before each run; Questions/req is the global counter over the run.\n"
        );
        let mut last = "";
        for r in &self.scenarios {
            if r.scenario != last {
                last = &r.scenario;
                let title = titles.get(&r.scenario).map(String::as_str).unwrap_or("");
                let _ = writeln!(md, "\n#### `{}`: {title}\n", r.scenario);
                let _ = writeln!(
                    md,
                    "| clients | req/s | p50 ms | p99 ms | p99.9 ms | errors | services CPU µs/req | db CPU µs/req | driver CPU µs/req | other CPU µs/req | machine busy | peak RSS MB | Questions/req |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|"
                );
            }
            let _ = writeln!(
                md,
                "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {:.0} | {:.0} | {:.0} | {:.0}% | {} | {:.1} |",
                r.concurrency,
                r.rps,
                r.p50_ms,
                r.p99_ms,
                r.p999_ms,
                errors(&r.errors),
                trio(&r.cpu_us),
                r.cpu_us.get("mariadbd").copied().unwrap_or(f64::NAN),
                r.cpu_us.get("driver").copied().unwrap_or(f64::NAN),
                r.cpu_us.get("other").copied().unwrap_or(f64::NAN),
                r.machine_busy_pct,
                trio_mb(&r.peak_rss),
                r.db_per_req.get("Questions").copied().unwrap_or(f64::NAN)
            );
        }

        let l = &self.lambda;
        let _ = writeln!(md, "\n### Lambda bootstrap\n");
        let _ = writeln!(md, "| | |\n|---|---|");
        let _ = writeln!(
            md,
            "| `lambda-orchestrator` release binary | {} bytes ({} MB), {} |",
            l.binary_bytes,
            mb(l.binary_bytes),
            if l.stripped {
                "stripped (no .symtab)"
            } else {
                "NOT stripped"
            }
        );
        let fmt = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{x:.1}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            md,
            "| cold start, local mode: process start → first 200 from /health | median {:.1} ms ({}) |",
            median(&l.local_cold_start_ms),
            fmt(&l.local_cold_start_ms)
        );
        let _ = writeln!(
            md,
            "| cold start, Lambda mode (local Runtime API): process start → answer to a first `GET /health` event | median {:.1} ms ({}) |",
            median(&l.lambda_cold_start_ms),
            fmt(&l.lambda_cold_start_ms)
        );
        if !l.watch_cold_start_ms.is_empty() || !l.watch_note.is_empty() {
            let _ = writeln!(
                md,
                "| cold start under `cargo lambda watch`: process start → first answer through the emulator | median {:.1} ms ({}); warm requests median {:.1} ms. {} |",
                median(&l.watch_cold_start_ms),
                fmt(&l.watch_cold_start_ms),
                median(&l.watch_warm_ms),
                l.watch_note
            );
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(md, "\n### Warnings\n");
            for w in &self.warnings {
                let _ = writeln!(md, "- {w}");
            }
        }
        md
    }

    /// What one orchestrated order costs, by part, at each measured concurrency: round trips to
    /// the database (from the census), CPU per order, and how many orders a second one core of
    /// each part would serve at that cost, to size a deployment from.
    fn cost_model(&self) -> String {
        let mut md = String::new();
        let rows: Vec<&Row> = self
            .scenarios
            .iter()
            .filter(|r| r.scenario == "orchestrate" && r.ok > 0)
            .collect();
        if rows.is_empty() {
            return md;
        }
        let _ = writeln!(md, "\n### Cost model: one orchestrated order\n");
        if let Some(c) = self.census.iter().find(|c| c.scenario == "orchestrate") {
            let g = |k: &str| c.per_request.get(k).copied().unwrap_or(f64::NAN);
            let _ = writeln!(
                md,
                "Database round trips per order: **{:.1}** = {:.1} statements + {:.1} pings, {:.1} commits (census).\n",
                g("Questions") + g("Com_admin_commands"),
                g("Questions"),
                g("Com_admin_commands"),
                g("Com_commit")
            );
        }
        let parts = [
            "customers-api",
            "orders-api",
            "lambda-orchestrator",
            "mariadbd",
        ];
        let _ = writeln!(
            md,
            "CPU µs per order by part; in brackets, the orders a second one core of that part serves at that cost. \"services + db\" is the three services and the database; \"machine\" adds the load generator and everything else that ran.\n"
        );
        let _ = writeln!(
            md,
            "| clients | orders/s | customers-api | orders-api | orchestrator | database | services + db | machine |\n|---|---|---|---|---|---|---|---|"
        );
        for r in rows {
            let cpu = |k: &str| r.cpu_us.get(k).copied().unwrap_or(f64::NAN);
            let cell = |k: &str| format!("{:.0} ({:.0}/s)", cpu(k), 1e6 / cpu(k));
            let parts_total: f64 = parts.iter().map(|k| cpu(k)).sum();
            let machine = parts_total + cpu("driver") + cpu("other");
            let _ = writeln!(
                md,
                "| {} | {:.0} | {} | {} | {} | {} | {:.0} ({:.0}/s) | {:.0} |",
                r.concurrency,
                r.rps,
                cell(parts[0]),
                cell(parts[1]),
                cell(parts[2]),
                cell(parts[3]),
                parts_total,
                1e6 / parts_total,
                machine
            );
        }
        md
    }
}
