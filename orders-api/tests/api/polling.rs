//! What a page of `GET /orders` promises a poller (README, "Polling for new orders"): an id is
//! taken at insert and visible at commit, so on MariaDB a lower id can appear after a higher one,
//! below a cursor already past it; a closed time window read once its writers are done has it.

use b2b_platform::extract::encode_cursor;
use b2b_testkit::{Backend, ids};
use sqlx::{Connection, Executor};

use crate::helpers::{TestApp, on_each_backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(mysql_tests),
    ignore = "needs TEST_MYSQL_URL (on SQLite one writer at a time)"
)]
async fn an_order_that_commits_late_appears_below_the_cursor_but_in_its_window() {
    let app = TestApp::on(Backend::MySql).await;
    // A slow writer: its order's id is taken now, its commit comes later.
    let mut slow = sqlx::MySqlConnection::connect(&app.db.url)
        .await
        .expect("a second connection");
    slow.execute("BEGIN").await.expect("begin");
    let late: i64 = {
        let done = sqlx::query(
            "INSERT INTO orders (customer_id, status, total_cents, created_at, updated_at) \
             VALUES (1, 'CREATED', 899, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
        )
        .execute(&mut slow)
        .await
        .expect("insert");
        i64::try_from(done.last_insert_id()).expect("id")
    };

    let early = app.create_order(&[(2, 1)]).await["id"]
        .as_i64()
        .expect("id");
    assert!(early > late, "{early} was inserted after {late}");
    // A poller reads the new orders and keeps the last id it saw.
    assert_eq!(ids(&app.get_ok("/orders?limit=100").await), [early]);

    slow.execute("COMMIT").await.expect("commit");
    // Past the cursor: nothing. The late order is there, below it, for good.
    let next = format!("/orders?limit=100&cursor={}", encode_cursor(early));
    assert!(ids(&app.get_ok(&next).await).is_empty());
    assert_eq!(ids(&app.get_ok("/orders?limit=100").await), [late, early]);

    // A window read once every writer that started in it is done has both (the widest too:
    // MariaDB once applied TIMESTAMP's 1970–2038 range to these bounds and matched nothing).
    let window = "/orders?from=1970-01-01T00:00:00Z&to=9999-12-31T23:59:59Z&limit=100";
    assert_eq!(ids(&app.get_ok(window).await), [late, early]);
}

/// The widest window is every order, on every backend.
async fn time_bounds_far_in_the_past_or_future_are_bounds(backend: Backend) {
    let app = TestApp::on(backend).await;
    let id = app.create_order(&[(2, 1)]).await["id"]
        .as_i64()
        .expect("id");
    for bounds in [
        "from=1970-01-01T00:00:00Z",
        "from=1000-01-01T00:00:00Z",
        "to=2039-01-01T00:00:00Z",
        "to=9999-12-31T23:59:59Z",
        "from=1970-01-01T00:00:00Z&to=9999-12-31T23:59:59Z",
    ] {
        let page = app.get_ok(&format!("/orders?{bounds}")).await;
        assert_eq!(ids(&page), [id], "{bounds}");
    }
    for bounds in ["to=1970-01-01T00:00:00Z", "from=9999-12-31T23:59:59Z"] {
        let page = app.get_ok(&format!("/orders?{bounds}")).await;
        assert!(ids(&page).is_empty(), "{bounds}");
    }
}

on_each_backend!(time_bounds_far_in_the_past_or_future_are_bounds);
