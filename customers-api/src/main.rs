//! customers-api binary: `customers-api [serve]` serves; `migrate`, `seed`, `healthcheck` and
//! `operators …` as `customers-api --help` lists them.

use b2b_platform::{config, telemetry};
use customers_api::cli::{self, Cli};

/// jemalloc gives the memory freed after a burst of requests back to the OS, where glibc's malloc
/// keeps it (BENCHMARKS.md, idle RSS after load).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    let cli: Cli = b2b_platform::cli::parse();
    config::load_dotenv();
    telemetry::init(env!("CARGO_PKG_NAME"));
    let result = cli::run(cli).await;
    // Spans still batched would be lost with the process.
    telemetry::flush_spans();
    if let Err(e) = result {
        eprintln!("customers-api: {e:#}");
        std::process::exit(1);
    }
}
