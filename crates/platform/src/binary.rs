//! What every binary's `main` does around its command, and the commands the APIs share.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::names;
use crate::db::Db;
use crate::{cli, config, telemetry};

/// jemalloc gives the memory freed after a burst of requests back to the OS, where glibc's malloc
/// keeps it (BENCHMARKS.md, idle RSS after load); here, every binary of the system has it.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Parses the command line (so `--help` touches nothing), loads `.env`, starts logs and span
/// export as `name`, runs `command`, and ends with its error as one line and exit code 1.
pub async fn main<C, F>(name: &'static str, command: impl FnOnce(C) -> F)
where
    C: clap::Parser,
    F: Future<Output = anyhow::Result<()>>,
{
    let cli: C = cli::parse();
    config::load_dotenv();
    telemetry::init(name);
    let result = command(cli).await;
    // Spans still batched would be lost with the process.
    telemetry::flush_spans();
    if let Err(e) = result {
        eprintln!("{name}: {e:#}");
        std::process::exit(1);
    }
}

/// `migrate` (and the start of `seed`): the database at `DATABASE_URL`, migrated.
pub async fn migrate(default_database_url: &str) -> anyhow::Result<Db> {
    crate::server::open(&config::database_url(default_database_url)).await
}

/// `healthcheck`: whether the service on `PORT` of this host answers `GET /health` with 200
/// (container health checks: the images carry no curl).
pub async fn healthy(default_port: u16) -> anyhow::Result<bool> {
    let port = config::port(names::PORT, default_port)?;
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        stream
            .write_all(b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await
            .ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        Some(head.ends_with(b" 200"))
    };
    Ok(
        tokio::time::timeout(std::time::Duration::from_secs(3), attempt)
            .await
            .ok()
            .flatten()
            .unwrap_or(false),
    )
}
