//! The database handle on SQLite, and the schema files it embeds.

use b2b_platform::db::{DbOptions, Exec, Query, Tx};
use b2b_platform::{Clock, Db, args};
use chrono::{DateTime, Utc};

const DB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../db");

#[tokio::test]
async fn unknown_schemes_are_refused_with_a_hint() {
    let err = Db::connect("postgres://x", &DbOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("mysql://"), "{err}");
}

#[tokio::test]
async fn sqlite_migrates_and_seeds_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/b2b.db", dir.path().display());
    let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
    db.migrate().await.unwrap();
    db.migrate().await.unwrap();
    assert!(db.seed_if_empty().await.unwrap());
    assert!(!db.seed_if_empty().await.unwrap());
    assert!(db.ping().await);
}

#[derive(sqlx::FromRow, Debug, PartialEq)]
struct Item {
    id: i64,
    name: String,
    at: DateTime<Utc>,
}

#[tokio::test]
async fn statements_and_transactions_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(
        &format!("sqlite://{}/t.db", dir.path().display()),
        &DbOptions::default(),
    )
    .await
    .unwrap();
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, at TEXT NOT NULL)", &[])
        .await
        .unwrap();
    let at = Clock::system().now();
    let id = db
        .insert("INSERT INTO t (name, at) VALUES (?, ?)", &args!["a", at])
        .await
        .unwrap();
    let refused: Result<(), sqlx::Error> = db
        .write_tx(1, |mut tx| async move {
            tx.insert(
                "INSERT INTO t (name, at) VALUES (?, ?)",
                &args!["rolled back", at],
            )
            .await?;
            Err::<(Tx, ()), _>(sqlx::Error::RowNotFound)
        })
        .await;
    assert!(refused.is_err());
    let mut q = Query::new("SELECT id, name, at FROM t WHERE id IN (");
    q.list([id, id + 1]).push(")", []);
    assert_eq!(q.sql, "SELECT id, name, at FROM t WHERE id IN (?, ?)");
    let rows: Vec<Item> = db.fetch_all(&q.sql, &q.args).await.unwrap();
    assert_eq!(
        rows,
        [Item {
            id,
            name: "a".into(),
            at
        }]
    );
}

/// `db/schema.sql` (what docker compose's MySQL loads) is the MySQL migrations, verbatim.
#[test]
fn schema_sql_equals_the_mysql_migrations() {
    let mut files: Vec<_> = std::fs::read_dir(format!("{DB}/migrations/mysql"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let migrations: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    assert_eq!(
        std::fs::read_to_string(format!("{DB}/schema.sql")).unwrap(),
        migrations,
        "db/schema.sql differs from db/migrations/mysql: copy the migrations into it"
    );
}

/// The SQLite seed is the MySQL seed but for how timestamps are written.
#[test]
fn the_seeds_hold_the_same_rows() {
    let mysql = std::fs::read_to_string(format!("{DB}/seed.sql")).unwrap();
    let sqlite = std::fs::read_to_string(format!("{DB}/sqlite-seed.sql"))
        .unwrap()
        .replace("2026-01-01T00:00:00+00:00", "2026-01-01 00:00:00.000000");
    assert_eq!(sqlite, mysql);
    assert!(mysql.contains("(1, 'ACME Corp', 'ops@acme.com'"));
}
