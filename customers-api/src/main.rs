//! customers-api binary: `customers-api` serves; `customers-api migrate` applies migrations;
//! `customers-api seed` loads the demo data into an empty database;
//! `customers-api healthcheck` probes a running one (for containers).

use b2b_platform::db::DbOptions;
use b2b_platform::{Db, config, telemetry};

/// jemalloc gives the memory freed after a burst of requests back to the OS, where glibc's malloc
/// keeps it (BENCHMARKS.md, idle RSS after load).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    config::load_dotenv();
    telemetry::init();
    if let Err(e) = run().await {
        eprintln!("customers-api: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let command = std::env::args().nth(1);
    match command.as_deref() {
        None | Some("serve") => customers_api::run(customers_api::Config::from_env()?).await,
        Some(cmd @ ("migrate" | "seed")) => {
            let url = config::var_or("DATABASE_URL", customers_api::DEFAULT_DATABASE_URL);
            let db = Db::connect(&url, &DbOptions::default()).await?;
            db.migrate().await?;
            if cmd == "seed" && !db.seed_if_empty().await? {
                println!("the database already has an operator: seed skipped");
            }
            println!("{cmd}: done ({})", db.backend());
            Ok(())
        }
        Some("healthcheck") => {
            let port = config::port("PORT", customers_api::DEFAULT_PORT)?;
            anyhow::ensure!(b2b_platform::server::probe_health(port).await, "unhealthy");
            Ok(())
        }
        Some(other) => {
            anyhow::bail!("unknown command {other:?}: use serve, migrate, seed or healthcheck")
        }
    }
}
