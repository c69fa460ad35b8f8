//! lambda-orchestrator binary: `lambda-orchestrator [serve]` serves Lambda events inside AWS
//! Lambda (`AWS_LAMBDA_RUNTIME_API` set, which starts it with no arguments) and plain HTTP on
//! `PORT` (3000) anywhere else; `healthcheck` probes a running one.

use b2b_platform::binary;
use b2b_platform::cli::{settings_help, settings_help_for};
use b2b_platform::config::names;
use clap::{Parser, Subcommand};
use lambda_orchestrator::Config;

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
    binary::main(env!("CARGO_PKG_NAME"), |cli: Cli| async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve if std::env::var_os(names::AWS_LAMBDA_RUNTIME_API).is_some() => {
                lambda_orchestrator::run_lambda(Config::from_env()?).await
            }
            Command::Serve => lambda_orchestrator::run_local(Config::from_env()?).await,
            // Unhealthy is exit code 1 without a message, as containers expect of a probe.
            Command::Healthcheck => {
                let healthy = binary::healthy(lambda_orchestrator::DEFAULT_PORT).await?;
                std::process::exit(if healthy { 0 } else { 1 });
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
