//! customers-api binary: `customers-api [serve]` serves; `migrate`, `seed`, `healthcheck` and
//! `operators …` as `customers-api --help` lists them.

use customers_api::cli;

/// jemalloc gives the memory freed after a burst of requests back to the OS, where glibc's malloc
/// keeps it (BENCHMARKS.md, idle RSS after load).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    b2b_platform::binary::main(env!("CARGO_PKG_NAME"), cli::run).await;
}
