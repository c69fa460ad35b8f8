//! Test support shared by the services' test suites: a fresh database per test (a temporary
//! SQLite file always; a new MariaDB/MySQL database when `TEST_MYSQL_URL` is set), servers bound
//! to port 0, the secrets the tests sign with, and a reader of `/metrics`.

mod database;
pub mod exposition;
mod openapi;
mod problem;
mod process;
mod server;

pub use database::{Backend, ServerDb, TestDb, mysql_url};
pub use openapi::assert_openapi_current;
pub use problem::{error_fields, ids, problem};
pub use process::{
    Run, assert_help_is_offline, assert_refused, assert_refused_with, run_cli, start_up,
};
pub use server::{client, spawn};

pub const JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef-0123456789";
pub const SERVICE_TOKEN: &str = "test-service-token-0123456789abcdef-0123";

/// Runs each story `async fn story(backend: Backend)` as the tests `story::sqlite` and
/// `story::mysql`; the second is ignored (with the reason) unless `TEST_MYSQL_URL` was set when
/// the calling package was built.
#[macro_export]
macro_rules! on_each_backend {
    ($($story:ident),+ $(,)?) => {$(
        mod $story {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$story($crate::Backend::Sqlite).await;
            }

            // `cfg(mysql_tests)` comes from the calling package's build script.
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            #[cfg_attr(not(mysql_tests), ignore = "TEST_MYSQL_URL was not set when the tests were built")]
            async fn mysql() {
                super::$story($crate::Backend::MySql).await;
            }
        }
    )+};
}
