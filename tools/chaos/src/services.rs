//! The three real binaries as child processes: built (or found) in `target/`, copied aside so a
//! concurrent build cannot swap them mid-run, started on free 127.0.0.1 ports with their logs in
//! the run's directory, and killed (SIGKILL), stopped (SIGSTOP) or resumed (SIGCONT) on demand.
//! Every child is killed when its [`Service`] is dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use tokio::process::{Child, Command};

pub const BINARIES: [&str; 3] = ["customers-api", "orders-api", "lambda-orchestrator"];

/// Builds the three binaries with the profile this tool was built with (unless `build` is
/// false), then copies them into `dir`; returns `dir`.
pub fn prepare_binaries(build: bool, dir: &Path) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("where is this binary?")?;
    let target = exe.parent().context("the binary has no directory")?;
    if build {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut cmd = std::process::Command::new(cargo);
        cmd.current_dir(&workspace).arg("build").arg("--bins");
        for b in BINARIES {
            cmd.args(["-p", b]);
        }
        if !cfg!(debug_assertions) {
            cmd.arg("--release");
        }
        let status = cmd.status().context("cannot run cargo build")?;
        ensure!(status.success(), "cargo build of the services failed");
    }
    std::fs::create_dir_all(dir)?;
    for b in BINARIES {
        let from = target.join(b);
        ensure!(
            from.exists(),
            "{} is missing: build it or leave CHAOS_BUILD unset",
            from.display()
        );
        std::fs::copy(&from, dir.join(b)).with_context(|| format!("copying {}", from.display()))?;
    }
    Ok(dir.to_owned())
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// One service process, restartable with the same settings and port.
pub struct Service {
    pub name: String,
    pub port: u16,
    bin: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
    pub starts: u32,
}

impl Service {
    pub fn new(
        name: &str,
        bin: PathBuf,
        port: u16,
        env: Vec<(String, String)>,
        logs: &Path,
    ) -> Self {
        Self {
            name: name.to_owned(),
            port,
            bin,
            env,
            log: logs.join(format!("{name}.log")),
            child: None,
            starts: 0,
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Starts the process and waits until its `/health` answers 200.
    pub async fn start(&mut self, http: &reqwest::Client) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let dir = self.log.parent().unwrap_or(Path::new("/"));
        let child = Command::new(&self.bin)
            // A directory with no `.env` in it or above it.
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("PORT", self.port.to_string())
            .env("RUST_LOG", "info")
            .env("LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", self.bin.display()))?;
        self.child = Some(child);
        self.starts += 1;
        let deadline = started + Duration::from_secs(60);
        loop {
            if health(http, &self.base()).await == Some(200) {
                return Ok(started.elapsed());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!(
                    "{} exited at start ({status}); see {}",
                    self.name,
                    self.log.display()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not become healthy in 60 s; see {}",
                    self.name,
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL, and waits for the process to be gone.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Sends `signal` (`STOP`, `CONT`) with kill(1): no unsafe code needed.
    pub fn signal(&self, signal: &str) -> anyhow::Result<()> {
        let pid = self.pid().context("not running")?;
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()?;
        ensure!(status.success(), "kill -{signal} {pid} failed");
        Ok(())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // A stopped process still dies of SIGKILL; resuming first lets the kernel reap it at once.
        let _ = self.signal("CONT");
    }
}

/// The status of `GET {base}/health`, or `None` when there was no answer.
pub async fn health(http: &reqwest::Client, base: &str) -> Option<u16> {
    http.get(format!("{base}/health"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}
