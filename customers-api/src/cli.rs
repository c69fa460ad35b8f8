//! The `customers-api` command line. Settings stay in the environment; each command's `--help`
//! lists the ones it reads (from [`crate::settings`]).

use b2b_platform::cli::{settings_help, settings_help_for};
use b2b_platform::{binary, config};
use clap::{Parser, Subcommand};

use crate::operators::cli::Operators;
use b2b_platform::config::names;

#[derive(Debug, Parser)]
#[command(
    name = "customers-api",
    version,
    about = "B2B Orders customers-api: operators log in here and manage customers",
    long_about = None,
    after_help = settings_help(&crate::settings()),
)]
pub struct Cli {
    /// Without a command: serve
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the pending migrations, then serve HTTP on PORT until Ctrl-C or SIGTERM (the default)
    #[command(after_help = settings_help(&crate::settings()))]
    Serve,
    /// Apply the pending migrations and exit
    #[command(after_help = database_help())]
    Migrate,
    /// Apply the migrations and load the demo data (operator admin@b2b.local) into a database
    /// with no operator: development only
    #[command(after_help = database_help())]
    Seed,
    /// Exit 0 when the service on PORT answers GET /health with 200, else 1 (for containers)
    #[command(after_help = settings_help_for(&crate::settings(), &[names::PORT]))]
    Healthcheck,
    /// Create and manage operators (who log in at POST /auth/token)
    #[command(subcommand, after_help = database_help())]
    Operators(Operators),
}

pub(crate) fn database_help() -> String {
    settings_help_for(&crate::settings(), &[names::DATABASE_URL])
}

/// Runs the command (serve when none was given).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => crate::run(crate::Config::from_env()?).await,
        cmd @ (Command::Migrate | Command::Seed) => {
            let db = binary::migrate(crate::DEFAULT_DATABASE_URL).await?;
            let name = if matches!(cmd, Command::Seed) {
                if !db.seed_if_empty().await? {
                    println!("the database already has an operator: seed skipped");
                }
                "seed"
            } else {
                "migrate"
            };
            println!("{name}: done ({})", db.backend());
            Ok(())
        }
        Command::Healthcheck => {
            anyhow::ensure!(binary::healthy(crate::DEFAULT_PORT).await?, "unhealthy");
            Ok(())
        }
        Command::Operators(command) => {
            let url = config::database_url(crate::DEFAULT_DATABASE_URL);
            crate::operators::cli::run(command, &url).await
        }
    }
}
