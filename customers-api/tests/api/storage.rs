//! The customer repository's story, told on every backend this run has: SQLite always, MariaDB
//! or MySQL when `TEST_MYSQL_URL` is set.

use b2b_domain::customer::{Customer, CustomerInput};
use b2b_platform::Clock;
use b2b_platform::extract::PageRequest;
use b2b_testkit::{Backend, TestDb, backends};
use customers_api::customers::repo::{self, WriteError};
use serde_json::json;

use crate::helpers::{TestApp, ids};

fn input(name: &str, email: &str, phone: Option<&str>) -> CustomerInput {
    CustomerInput {
        name: name.into(),
        email: email.into(),
        phone: phone.map(Into::into),
    }
}

fn page(limit: i64, after: i64) -> PageRequest {
    PageRequest { limit, after }
}

fn id_list(rows: &[Customer]) -> Vec<i64> {
    rows.iter().map(|c| c.id).collect()
}

async fn story(backend: Backend) {
    let db = TestDb::new(backend).await.db;
    let clock = Clock::system();

    let acme = repo::insert(
        &db,
        &input("ACME Corp", "Ops@Acme.com", Some("+1-555-0100")),
        clock.now(),
    )
    .await
    .unwrap();
    let cotton = repo::insert(
        &db,
        &input("100% Cotton_Co", "cotton@example.com", None),
        clock.now(),
    )
    .await
    .unwrap();
    let plain = repo::insert(
        &db,
        &input("PlainXCo", "plain@example.com", None),
        clock.now(),
    )
    .await
    .unwrap();
    assert!(acme.id < cotton.id && cotton.id < plain.id, "ids ascend");
    // timestamps come back exactly as written (microseconds, UTC)
    assert_eq!(repo::get(&db, acme.id).await.unwrap(), Some(acme.clone()));

    for taken in ["ops@acme.com", "OPS@ACME.COM"] {
        let dup = repo::insert(&db, &input("Copy", taken, None), clock.now()).await;
        assert!(
            matches!(dup, Err(WriteError::EmailTaken)),
            "{backend:?} {taken}: {dup:?}"
        );
    }

    let all = repo::list(&db, None, page(20, 0)).await.unwrap();
    assert_eq!(id_list(&all), [acme.id, cotton.id, plain.id]);
    let after_first = repo::list(&db, None, page(1, acme.id)).await.unwrap();
    assert_eq!(
        id_list(&after_first),
        [cotton.id, plain.id],
        "one more row than the limit tells of a next page"
    );
    for (search, want) in [
        ("acme", vec![acme.id]),
        ("EXAMPLE.COM", vec![cotton.id, plain.id]),
        ("%", vec![cotton.id]),
    ] {
        assert_eq!(
            id_list(&repo::list(&db, Some(search), page(20, 0)).await.unwrap()),
            want,
            "{backend:?} {search}"
        );
    }
    // as wildcards, `_` would match "PlainXCo" and `%` everything
    for literal in ["n_c", "0% c"] {
        assert_eq!(
            id_list(&repo::list(&db, Some(literal), page(20, 0)).await.unwrap()),
            [cotton.id],
            "{literal}"
        );
    }
    assert!(
        repo::list(&db, Some("' OR 1=1 --"), page(20, 0))
            .await
            .unwrap()
            .is_empty()
    );

    let replaced = repo::replace(
        &db,
        acme.id,
        &input("ACME Holdings", "hq@acme.com", None),
        clock.now(),
    )
    .await
    .unwrap();
    assert_eq!(
        (replaced.name.as_str(), replaced.phone.as_deref()),
        ("ACME Holdings", None)
    );
    assert_eq!(replaced.created_at, acme.created_at);
    assert!(replaced.updated_at > acme.updated_at);
    let clash = repo::replace(
        &db,
        plain.id,
        &input("Plain", "HQ@acme.com", None),
        clock.now(),
    )
    .await;
    assert!(
        matches!(clash, Err(WriteError::EmailTaken)),
        "{backend:?}: {clash:?}"
    );
    assert_eq!(
        repo::get(&db, plain.id).await.unwrap(),
        Some(plain.clone()),
        "a refused replace changes nothing"
    );

    assert!(repo::soft_delete(&db, acme.id, clock.now()).await.unwrap());
    assert!(
        !repo::soft_delete(&db, acme.id, clock.now()).await.unwrap(),
        "already deleted"
    );
    assert_eq!(repo::get(&db, acme.id).await.unwrap(), None);
    assert_eq!(
        id_list(&repo::list(&db, None, page(20, 0)).await.unwrap()),
        [cotton.id, plain.id]
    );
    let gone = repo::replace(
        &db,
        acme.id,
        &input("Zombie", "zombie@acme.com", None),
        clock.now(),
    )
    .await;
    assert!(
        matches!(gone, Err(WriteError::NotFound)),
        "{backend:?}: {gone:?}"
    );

    let reborn = repo::insert(&db, &input("ACME Again", "hq@ACME.com", None), clock.now())
        .await
        .unwrap();
    assert!(reborn.id > plain.id);
    assert_eq!(repo::get(&db, reborn.id).await.unwrap(), Some(reborn));
}

#[tokio::test]
async fn the_repository_story_holds_on_every_backend() {
    for backend in backends() {
        story(backend).await;
    }
}

/// The HTTP surface over each backend: the parts where the engines differ (unique violations,
/// `LIKE` escapes, keyset pages) reach the client the same way.
#[tokio::test]
async fn the_api_answers_the_same_on_every_backend() {
    for backend in backends() {
        let app = TestApp::on(backend).await;
        app.create("50% Off_Sale", "sale@example.com").await;
        let dup = app
            .post(
                "/customers",
                &json!({"name": "Dup", "email": "OPS@ACME.COM"}),
            )
            .await;
        assert_eq!(dup.status(), 409, "{backend:?}");
        assert_eq!(
            ids(&app.page("/customers?search=%25%20off_").await),
            [6],
            "{backend:?}"
        );
        let first = app.page("/customers?limit=4").await;
        let next = app
            .page(&format!(
                "/customers?limit=4&cursor={}",
                first["next_cursor"].as_str().unwrap()
            ))
            .await;
        assert_eq!(
            (ids(&first), ids(&next)),
            (vec![1, 2, 3, 4], vec![5, 6]),
            "{backend:?}"
        );
        assert_eq!(app.delete("/customers/1").await.status(), 204);
        assert_eq!(app.get("/customers/1").await.status(), 404);
        assert_eq!(
            app.post("/customers", &json!({"name": "A", "email": "ops@acme.com"}))
                .await
                .status(),
            201
        );
    }
}
