//! Keyset pages of `GET /customers`, their bounds, and `search`.

use serde_json::json;

use crate::helpers::{TestApp, error_fields, ids, problem};

/// Ids found by `search`, sent URL-encoded; fails the test unless the answer is a 200.
async fn search_ids(app: &TestApp, search: &str) -> Vec<i64> {
    let req = app
        .op(reqwest::Method::GET, "/customers")
        .query(&[("search", search)]);
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200, "search={search}");
    ids(&resp.json().await.unwrap())
}

/// The seed's five customers plus `n` more.
async fn app_with(n: usize) -> TestApp {
    let app = TestApp::spawn().await;
    for i in 0..n {
        app.create(&format!("Extra {i}"), &format!("extra{i}@example.com"))
            .await;
    }
    app
}

#[tokio::test]
async fn the_default_page_has_20_rows_and_100_is_allowed() {
    let app = app_with(20).await;
    let first = app.page("/customers").await;
    assert_eq!(ids(&first), (1..=20).collect::<Vec<_>>());
    assert!(first["next_cursor"].is_string());

    let all = app.page("/customers?limit=100").await;
    assert_eq!(ids(&all), (1..=25).collect::<Vec<_>>());
    assert_eq!(all["next_cursor"], json!(null));
}

#[tokio::test]
async fn a_page_that_ends_the_list_has_a_null_cursor() {
    let app = TestApp::spawn().await;
    let page = app.page("/customers?limit=5").await;
    assert_eq!(ids(&page), [1, 2, 3, 4, 5]);
    assert_eq!(
        page["next_cursor"],
        json!(null),
        "no empty page after an exact fit"
    );

    let first = app.page("/customers?limit=4").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let last = app
        .page(&format!("/customers?limit=4&cursor={cursor}"))
        .await;
    assert_eq!(ids(&last), [5]);
    assert_eq!(last["next_cursor"], json!(null));
}

#[tokio::test]
async fn a_limit_outside_1_to_100_is_400() {
    let app = TestApp::spawn().await;
    for limit in ["0", "101", "-1", "x", "1.5", "99999999999999999999"] {
        let p = problem(
            app.get(&format!("/customers?limit={limit}")).await,
            400,
            "VALIDATION_ERROR",
        )
        .await;
        assert_eq!(error_fields(&p), ["limit"], "limit={limit}");
    }
    assert_eq!(ids(&app.page("/customers?limit=1").await), [1]);
}

#[tokio::test]
async fn a_malformed_cursor_is_400() {
    let app = TestApp::spawn().await;
    // "id:abc" and "id:-1" in base64url: well-formed encodings of nonsense
    for cursor in ["garbage", "%%%", "aWQ6YWJj", "aWQ6LTE", "MQ"] {
        let p = problem(
            app.get(&format!("/customers?cursor={cursor}")).await,
            400,
            "VALIDATION_ERROR",
        )
        .await;
        assert_eq!(error_fields(&p), ["cursor"], "cursor={cursor}");
    }
    let p = problem(
        app.get("/customers?limit=0&cursor=garbage").await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(
        error_fields(&p),
        ["limit", "cursor"],
        "every failing parameter is listed"
    );
}

#[tokio::test]
async fn walking_pages_while_rows_are_inserted_never_skips_or_repeats() {
    let app = app_with(15).await;
    let mut seen = Vec::new();
    let mut path = "/customers?limit=6".to_owned();
    for round in 0.. {
        let page = app.page(&path).await;
        seen.extend(ids(&page));
        let Some(cursor) = page["next_cursor"].as_str() else {
            break;
        };
        path = format!("/customers?limit=6&cursor={cursor}");
        // A row added behind the cursor (a new, higher id) must still show up later.
        app.create(
            &format!("Late {round}"),
            &format!("late{round}@example.com"),
        )
        .await;
    }
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "ascending, no repeats: {seen:?}"
    );
    let everyone: Vec<i64> = app
        .all_customers()
        .await
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(seen, everyone, "nothing skipped");
    assert!(seen.len() > 20);
}

#[tokio::test]
async fn search_matches_name_or_email_without_regard_to_case() {
    let app = TestApp::spawn().await;
    app.create("Acme Widgets", "sales@widgets.example").await; // id 6
    app.create("Hooli", "contact@ACMEMAIL.example").await; // id 7
    assert_eq!(ids(&app.page("/customers?search=ACME").await), [1, 6, 7]);
    assert_eq!(ids(&app.page("/customers?search=globex.COM").await), [2]);
    assert_eq!(
        ids(&app.page("/customers?search=%20initech%20").await),
        [3],
        "trimmed"
    );
    assert!(ids(&app.page("/customers?search=nobody-like-this").await).is_empty());

    // search results page like the full list
    let first = app.page("/customers?search=acme&limit=2").await;
    assert_eq!(ids(&first), [1, 6]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app
        .page(&format!("/customers?search=acme&limit=2&cursor={cursor}"))
        .await;
    assert_eq!((ids(&rest), &rest["next_cursor"]), (vec![7], &json!(null)));
}

#[tokio::test]
async fn search_ignores_case_beyond_ascii() {
    let app = TestApp::spawn().await;
    app.create("MÜLLER Straße GmbH", "einkauf@mueller.example")
        .await; // id 6
    app.create("ÉCOLE Ÿves", "contact@lycee.example").await; // id 7
    for (search, want) in [("müller", 6), ("Müller", 6), ("école", 7), ("ÿVES", 7)] {
        assert_eq!(search_ids(&app, search).await, [want], "{search}");
    }
}

#[tokio::test]
async fn search_treats_percent_and_underscore_literally() {
    let app = TestApp::spawn().await;
    app.create("100% Cotton Ltd", "cotton@example.com").await; // id 6
    app.create("snake_case Inc", "snake@example.com").await; // id 7
    app.create("snakeXcase Inc", "snakex@example.com").await; // id 8
    assert_eq!(ids(&app.page("/customers?search=%25").await), [6]);
    assert_eq!(ids(&app.page("/customers?search=0%25%20c").await), [6]);
    assert_eq!(ids(&app.page("/customers?search=e_c").await), [7]);
    assert_eq!(ids(&app.page("/customers?search=_").await), [7]);
    assert!(
        ids(&app.page("/customers?search=!").await).is_empty(),
        "nor the escape character"
    );
}

#[tokio::test]
async fn sql_in_a_search_finds_nothing_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let attacks = [
        "' OR 1=1 --",
        "' OR '1'='1",
        "%' OR '1'='1' --",
        "\"; DROP TABLE customers; --",
        "'; DELETE FROM customers; --",
        "1' UNION SELECT id, email, email, email, email, email FROM operators --",
        "\\",
    ];
    for attack in attacks {
        assert!(search_ids(&app, attack).await.is_empty(), "{attack}");
    }
    assert_eq!(ids(&app.page("/customers").await), [1, 2, 3, 4, 5]);
    assert_eq!(app.customer(1).await.unwrap()["name"], "ACME Corp");
    assert_eq!(
        (app.count("customers").await, app.count("operators").await),
        (5, 1)
    );
}

#[tokio::test]
async fn an_over_long_search_is_400() {
    let app = TestApp::spawn().await;
    let p = problem(
        app.get(&format!("/customers?search={}", "a".repeat(256)))
            .await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(error_fields(&p), ["search"]);
}
