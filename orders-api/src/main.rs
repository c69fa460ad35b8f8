//! orders-api binary: `orders-api [serve]` serves; `migrate` and `healthcheck` as
//! `orders-api --help` lists them.

use b2b_platform::binary;
use b2b_platform::cli::{settings_help, settings_help_for};
use b2b_platform::config::names;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "orders-api",
    version,
    about = "B2B Orders orders-api: the catalogue and its stock, orders, confirmation and cancellation",
    after_help = settings_help(&orders_api::settings()),
)]
struct Cli {
    /// Without a command: serve
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply the pending migrations, then serve HTTP on PORT until Ctrl-C or SIGTERM (the default)
    #[command(after_help = settings_help(&orders_api::settings()))]
    Serve,
    /// Apply the pending migrations and exit
    #[command(after_help = settings_help_for(&orders_api::settings(), &[names::DATABASE_URL]))]
    Migrate,
    /// Exit 0 when the service on PORT answers GET /health with 200, else 1 (for containers)
    #[command(after_help = settings_help_for(&orders_api::settings(), &[names::PORT]))]
    Healthcheck,
}

#[tokio::main]
async fn main() {
    binary::main(env!("CARGO_PKG_NAME"), run).await;
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => orders_api::run(orders_api::Config::from_env()?).await,
        Command::Migrate => {
            let db = binary::migrate(orders_api::DEFAULT_DATABASE_URL).await?;
            println!("migrate: done ({})", db.backend());
            Ok(())
        }
        Command::Healthcheck => {
            anyhow::ensure!(
                binary::healthy(orders_api::DEFAULT_PORT).await?,
                "unhealthy"
            );
            Ok(())
        }
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
