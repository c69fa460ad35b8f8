//! The three release binaries as child processes on free 127.0.0.1 ports, each logging to a file
//! in the run's directory and killed when dropped. The binaries are copied aside first, so a
//! build running elsewhere in the workspace cannot swap them mid-run.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::{Child, Command};
use tokio::time::Instant;

pub const BINARIES: [&str; 3] = ["customers-api", "orders-api", "lambda-orchestrator"];

/// Copies the three binaries from `from` into `to`; returns `to`.
pub fn copy_binaries(from: &Path, to: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(to)?;
    for b in BINARIES {
        let src = from.join(b);
        anyhow::ensure!(
            src.exists(),
            "{} is missing: build it with cargo build --release",
            src.display()
        );
        std::fs::copy(&src, to.join(b)).with_context(|| format!("copying {}", src.display()))?;
    }
    Ok(to.to_owned())
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// One running service.
pub struct Service {
    pub name: &'static str,
    pub port: u16,
    pub pid: u32,
    child: Child,
}

impl Service {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts `bin` with only `env` (and PATH) on a free port; waits until `/health` is 200.
    pub async fn start(
        name: &'static str,
        bin: &Path,
        env: &[(&str, String)],
        logs: &Path,
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let log = std::fs::File::create(logs.join(format!("{name}.log")))?;
        let mut child = Command::new(bin)
            // A directory with no `.env` in it.
            .current_dir(logs)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let pid = child.id().context("the child has no pid")?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while health(port).await != Some(200) {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "{name} exited at start ({status}); see {}/{name}.log",
                    logs.display()
                );
            }
            if Instant::now() > deadline {
                bail!("{name} did not answer /health in 60 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(Self {
            name,
            port,
            pid,
            child,
        })
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The status of `GET /health` on 127.0.0.1:`port` over a fresh connection, if any answer.
pub async fn health(port: u16) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let probe = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut buf = [0u8; 16];
        let mut n = 0;
        while n < 12 {
            let m = s.read(&mut buf[n..]).await.ok()?;
            if m == 0 {
                break;
            }
            n += m;
        }
        std::str::from_utf8(buf.get(9..12)?).ok()?.parse().ok()
    };
    tokio::time::timeout(Duration::from_secs(2), probe)
        .await
        .ok()
        .flatten()
}
