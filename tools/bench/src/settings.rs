//! The harness's flags. A full run is the default; `--smoke` is the CI run (tiny data, about a
//! second per scenario, one concurrency); every figure can be set on its own.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

/// `--help`; `scripts/bench.sh --help` prints the same file without building anything.
pub const USAGE: &str = include_str!("../USAGE.txt");

#[derive(Debug, Clone)]
pub struct Settings {
    pub smoke: bool,
    pub duration: Duration,
    pub warmup: Duration,
    pub concurrency: Vec<usize>,
    pub scenarios: Option<Vec<String>>,
    pub customers: u64,
    pub products: u64,
    pub orders: u64,
    pub census: u64,
    pub cold_starts: usize,
    pub lambda_watch: bool,
    pub mysql_url: String,
    pub database: String,
    pub reuse_data: bool,
    pub bin_dir: PathBuf,
    pub out: PathBuf,
    pub rust_log: String,
    pub render: Option<PathBuf>,
    pub service_env: Vec<(String, String)>,
    pub settle: Duration,
}

fn secs(v: &str) -> anyhow::Result<Duration> {
    let s: f64 = v
        .parse()
        .with_context(|| format!("{v:?} is not a number of seconds"))?;
    anyhow::ensure!(s > 0.0 && s < 3600.0, "{v} s is out of range");
    Ok(Duration::from_secs_f64(s))
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Settings {
    pub fn parse(args: impl IntoIterator<Item = String>) -> anyhow::Result<Self> {
        let args: Vec<String> = args.into_iter().collect();
        let smoke = args.iter().any(|a| a == "--smoke");
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let mut s = Self {
            smoke,
            duration: Duration::from_secs(if smoke { 1 } else { 10 }),
            warmup: Duration::from_millis(if smoke { 300 } else { 1000 }),
            concurrency: if smoke { vec![4] } else { vec![1, 8, 32, 128] },
            scenarios: None,
            customers: if smoke { 1_000 } else { 100_000 },
            products: if smoke { 100 } else { 10_000 },
            orders: if smoke { 10_000 } else { 1_000_000 },
            census: if smoke { 20 } else { 100 },
            cold_starts: if smoke { 3 } else { 10 },
            lambda_watch: !smoke,
            mysql_url: "mysql://root@127.0.0.1:3306".to_owned(),
            database: if smoke {
                "b2b_bench_smoke"
            } else {
                "b2b_bench"
            }
            .to_owned(),
            reuse_data: false,
            bin_dir: PathBuf::from("target/release"),
            out: PathBuf::from(format!(
                "target/bench/{}-{run}",
                if smoke { "smoke" } else { "full" }
            )),
            rust_log: "info".to_owned(),
            render: None,
            service_env: Vec::new(),
            settle: Duration::from_secs(2),
        };
        let mut it = args.into_iter();
        while let Some(flag) = it.next() {
            if flag == "--smoke" {
                continue;
            }
            if flag == "--reuse-data" {
                s.reuse_data = true;
                continue;
            }
            if flag == "-h" || flag == "--help" {
                bail!("{USAGE}");
            }
            let value = it
                .next()
                .with_context(|| format!("{flag} needs a value\n\n{USAGE}"))?;
            let int = |v: &str| -> anyhow::Result<u64> {
                v.replace('_', "")
                    .parse()
                    .with_context(|| format!("{flag} {v:?} is not a whole number"))
            };
            match flag.as_str() {
                "--duration" => s.duration = secs(&value)?,
                "--warmup" => s.warmup = secs(&value)?,
                "--settle" => s.settle = secs(&value)?,
                "--concurrency" => {
                    s.concurrency = list(&value)
                        .iter()
                        .map(|c| int(c).map(|c| c as usize))
                        .collect::<anyhow::Result<_>>()?;
                }
                "--scenarios" => s.scenarios = Some(list(&value)),
                "--customers" => s.customers = int(&value)?,
                "--products" => s.products = int(&value)?,
                "--orders" => s.orders = int(&value)?,
                "--census" => s.census = int(&value)?,
                "--cold-starts" => s.cold_starts = int(&value)? as usize,
                "--lambda-watch" => s.lambda_watch = matches!(value.as_str(), "on" | "1" | "true"),
                "--mysql-url" => s.mysql_url = value.trim_end_matches('/').to_owned(),
                "--database" => s.database = value,
                "--bin-dir" => s.bin_dir = PathBuf::from(value),
                "--out" => s.out = PathBuf::from(value),
                "--rust-log" => s.rust_log = value,
                "--render" => s.render = Some(PathBuf::from(value)),
                "--service-env" => {
                    let (k, v) = value
                        .split_once('=')
                        .with_context(|| format!("--service-env {value:?} is not NAME=VALUE"))?;
                    s.service_env.push((k.to_owned(), v.to_owned()));
                }
                _ => bail!("unknown flag {flag}\n\n{USAGE}"),
            }
        }
        anyhow::ensure!(
            !s.concurrency.is_empty() && s.concurrency.iter().all(|&c| (1..=1024).contains(&c)),
            "--concurrency takes 1 to 1024 clients"
        );
        anyhow::ensure!(
            s.customers >= 10 && s.products >= 3 && s.orders >= 100,
            "at least 10 customers, 3 products and 100 orders"
        );
        anyhow::ensure!(
            s.database
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "--database takes letters, digits and _"
        );
        Ok(s)
    }

    /// Whether scenario `name` is to run.
    pub fn wants(&self, name: &str) -> bool {
        self.scenarios
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == name))
    }

    /// The database's URL.
    pub fn database_url(&self) -> String {
        format!("{}/{}", self.mysql_url, self.database)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> anyhow::Result<Settings> {
        Settings::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn full_and_smoke_defaults() {
        let full = parse(&[]).unwrap();
        assert_eq!(full.concurrency, [1, 8, 32, 128]);
        assert_eq!(full.orders, 1_000_000);
        let smoke = parse(&["--smoke", "--duration", "0.5"]).unwrap();
        assert_eq!(smoke.concurrency, [4]);
        assert_eq!(smoke.duration, Duration::from_millis(500));
        assert_eq!(smoke.database, "b2b_bench_smoke");
    }

    #[test]
    fn flags_are_checked() {
        let s = parse(&["--concurrency", "2,16", "--orders", "200_000"]).unwrap();
        assert_eq!(s.concurrency, [2, 16]);
        assert_eq!(s.orders, 200_000);
        assert!(parse(&["--concurrency", "0"]).is_err());
        assert!(parse(&["--database", "x; DROP"]).is_err());
        assert!(parse(&["--nope", "1"]).is_err());
        assert!(parse(&["--duration"]).is_err());
    }
}
