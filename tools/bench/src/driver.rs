//! The closed-loop load driver: `concurrency` tasks, each with its own worker (one keep-alive
//! HTTP connection, or one database connection), send one request after another for a warm-up
//! and then a fixed measured window. Requests that complete inside the window are counted and
//! their latency recorded in an HDR histogram (microseconds, 3 significant digits).

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// One request, as a worker sends it; `Err` names the kind of failure (`503`, `timeout`, …).
pub trait Worker: Send + 'static {
    fn once(&mut self) -> impl Future<Output = Result<(), String>> + Send;
}

/// What one (scenario, concurrency) run measured.
#[derive(Debug)]
pub struct Outcome {
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    pub window: Duration,
    /// Latency of the successful requests, in microseconds.
    pub latency: Histogram<u64>,
}

impl Outcome {
    #[cfg(test)]
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64()
    }

    /// A latency quantile in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds")
}

struct TaskResult {
    ok: u64,
    errors: BTreeMap<String, u64>,
    latency: Histogram<u64>,
}

/// Tasks under way; [`Running::finish`] waits for them after the window.
pub struct Running {
    pub measure_from: Instant,
    pub measure_to: Instant,
    tasks: Vec<JoinHandle<TaskResult>>,
}

/// Starts one task per worker now; the window opens after `warmup` and lasts `duration`.
pub fn start<W: Worker>(workers: Vec<W>, warmup: Duration, duration: Duration) -> Running {
    let measure_from = Instant::now() + warmup;
    let measure_to = measure_from + duration;
    let tasks = workers
        .into_iter()
        .map(|mut w| {
            tokio::spawn(async move {
                let mut r = TaskResult {
                    ok: 0,
                    errors: BTreeMap::new(),
                    latency: histogram(),
                };
                loop {
                    let sent = Instant::now();
                    if sent >= measure_to {
                        break;
                    }
                    let result = w.once().await;
                    let done = Instant::now();
                    if done < measure_from || done > measure_to {
                        continue;
                    }
                    match result {
                        Ok(()) => {
                            r.ok += 1;
                            let micros =
                                u64::try_from((done - sent).as_micros()).unwrap_or(u64::MAX);
                            r.latency.saturating_record(micros.max(1));
                        }
                        Err(kind) => *r.errors.entry(kind).or_default() += 1,
                    }
                }
                r
            })
        })
        .collect();
    Running {
        measure_from,
        measure_to,
        tasks,
    }
}

impl Running {
    /// Waits for every task to stop (each ends its request in flight at the window's end).
    pub async fn finish(self) -> Outcome {
        let mut out = Outcome {
            ok: 0,
            errors: BTreeMap::new(),
            window: self.measure_to - self.measure_from,
            latency: histogram(),
        };
        for task in self.tasks {
            match task.await {
                Ok(r) => {
                    out.ok += r.ok;
                    for (k, v) in r.errors {
                        *out.errors.entry(k).or_default() += v;
                    }
                    let _ = out.latency.add(&r.latency);
                }
                Err(e) => *out.errors.entry(format!("task: {e}")).or_default() += 1,
            }
        }
        out
    }
}

/// Sequentially sends `n` requests through one worker; the number that failed.
pub async fn run_n<W: Worker>(worker: &mut W, n: u64) -> u64 {
    let mut failed = 0;
    for _ in 0..n {
        if worker.once().await.is_err() {
            failed += 1;
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Sleeper(u64);
    impl Worker for Sleeper {
        async fn once(&mut self) -> Result<(), String> {
            self.0 += 1;
            tokio::time::sleep(Duration::from_millis(2)).await;
            if self.0.is_multiple_of(10) {
                Err("tenth".into())
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test]
    async fn merges_the_tasks_results() {
        let run = start(
            vec![Sleeper(0), Sleeper(0)],
            Duration::from_millis(20),
            Duration::from_millis(100),
        );
        let out = run.finish().await;
        assert_eq!(out.window, Duration::from_millis(100));
        assert_eq!(out.latency.len(), out.ok);
        assert!(out.ok + out.error_count() > 0, "{out:?}");
    }
}
