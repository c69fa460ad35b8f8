//! lambda-orchestrator binary: inside AWS Lambda (`AWS_LAMBDA_RUNTIME_API` set) it serves
//! Lambda events; anywhere else, plain HTTP on `PORT` (3000). `healthcheck` probes a running one.

use b2b_platform::{config, telemetry};
use lambda_orchestrator::Config;

/// jemalloc gives the memory freed after a burst of requests back to the OS, where glibc's malloc
/// keeps it (BENCHMARKS.md, idle RSS after load).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    config::load_dotenv();
    telemetry::init();
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        let healthy = match config::port("PORT", lambda_orchestrator::DEFAULT_PORT) {
            Ok(port) => b2b_platform::server::probe_health(port).await,
            Err(e) => {
                eprintln!("lambda-orchestrator: {e:#}");
                false
            }
        };
        std::process::exit(if healthy { 0 } else { 1 });
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("lambda-orchestrator: {e:#}");
            std::process::exit(1);
        }
    };
    let result = if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        lambda_orchestrator::run_lambda(config).await
    } else {
        lambda_orchestrator::run_local(config).await
    };
    if let Err(e) = result {
        eprintln!("lambda-orchestrator: {e:#}");
        std::process::exit(1);
    }
}
