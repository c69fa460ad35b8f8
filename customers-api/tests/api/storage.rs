//! The customer repository's story, told on every backend this run has: SQLite always, MariaDB
//! or MySQL when `TEST_MYSQL_URL` is set.

use b2b_domain::customer::{Customer, CustomerInput};
use b2b_platform::extract::PageRequest;
use b2b_platform::{Clock, Db};
use b2b_testkit::{Backend, ServerDb, TestDb, on_each_backend};
use customers_api::customers::repo::{self, WriteError};
use serde_json::json;

use crate::helpers::{TestApp, ids};

/// The repository over one database, with the inputs written briefly.
struct Repo<'a> {
    db: &'a Db,
    clock: Clock,
}

fn input(name: &str, email: &str, phone: Option<&str>) -> CustomerInput {
    let phone = phone.map(Into::into);
    CustomerInput {
        name: name.into(),
        email: email.into(),
        phone,
    }
}

impl Repo<'_> {
    async fn insert(&self, name: &str, email: &str) -> Result<Customer, WriteError> {
        repo::insert(self.db, &input(name, email, None), self.clock.now()).await
    }

    async fn replace(&self, id: i64, name: &str, email: &str) -> Result<Customer, WriteError> {
        repo::replace(self.db, id, &input(name, email, None), self.clock.now()).await
    }

    async fn get(&self, id: i64) -> Option<Customer> {
        repo::get(self.db, id).await.unwrap()
    }

    async fn delete(&self, id: i64) -> bool {
        repo::soft_delete(self.db, id, self.clock.now())
            .await
            .unwrap()
    }

    /// Ids of one page of at most `limit` rows after `after`, with one more row when a next
    /// page exists (the repository fetches one extra).
    async fn list(&self, search: Option<&str>, limit: i64, after: i64) -> Vec<i64> {
        let rows = repo::list(self.db, search, PageRequest { limit, after })
            .await
            .unwrap();
        rows.iter().map(|c| c.id).collect()
    }
}

async fn story(backend: Backend) {
    let test_db = TestDb::new(backend).await; // owns the SQLite file: keep it alive
    let r = Repo {
        db: &test_db.db,
        clock: Clock::system(),
    };

    let with_phone = input("ACME Corp", "Ops@Acme.com", Some("+1-555-0100"));
    let acme = repo::insert(r.db, &with_phone, r.clock.now())
        .await
        .unwrap();
    let cotton = r
        .insert("100% Cotton_Co", "cotton@example.com")
        .await
        .unwrap();
    let plain = r
        .insert("PlainXCo ünited", "plain@example.com")
        .await
        .unwrap();
    assert!(acme.id < cotton.id && cotton.id < plain.id, "ids ascend");
    // timestamps come back exactly as written (microseconds, UTC)
    assert_eq!(r.get(acme.id).await, Some(acme.clone()), "{backend:?}");

    for taken in ["ops@acme.com", "OPS@ACME.COM"] {
        let dup = r.insert("Copy", taken).await;
        assert!(
            matches!(dup, Err(WriteError::EmailTaken)),
            "{backend:?} {taken}: {dup:?}"
        );
    }

    assert_eq!(r.list(None, 20, 0).await, [acme.id, cotton.id, plain.id]);
    assert_eq!(r.list(None, 1, acme.id).await, [cotton.id, plain.id]);
    let searches = [
        ("acme", vec![acme.id]),
        ("EXAMPLE.COM", vec![cotton.id, plain.id]),
        ("ÜNITED", vec![plain.id]),
        // as wildcards, `_` would match "PlainXCo" too and `%` everything
        ("%", vec![cotton.id]),
        ("n_c", vec![cotton.id]),
        ("0% c", vec![cotton.id]),
        ("' OR 1=1 --", vec![]),
    ];
    for (search, want) in searches {
        assert_eq!(
            r.list(Some(search), 20, 0).await,
            want,
            "{backend:?} {search}"
        );
    }

    let replaced = r
        .replace(acme.id, "ACME Holdings", "hq@acme.com")
        .await
        .unwrap();
    assert_eq!(
        (replaced.name.as_str(), replaced.phone.as_deref()),
        ("ACME Holdings", None)
    );
    assert_eq!(replaced.created_at, acme.created_at);
    assert!(replaced.updated_at > acme.updated_at);
    let clash = r.replace(plain.id, "Plain", "HQ@acme.com").await;
    assert!(
        matches!(clash, Err(WriteError::EmailTaken)),
        "{backend:?}: {clash:?}"
    );
    assert_eq!(
        r.get(plain.id).await,
        Some(plain.clone()),
        "a refused replace changes nothing"
    );

    assert!(r.delete(acme.id).await);
    assert!(!r.delete(acme.id).await, "already deleted");
    assert_eq!(r.get(acme.id).await, None);
    assert_eq!(r.list(None, 20, 0).await, [cotton.id, plain.id]);
    let gone = r.replace(acme.id, "Zombie", "zombie@acme.com").await;
    assert!(
        matches!(gone, Err(WriteError::NotFound)),
        "{backend:?}: {gone:?}"
    );

    let reborn = r.insert("ACME Again", "hq@ACME.com").await.unwrap();
    assert!(reborn.id > plain.id);
    assert_eq!(r.get(reborn.id).await, Some(reborn));
}

on_each_backend!(story, the_api_answers_the_same);

/// The HTTP surface over each backend: where the engines differ (unique violations, `LIKE`
/// escapes and case folding, keyset pages), the client sees no difference.
async fn the_api_answers_the_same(backend: Backend) {
    let app = TestApp::on(backend).await;
    app.create("50% Off_Sale", "sale@example.com").await;
    app.create("ÉCOLE Ÿves", "contact@lycee.example").await;
    let dup = app
        .post(
            "/customers",
            &json!({"name": "Dup", "email": "OPS@ACME.COM"}),
        )
        .await;
    assert_eq!(dup.status(), 409, "{backend:?}");
    let off = app.page("/customers?search=%25%20off_").await;
    assert_eq!(ids(&off), [6], "{backend:?}");
    let ecole = app.page("/customers?search=%C3%A9cole").await;
    assert_eq!(ids(&ecole), [7], "{backend:?}: école finds ÉCOLE");

    let first = app.page("/customers?limit=4").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let next = app
        .page(&format!("/customers?limit=4&cursor={cursor}"))
        .await;
    assert_eq!(
        (ids(&first), ids(&next)),
        (vec![1, 2, 3, 4], vec![5, 6, 7]),
        "{backend:?}"
    );

    assert_eq!(app.delete("/customers/1").await.status(), 204);
    assert_eq!(app.get("/customers/1").await.status(), 404);
    let reuse = app
        .post("/customers", &json!({"name": "A", "email": "ops@acme.com"}))
        .await;
    assert_eq!(reuse.status(), 201, "{backend:?}");
}

/// docker compose's MySQL loads `db/schema.sql` then `db/seed.sql` before any service starts:
/// the services must migrate over that database without error and serve its demo data.
#[tokio::test]
#[cfg_attr(not(mysql_tests), ignore = "needs TEST_MYSQL_URL")]
async fn a_database_made_from_schema_sql_and_seed_sql_is_served_as_it_is() {
    use sqlx::Connection;
    let server = ServerDb::new().await;
    let mut conn = sqlx::MySqlConnection::connect(&server.url).await.unwrap();
    for file in ["schema.sql", "seed.sql"] {
        let sql = std::fs::read_to_string(format!("{}/../db/{file}", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
        sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
    }
    let db = Db::connect(&server.url, &Default::default()).await.unwrap();
    db.migrate()
        .await
        .expect("migrations run over a database made from schema.sql");
    db.migrate().await.expect("and again");
    assert!(
        !db.seed_if_empty().await.unwrap(),
        "the seed is recognised as loaded"
    );
    let acme = repo::get(&db, 1).await.unwrap().expect("customer 1");
    assert_eq!(
        (acme.name.as_str(), acme.email.as_str()),
        ("ACME Corp", "ops@acme.com")
    );
}
