//! The cold start under `cargo lambda watch --release`: the emulator is started afresh for each
//! run, and the first request to the function's URL (`/lambda-url/lambda-orchestrator/health`)
//! starts the function (the emulator runs it through `cargo run`); the time to that first answer
//! is the cold start as a developer sees it, then a few warm requests. The first run only warms
//! the build and is not counted.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::time::Instant;

use crate::report::Lambda;
use crate::services::free_port;
use crate::settings::Settings;

const RUNS: usize = 3;

pub async fn measure(s: &Settings, env: &[(&str, String)], dir: &Path, lambda: &mut Lambda) {
    if let Err(e) = measure_runs(s, env, dir, lambda).await {
        lambda.watch_note = format!("not measured: {e:#}");
        eprintln!("  cargo lambda watch: {}", lambda.watch_note);
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Kills the emulator and everything it started (its process group).
async fn kill_group(pgid: u32) {
    let _ = tokio::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .status()
        .await;
}

async fn measure_runs(
    _s: &Settings,
    env: &[(&str, String)],
    dir: &Path,
    lambda: &mut Lambda,
) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    for run in 0..=RUNS {
        let port = free_port()?;
        let log = std::fs::File::create(dir.join(format!("cargo-lambda-watch-{run}.log")))?;
        let mut cmd = tokio::process::Command::new("cargo");
        cmd.current_dir(workspace())
            .args([
                "lambda",
                "watch",
                "--release",
                "--ignore-changes",
                "-p",
                "lambda-orchestrator",
            ])
            .args([
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &port.to_string(),
            ]);
        for (k, v) in env {
            cmd.arg("--env-var").arg(format!("{k}={v}"));
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .context("cannot run cargo lambda watch (pip install cargo-lambda)")?;
        let pgid = child.id().context("no pid")?;
        let result = one_run(&http, port).await;
        kill_group(pgid).await;
        drop(child);
        let (cold, warm) = result?;
        eprintln!(
            "  cargo lambda watch run {run}: first answer {cold:.1} ms, warm {:.1} ms{}",
            crate::report::median(&warm),
            if run == 0 {
                " (build warm-up, not counted)"
            } else {
                ""
            }
        );
        if run > 0 {
            lambda.watch_cold_start_ms.push(cold);
            lambda.watch_warm_ms.extend(warm);
        }
    }
    lambda.watch_note = "The emulator starts the function through `cargo run --release` (a no-op build check), which is most of this time; the Lambda-mode figure above is the binary's own.".to_owned();
    Ok(())
}

/// Waits for the emulator, then times the first request to the function and five more.
async fn one_run(http: &reqwest::Client, port: u16) -> anyhow::Result<(f64, Vec<f64>)> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the emulator did not listen in 120 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!("http://127.0.0.1:{port}/lambda-url/lambda-orchestrator/health");
    let mut times = Vec::new();
    for _ in 0..6 {
        let t = Instant::now();
        let resp = http
            .get(&url)
            .timeout(Duration::from_secs(900))
            .send()
            .await?;
        let status = resp.status();
        resp.bytes().await?;
        anyhow::ensure!(status.is_success(), "the function answered {status}");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let cold = times.remove(0);
    Ok((cold, times))
}
