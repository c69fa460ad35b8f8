//! Log-in budgets shared by every replica: counted in one-minute windows in `login_attempts`,
//! one atomic upsert per count, buckets hashed (the three budgets and why: docs/design.md,
//! "Log-in protection across replicas").

use b2b_platform::db::dialect;
use b2b_platform::{Db, args};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

const WINDOW_SECS: i64 = 60;

/// The three budgets.
#[derive(Debug, Clone, Copy)]
pub struct Budgets {
    per_email_and_address: i64,
    per_address: i64,
    failures_per_email: i64,
}

fn bucket(kind: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new().chain_update(kind);
    for p in parts {
        // Length-prefixed, so no two lists of parts hash the same text.
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    format!("{:x}", h.finalize())
}

/// The window `now` falls in, and the seconds until it ends (at least 1).
fn window(now: DateTime<Utc>) -> (i64, u64) {
    let t = now.timestamp();
    let start = t - t.rem_euclid(WINDOW_SECS);
    (
        start,
        u64::try_from(start + WINDOW_SECS - t).unwrap_or(1).max(1),
    )
}

/// Counts one more in `bucket`'s window; returns the count with it.
async fn count(db: &Db, bucket: &str, window_start: i64) -> sqlx::Result<i64> {
    let key = ["bucket", "window_start"];
    dialect::count_up(
        db,
        "login_attempts",
        key,
        "attempts",
        &args![bucket, window_start],
    )
    .await
}

impl Budgets {
    /// `per_minute` attempts per e-mail and address; ten times that per address, and ten times
    /// that in failures per e-mail.
    pub fn new(per_minute: u32) -> Self {
        let n = i64::from(per_minute);
        Self {
            per_email_and_address: n,
            per_address: n * 10,
            failures_per_email: n * 10,
        }
    }

    /// Counts this attempt; `Err(seconds to wait)` when a budget is spent. `email_key` is the
    /// e-mail as the database matches it; `address` the client's budget key.
    pub async fn admit(
        &self,
        db: &Db,
        email_key: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> sqlx::Result<Result<(), u64>> {
        let (start, retry_after) = window(now);
        let by_address = count(db, &bucket("address", &[address]), start).await?;
        let by_pair = count(db, &bucket("email+address", &[email_key, address]), start).await?;
        const FAILURES: &str =
            "SELECT attempts FROM login_attempts WHERE bucket = ? AND window_start = ?";
        let failures: Option<(i64,)> = db
            .fetch_optional(
                FAILURES,
                &args![bucket("email failures", &[email_key]), start],
            )
            .await?;
        let spent = by_address > self.per_address
            || by_pair > self.per_email_and_address
            || failures.map_or(0, |f| f.0) >= self.failures_per_email;
        Ok(if spent { Err(retry_after) } else { Ok(()) })
    }

    /// Counts a failed log-in against the e-mail's budget across addresses.
    pub async fn failed(&self, db: &Db, email_key: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
        let (start, _) = window(now);
        count(db, &bucket("email failures", &[email_key]), start).await?;
        Ok(())
    }
}

/// Deletes windows that have ended; returns how many rows went.
pub async fn purge(db: &Db, now: DateTime<Utc>) -> sqlx::Result<u64> {
    let (start, _) = window(now);
    db.execute(
        "DELETE FROM login_attempts WHERE window_start < ?",
        &args![start],
    )
    .await
}

/// Purges ended windows every minute, for as long as the service runs.
pub async fn purge_periodically(db: Db, clock: b2b_platform::Clock) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = purge(&db, clock.now()).await {
            tracing::warn!(error = %e, "purging log-in windows failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_whole_minutes() {
        let t = |s: i64| DateTime::from_timestamp(s, 0).unwrap();
        assert_eq!(window(t(120)), (120, 60));
        assert_eq!(window(t(179)), (120, 1));
        assert_eq!(window(t(181)), (180, 59));
    }

    #[test]
    fn buckets_do_not_collide_across_budgets() {
        assert_ne!(bucket("address", &["a"]), bucket("email failures", &["a"]));
        assert_ne!(
            bucket("email+address", &["a", "b"]),
            bucket("email+address", &["a\nb"])
        );
        assert_eq!(bucket("address", &["a"]).len(), 64);
    }
}
