//! customers-api binary: `customers-api [serve]` serves; `migrate`, `seed`, `healthcheck` and
//! `operators …` as `customers-api --help` lists them.

use customers_api::cli;

#[tokio::main]
async fn main() {
    b2b_platform::binary::main(env!("CARGO_PKG_NAME"), cli::run).await;
}
