//! The cold start under `cargo lambda watch`: the emulator runs with `--only-lambda-apis` (its
//! Runtime API and function URLs, without building or starting the function), and the release
//! binary is started against it as Lambda starts a bootstrap. A request to the function's URL
//! (`/lambda-url/<name>/health`) is sent as the process starts; the emulator holds it until the
//! function asks for its first event, so the time from starting the process to that answer is
//! the cold start through the emulator. Five warm requests follow, then the process is stopped.
//!
//! (Letting the emulator start the function itself adds `cargo run --release`'s build check —
//! 0.3–0.4 s of cargo, not of the function — to the first request.)

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::time::Instant;

use crate::lambda::start_in_lambda_mode;
use crate::report::Lambda;
use crate::services::free_port;

const RUNS: usize = 5;
/// The function's name in the emulator (`AWS_LAMBDA_FUNCTION_NAME`, and in its URL): with
/// `--only-lambda-apis` its Runtime API at `/.rt` serves the function named `_`.
const NAME: &str = "_";

pub async fn measure(bin: &Path, env: &[(&str, String)], dir: &Path, lambda: &mut Lambda) {
    if let Err(e) = measure_runs(bin, env, dir, lambda).await {
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
    bin: &Path,
    env: &[(&str, String)],
    dir: &Path,
    lambda: &mut Lambda,
) -> anyhow::Result<()> {
    let port = free_port()?;
    let log = std::fs::File::create(dir.join("cargo-lambda-watch.log"))?;
    let emulator = tokio::process::Command::new("cargo")
        .current_dir(workspace())
        .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
        .args(["--invoke-address", "127.0.0.1", "--invoke-port"])
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .context("cannot run cargo lambda watch (pip install cargo-lambda)")?;
    let pgid = emulator.id().context("no pid")?;
    let result = runs(bin, env, dir, port, lambda).await;
    kill_group(pgid).await;
    drop(emulator);
    result?;
    lambda.watch_note = "`cargo lambda watch --only-lambda-apis` emulates the Runtime API and the function URL; the release binary is started against it (process start → answer to a first request already waiting at the function URL).".to_owned();
    Ok(())
}

async fn runs(
    bin: &Path,
    env: &[(&str, String)],
    dir: &Path,
    port: u16,
    lambda: &mut Lambda,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the emulator did not listen in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let url = format!("http://127.0.0.1:{port}/lambda-url/{NAME}/health");
    // The first run warms the page cache and the emulator; it is not counted.
    for run in 0..=RUNS {
        let started = Instant::now();
        let runtime_api = format!("http://127.0.0.1:{port}/.rt");
        let mut function = start_in_lambda_mode(bin, env, dir, &runtime_api, NAME)?;
        let mut times = Vec::new();
        let mut outcome = Ok(());
        for _ in 0..6 {
            match get(&http, &url).await {
                Ok(()) => times.push(started.elapsed().as_secs_f64() * 1000.0),
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        let _ = function.kill().await;
        outcome?;
        // Warm requests: each one's own time (the differences between answers).
        let warm: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let cold = times[0];
        eprintln!(
            "  cargo lambda watch run {run}: process start → first answer {cold:.1} ms, warm {:.1} ms{}",
            crate::report::median(&warm),
            if run == 0 {
                " (warm-up, not counted)"
            } else {
                ""
            }
        );
        if run > 0 {
            lambda.watch_cold_start_ms.push(cold);
            lambda.watch_warm_ms.extend(warm);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

async fn get(http: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    let resp = http
        .get(url)
        .timeout(Duration::from_secs(30))
        .send()
        .await?;
    let status = resp.status();
    resp.bytes().await?;
    anyhow::ensure!(status.is_success(), "the function answered {status}");
    Ok(())
}
