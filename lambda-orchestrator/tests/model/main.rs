//! The model-based suite: generated sequences of operations, some of them batches of concurrent
//! requests, run against the real customers-api, orders-api and orchestrator over HTTP on
//! SQLite and on MariaDB, each answer checked against a reference model and every step's end
//! state against the database. A failure shrinks to a minimal sequence, printed with its seed.
//!
//! Bounded by the environment: `MODEL_CASES` cases per seed (default 128), `MODEL_STEPS` steps
//! at most per case (default 20), `MODEL_SEED` to run one seed only (default: the fixed seed
//! and one fresh seed, both printed), `MODEL_SHRINK_SECS` for shrinking (default 300),
//! `MODEL_WITHOUT=reorder,cancel,delete,orchestrate,patch,ifmatch,advance,batch,locks` to
//! leave kinds of step out. See RELIABILITY.md for the long run.

mod check;
mod model;
mod ops;
#[path = "../common/system.rs"]
mod parts;
mod regressions;
mod run;
mod selftest;
mod system;

use std::io::Write;
use std::sync::Mutex;

use b2b_testkit::{Backend, mysql_url};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use crate::ops::Mix;
use crate::run::{Stats, run_case};
use crate::system::System;

/// The seed every run starts with, so CI always regresses the same sequences.
const FIXED_SEED: u64 = 0x1126_5eed;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid number")),
        _ => default,
    }
}

/// Written past the test harness's capture, so the seeds show in every run's log.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&seed.to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

fn explore(backend: Backend) {
    let cases: u32 = env_or("MODEL_CASES", 128);
    let steps: usize = env_or("MODEL_STEPS", 20);
    let shrink_secs: u32 = env_or("MODEL_SHRINK_SECS", 300);
    let seeds = match std::env::var("MODEL_SEED") {
        Ok(s) if !s.trim().is_empty() => vec![env_or("MODEL_SEED", 0u64)],
        _ => vec![FIXED_SEED, rand::random::<u64>()],
    };
    let mix = Mix::all(backend == Backend::MySql)
        .without(&std::env::var("MODEL_WITHOUT").unwrap_or_default());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let sys = rt.block_on(System::start(backend));
    for seed in seeds {
        let started = std::time::Instant::now();
        say(&format!(
            "model [{backend:?}]: seed {seed} ({cases} cases, up to {steps} steps each); replay with MODEL_SEED={seed}"
        ));
        let config = Config {
            cases,
            max_shrink_iters: 2_000,
            max_shrink_time: shrink_secs.saturating_mul(1000),
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new_with_rng(config, rng(seed));
        let total = Mutex::new(Stats::default());
        let result = runner.run(&ops::case(mix, steps), |ops| {
            let stats = rt
                .block_on(run_case(&sys, &ops))
                .map_err(TestCaseError::fail)?;
            total.lock().expect("stats").add(&stats);
            Ok(())
        });
        let t = *total.lock().expect("stats");
        match result {
            Ok(()) => say(&format!(
                "model [{backend:?}]: seed {seed} passed: {} steps, {} requests, {} documented 503s, {} If-Match PATCHes ({} applied, {} refused 412, {} of them after a read in the same batch), {:.1} s",
                t.steps,
                t.requests,
                t.unavailable,
                t.if_match_applied + t.if_match_refused,
                t.if_match_applied,
                t.if_match_refused,
                t.raced_refused,
                started.elapsed().as_secs_f64()
            )),
            Err(TestError::Fail(why, ops)) => {
                let report = format!(
                    "model [{backend:?}]: FAILED with seed {seed} (replay with MODEL_SEED={seed}).\n\
                     Minimal sequence:\n{ops:#?}\n{why}"
                );
                say(&format!(
                    "model [{backend:?}]: FAILED with seed {seed}: see below"
                ));
                panic!("{report}");
            }
            Err(TestError::Abort(why)) => panic!("model [{backend:?}]: seed {seed} aborted: {why}"),
        }
    }
}

#[test]
fn model_on_sqlite() {
    explore(Backend::Sqlite);
}

// `cfg(mysql_tests)` comes from this package's build script (`TEST_MYSQL_URL` at build time).
#[test]
#[cfg_attr(
    not(mysql_tests),
    ignore = "TEST_MYSQL_URL was not set when the tests were built"
)]
fn model_on_mysql() {
    assert!(mysql_url().is_some(), "TEST_MYSQL_URL is not set");
    explore(Backend::MySql);
}
