//! What every binary's `main` does around its command, and the commands the APIs share.

use crate::db::Db;
use crate::{cli, config, telemetry};

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
    crate::server::open(&config::var_or("DATABASE_URL", default_database_url)).await
}

/// `healthcheck`: whether the service on `PORT` answers `GET /health` with 200.
pub async fn healthy(default_port: u16) -> anyhow::Result<bool> {
    let port = config::port("PORT", default_port)?;
    Ok(crate::server::probe_health(port).await)
}
