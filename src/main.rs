//! `cargo run`: the whole B2B Orders system in one process — customers-api (3001), orders-api
//! (3002) and the orchestrator (3000) — over an embedded SQLite file (or `DATABASE_URL`), with
//! the schema applied and the demo data loaded when the database is new. `b2b-orders --help`
//! lists its settings.

use anyhow::Context;
use b2b_platform::cli::{Setting, settings_help};
use b2b_platform::config::names::*;
use b2b_platform::{config, server};
use clap::{Parser, Subcommand};
use tokio::sync::watch;

#[derive(Debug, Parser)]
#[command(
    name = "b2b-orders",
    version,
    about = "B2B Orders in one process: customers-api, orders-api and the orchestrator, over an embedded SQLite file (or DATABASE_URL); development and demos",
    after_help = settings_help(&settings()),
)]
struct Cli {
    /// Without a command: serve
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply the migrations, load the demo data into a new database, and serve all three parts
    /// until Ctrl-C or SIGTERM (the default)
    #[command(after_help = settings_help(&settings()))]
    Serve,
}

/// The all-in-one's own settings, then every part's that it reads (each part's `PORT` and
/// upstream addresses are replaced by its own).
fn settings() -> Vec<Setting> {
    let mut all = vec![
        Setting::new(
            BIND_ADDRESS,
            "the address the three parts listen on: loopback only, since the development secrets are public",
            LOOPBACK,
            "an IP address; 0.0.0.0 or :: for every interface",
        ),
        Setting::port(
            CUSTOMERS_PORT,
            "customers-api's port",
            customers_api::DEFAULT_PORT,
        ),
        Setting::port(ORDERS_PORT, "orders-api's port", orders_api::DEFAULT_PORT),
        Setting::port(
            ORCHESTRATOR_PORT,
            "the orchestrator's port",
            lambda_orchestrator::DEFAULT_PORT,
        ),
        Setting::new(
            CUSTOMERS_API_BASE,
            "where the other parts call customers-api",
            "http://localhost:$CUSTOMERS_PORT",
            "an http:// or https:// URL",
        ),
        Setting::new(
            ORDERS_API_BASE,
            "where the orchestrator calls orders-api",
            "http://localhost:$ORDERS_PORT",
            "an http:// or https:// URL",
        ),
    ];
    all.extend(Setting::secrets(true));
    let not_read = [PORT, AWS_LAMBDA_RUNTIME_API];
    let parts = [
        customers_api::settings(),
        orders_api::settings(),
        lambda_orchestrator::settings(),
    ];
    for setting in parts.into_iter().flatten() {
        if !not_read.contains(&setting.name) && !all.iter().any(|s| s.name == setting.name) {
            all.push(setting);
        }
    }
    // Logging is the same for every part: last, as in each part's own list.
    all.sort_by_key(|s| Setting::logging().iter().any(|l| l.name == s.name));
    all
}

const LOOPBACK: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

#[tokio::main]
async fn main() {
    b2b_platform::binary::main(env!("CARGO_PKG_NAME"), |cli: Cli| {
        let Command::Serve = cli.command.unwrap_or(Command::Serve);
        run()
    })
    .await;
}

fn local(port: u16) -> String {
    format!("http://localhost:{port}")
}

async fn run() -> anyhow::Result<()> {
    let ip = config::parse_or(BIND_ADDRESS, LOOPBACK)?;
    let customers_port = config::port(CUSTOMERS_PORT, customers_api::DEFAULT_PORT)?;
    let orders_port = config::port(ORDERS_PORT, orders_api::DEFAULT_PORT)?;
    let orchestrator_port = config::port(ORCHESTRATOR_PORT, lambda_orchestrator::DEFAULT_PORT)?;
    let customers_base = config::var_or(CUSTOMERS_API_BASE, &local(customers_port));
    let orders_base = config::var_or(ORDERS_API_BASE, &local(orders_port));

    let customers_config = customers_api::Config {
        port: customers_port,
        ..customers_api::Config::from_env_with(true)?
    };
    let orders_config = orders_api::Config {
        port: orders_port,
        customers_api_base: customers_base.clone(),
        ..orders_api::Config::from_env_with(true)?
    };
    let orchestrator_config = lambda_orchestrator::Config {
        port: orchestrator_port,
        customers_api_base: customers_base,
        orders_api_base: orders_base,
        ..lambda_orchestrator::Config::from_env_with(true)?
    };

    let db = server::open(&customers_config.database_url).await?;
    if db.seed_if_empty().await? {
        tracing::info!("new database: demo data loaded");
    }

    // Bind all three first, so a taken port stops start-up before anything serves.
    let customers_listener = server::bind_to(ip, customers_port).await?;
    let orders_listener = server::bind_to(ip, orders_port).await?;
    let orchestrator_listener = server::bind_to(ip, orchestrator_port).await?;

    let customers =
        customers_api::app(customers_api::AppState::new(db.clone(), &customers_config)?);
    let orders_state = orders_api::AppState::new(db.clone(), &orders_config)?;
    tokio::spawn(orders_api::idempotency::purge_periodically(
        db.clone(),
        orders_state.clock.clone(),
    ));
    let orders = orders_api::app(orders_state);
    let orchestrator =
        lambda_orchestrator::app(lambda_orchestrator::AppState::new(&orchestrator_config)?);

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let servers = tokio::try_join!(
        server::serve(customers_listener, customers, stopped(stop_rx.clone())),
        server::serve(orders_listener, orders, stopped(stop_rx.clone())),
        server::serve(
            orchestrator_listener,
            orchestrator,
            stopped(stop_rx.clone())
        ),
        async {
            print_banner(customers_port, orders_port, orchestrator_port, db.backend());
            server::shutdown_signal().await;
            stop_tx.send(true).context("stopping the servers")
        },
    );
    db.close().await;
    servers.map(|_| ())
}

fn print_banner(customers: u16, orders: u16, orchestrator: u16, backend: &str) {
    println!(
        r#"
B2B Orders is running ({backend}).

  customers-api      {c}      docs: {c}/docs
  orders-api         {o}      docs: {o}/docs
  orchestrator       {r}      docs: {r}/docs

Demo operator (development only): admin@b2b.local / admin123

Get a token:
  TOKEN=$(curl -s {c}/auth/token -H 'Content-Type: application/json' \
    -d '{{"email":"admin@b2b.local","password":"admin123"}}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

Create and confirm an order in one call:
  curl -s -X POST {r}/orchestrator/create-and-confirm-order \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{{"customer_id":1,"items":[{{"product_id":2,"qty":3}}],"idempotency_key":"demo-'$RANDOM'","correlation_id":"req-789"}}'

Press Ctrl-C to stop.
"#,
        c = local(customers),
        o = local(orders),
        r = local(orchestrator),
    );
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn every_setting_is_listed_once() {
        let settings = super::settings();
        let mut names: Vec<_> = settings.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), settings.len());
        assert!(!names.contains(&super::PORT));
    }
}
