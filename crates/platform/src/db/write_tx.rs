//! Write transactions: all or nothing, retried when they lose a conflict with another one.

use std::time::Duration;

use tracing::Instrument;

use super::{Db, Tx, dialect};

/// An error a write transaction can end with, which says whether it is a database error (a
/// transient one is retried) or the caller's own refusal.
pub trait DbFailure: From<sqlx::Error> {
    fn database(&self) -> Option<&sqlx::Error>;
}

impl DbFailure for sqlx::Error {
    fn database(&self) -> Option<&sqlx::Error> {
        Some(self)
    }
}

impl Db {
    /// Runs `work` in one write transaction and commits it; an error rolls it back. A deadlock
    /// or lock-wait time-out (the commit's included) rolls back and runs `work` again, `tries`
    /// times in all at most, after a short randomised back-off; the last error is returned.
    ///
    /// `work` takes the transaction and hands it back with its value: a future that borrowed it
    /// would have a higher-ranked lifetime, which the compiler cannot yet prove `Send`.
    pub async fn write_tx<T, E, Fut>(
        &self,
        tries: u32,
        mut work: impl FnMut(Tx) -> Fut,
    ) -> Result<T, E>
    where
        E: DbFailure,
        Fut: Future<Output = Result<(Tx, T), E>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = async {
                let tx = dialect::begin_write(self).await?;
                let (tx, value) = work(tx).await?;
                tx.commit().await?;
                Ok(value)
            }
            // One span per attempt: with OTLP export on, the transaction shows in the trace.
            .instrument(tracing::info_span!("db transaction", attempt))
            .await;
            let Err(e) = &outcome else { return outcome };
            match e.database() {
                Some(db) if attempt < tries && dialect::is_transient(db) => {
                    tracing::info!(attempt, error = %db, "transaction conflict, retrying");
                    let base = 10u64 << attempt;
                    let jitter = rand::random_range(0..base);
                    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
                }
                _ => return outcome,
            }
        }
    }
}
