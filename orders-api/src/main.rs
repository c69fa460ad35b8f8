//! orders-api binary: `orders-api` serves; `orders-api migrate` applies migrations;
//! `orders-api healthcheck` probes a running one (for containers).

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
        eprintln!("orders-api: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => orders_api::run(orders_api::Config::from_env()?).await,
        Some("migrate") => {
            let url = config::var_or("DATABASE_URL", orders_api::DEFAULT_DATABASE_URL);
            let db = Db::connect(&url, &DbOptions::default()).await?;
            db.migrate().await?;
            println!("migrate: done ({})", db.backend());
            Ok(())
        }
        Some("healthcheck") => {
            let port = config::port("PORT", orders_api::DEFAULT_PORT)?;
            anyhow::ensure!(b2b_platform::server::probe_health(port).await, "unhealthy");
            Ok(())
        }
        Some(other) => {
            anyhow::bail!("unknown command {other:?}: use serve, migrate or healthcheck")
        }
    }
}
