//! Log-in protection as a deployment sees it (SPEC §11): budgets shared through the database,
//! client addresses behind trusted proxies, no lock-out from another address, passwords exact.

use b2b_testkit::{Backend, on_each_backend};
use chrono::{DateTime, Utc};
use customers_api::LoginSettings;
use customers_api::operators::client_addr::TrustedProxies;
use reqwest::{Method, Response};
use serde_json::json;

use crate::helpers::{TestApp, problem};

on_each_backend!(
    passwords_are_checked_exactly_as_sent,
    a_guesser_cannot_lock_the_operator_out_from_another_address,
    one_address_spent_leaves_the_others_alone,
    forwarded_for_from_an_untrusted_peer_is_ignored,
    ipv6_clients_share_the_budget_of_their_64,
);

/// The start of a minute: the test's attempts all fall in one window.
fn minute() -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(1_800_000_000 / 60 * 60, 0)
}

/// A server whose TCP peer (the test, on 127.0.0.1) is a trusted proxy.
async fn behind_proxy(backend: Backend) -> TestApp {
    let login = LoginSettings {
        trusted_proxies: TrustedProxies::parse("127.0.0.1/32").unwrap(),
        ..LoginSettings::default()
    };
    TestApp::with_login(backend, login, minute()).await
}

async fn log_in(
    app: &TestApp,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Response {
    let mut req = app
        .anon(Method::POST, "/auth/token")
        .json(&json!({"email": email, "password": password}));
    if let Some(xff) = forwarded_for {
        req = req.header("X-Forwarded-For", xff);
    }
    req.send().await.expect("POST /auth/token")
}

async fn statuses(
    app: &TestApp,
    n: usize,
    attempt: impl Fn(usize) -> (String, String),
) -> Vec<u16> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (email, xff) = attempt(i);
        out.push(
            log_in(app, &email, "wrong-password", Some(&xff))
                .await
                .status()
                .as_u16(),
        );
    }
    out
}

async fn passwords_are_checked_exactly_as_sent(backend: Backend) {
    let app = TestApp::with_login(backend, LoginSettings::default(), minute()).await;
    for sent in ["admin123 ", " admin123", "admin123\n", "ADMIN123"] {
        let resp = log_in(&app, "admin@b2b.local", sent, None).await;
        problem(resp, 401, "UNAUTHORIZED").await;
    }
    assert_eq!(
        log_in(&app, "admin@b2b.local", "admin123", None)
            .await
            .status(),
        200
    );
}

async fn a_guesser_cannot_lock_the_operator_out_from_another_address(backend: Backend) {
    let app = behind_proxy(backend).await;
    let guesses = statuses(&app, 20, |_| {
        ("admin@b2b.local".into(), "198.51.100.1".into())
    })
    .await;
    assert_eq!(guesses[..10], [401; 10], "{guesses:?}");
    assert_eq!(guesses[10..], [429; 10], "{guesses:?}");
    // The right password is refused to the guesser while its budget is spent...
    let resp = log_in(&app, "admin@b2b.local", "admin123", Some("198.51.100.1")).await;
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After: {retry}");
    problem(resp, 429, "RATE_LIMITED").await;
    // ...and given to the operator at their own address.
    let resp = log_in(&app, "admin@b2b.local", "admin123", Some("203.0.113.7")).await;
    assert_eq!(resp.status(), 200);
}

async fn one_address_spent_leaves_the_others_alone(backend: Backend) {
    let app = behind_proxy(backend).await;
    let spent = statuses(&app, 120, |i| {
        (format!("user{i}@b2b.local"), "198.51.100.3".into())
    })
    .await;
    assert!(spent[..100].iter().all(|s| *s == 401), "{spent:?}");
    assert!(spent[100..].iter().all(|s| *s == 429), "{spent:?}");
    let other = log_in(
        &app,
        "user1@b2b.local",
        "wrong-password",
        Some("198.51.100.4"),
    )
    .await;
    assert_eq!(other.status(), 401);
    let admin = log_in(&app, "admin@b2b.local", "admin123", Some("198.51.100.4")).await;
    assert_eq!(admin.status(), 200);
}

async fn forwarded_for_from_an_untrusted_peer_is_ignored(backend: Backend) {
    // No trusted proxies: every client here is the TCP peer, whatever it writes in the header.
    let app = TestApp::with_login(backend, LoginSettings::default(), minute()).await;
    let spoofed = statuses(&app, 120, |i| {
        (format!("user{i}@b2b.local"), format!("10.0.0.{i}"))
    })
    .await;
    assert!(spoofed[..100].iter().all(|s| *s == 401), "{spoofed:?}");
    assert!(spoofed[100..].iter().all(|s| *s == 429), "{spoofed:?}");
    let resp = log_in(&app, "admin@b2b.local", "admin123", Some("203.0.113.7")).await;
    problem(resp, 429, "RATE_LIMITED").await;
}

async fn ipv6_clients_share_the_budget_of_their_64(backend: Backend) {
    let app = behind_proxy(backend).await;
    // Ten guesses from ten addresses of one /64 spend that /64's budget for the e-mail.
    let guesses = statuses(&app, 11, |i| {
        (
            "admin@b2b.local".into(),
            format!("2001:db8:1:2::{:x}", i + 1),
        )
    })
    .await;
    assert_eq!(guesses[..10], [401; 10], "{guesses:?}");
    assert_eq!(guesses[10], 429, "{guesses:?}");
    let next_64 = log_in(&app, "admin@b2b.local", "admin123", Some("2001:db8:1:3::1")).await;
    assert_eq!(next_64.status(), 200);
}
