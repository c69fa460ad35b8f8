//! lambda-orchestrator binary: `lambda-orchestrator [serve]` serves Lambda events inside AWS
//! Lambda (`AWS_LAMBDA_RUNTIME_API` set, which starts it with no arguments) and plain HTTP on
//! `PORT` (3000) anywhere else; `healthcheck` probes a running one.

use b2b_platform::cli::{settings_help, settings_help_for};
use b2b_platform::config::names;
use b2b_platform::{config, telemetry};
use clap::{Parser, Subcommand};
use lambda_orchestrator::Config;

/// jemalloc gives the memory freed after a burst of requests back to the OS, where glibc's malloc
/// keeps it (BENCHMARKS.md, idle RSS after load).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Debug, Parser)]
#[command(
    name = "lambda-orchestrator",
    version,
    about = "B2B Orders orchestrator: validates a customer, creates an order and confirms it, in one call",
    after_help = settings_help(&lambda_orchestrator::settings()),
)]
struct Cli {
    /// Without a command: serve
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve Lambda events when AWS_LAMBDA_RUNTIME_API is set, else HTTP on PORT until Ctrl-C
    /// or SIGTERM (the default)
    #[command(after_help = settings_help(&lambda_orchestrator::settings()))]
    Serve,
    /// Exit 0 when the orchestrator on PORT answers GET /health with 200, else 1 (for containers)
    #[command(after_help = settings_help_for(&lambda_orchestrator::settings(), &[names::PORT]))]
    Healthcheck,
}

#[tokio::main]
async fn main() {
    let cli: Cli = b2b_platform::cli::parse();
    config::load_dotenv();
    telemetry::init(env!("CARGO_PKG_NAME"));
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
        Command::Healthcheck => {
            match config::port(names::PORT, lambda_orchestrator::DEFAULT_PORT) {
                Ok(port) => {
                    let healthy = b2b_platform::server::probe_health(port).await;
                    std::process::exit(if healthy { 0 } else { 1 });
                }
                Err(e) => Err(e),
            }
        }
    };
    // Spans still batched would be lost with the process.
    telemetry::flush_spans();
    if let Err(e) = result {
        eprintln!("lambda-orchestrator: {e:#}");
        std::process::exit(1);
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    if std::env::var_os(names::AWS_LAMBDA_RUNTIME_API).is_some() {
        lambda_orchestrator::run_lambda(config).await
    } else {
        lambda_orchestrator::run_local(config).await
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
