//! `cfg(mysql_tests)` when `TEST_MYSQL_URL` is set at build time: the MariaDB/MySQL tests are then
//! built to run, and otherwise reported as ignored, never as passed.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(mysql_tests)");
    println!("cargo::rerun-if-env-changed=TEST_MYSQL_URL");
    if std::env::var("TEST_MYSQL_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=mysql_tests");
    }
}
