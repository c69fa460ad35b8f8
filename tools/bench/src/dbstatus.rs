//! The database server's own counters (`SHOW GLOBAL STATUS`): statements (`Questions`), commits
//! (`Com_commit`), pings (`Com_admin_commands`), prepares, log fsyncs. Deltas around a known
//! amount of work give its cost; the counters are global, so [`census`] takes the smallest of
//! several rounds (other clients of the server can only add to a delta).

use std::collections::BTreeMap;

use sqlx::{Connection, MySqlConnection, Row};

use crate::driver::{Worker, run_n};

pub const COUNTERS: [&str; 17] = [
    "Questions",
    "Com_commit",
    "Com_rollback",
    "Com_begin",
    "Com_admin_commands",
    "Com_stmt_prepare",
    "Com_stmt_execute",
    "Com_stmt_close",
    "Com_select",
    "Com_insert",
    "Com_update",
    "Com_delete",
    "Com_set_option",
    "Innodb_log_writes",
    "Innodb_data_fsyncs",
    "Innodb_buffer_pool_reads",
    "Innodb_buffer_pool_read_requests",
];

pub type Counters = BTreeMap<String, u64>;

/// A connection that reads the counters.
pub struct StatusReader(MySqlConnection);

impl StatusReader {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Ok(Self(MySqlConnection::connect(url).await?))
    }

    pub async fn read(&mut self) -> anyhow::Result<Counters> {
        let names: Vec<String> = COUNTERS.iter().map(|c| format!("'{c}'")).collect();
        let sql = format!(
            "SHOW GLOBAL STATUS WHERE Variable_name IN ({})",
            names.join(", ")
        );
        let rows = sqlx::raw_sql(&sql).fetch_all(&mut self.0).await?;
        let mut out = Counters::new();
        for row in rows {
            let name: String = row.try_get(0)?;
            let value: String = row.try_get(1)?;
            if let Ok(v) = value.parse() {
                out.insert(name, v);
            }
        }
        Ok(out)
    }

    /// Connections open on the server now.
    pub async fn threads_connected(&mut self) -> anyhow::Result<usize> {
        let row = sqlx::raw_sql("SHOW GLOBAL STATUS LIKE 'Threads_connected'")
            .fetch_one(&mut self.0)
            .await?;
        let value: String = row.try_get(1)?;
        Ok(value.parse()?)
    }

    /// Server variables, as text.
    pub async fn variables(&mut self, names: &[&str]) -> anyhow::Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for name in names {
            let row = sqlx::raw_sql(&format!("SELECT CAST(@@{name} AS CHAR)"))
                .fetch_one(&mut self.0)
                .await;
            if let Ok(row) = row {
                let v: Option<String> = row.try_get(0).unwrap_or(None);
                out.insert((*name).to_owned(), v.unwrap_or_default());
            }
        }
        Ok(out)
    }
}

pub fn delta(after: &Counters, before: &Counters) -> Counters {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v.saturating_sub(*before.get(k).unwrap_or(&0))))
        .collect()
}

/// Counters per request of `worker`: `rounds` rounds of `n` sequential requests, each counter's
/// smallest delta over the rounds, less what reading the counters itself costs, divided by `n`.
/// Also the number of requests that failed.
pub async fn census<W: Worker>(
    reader: &mut StatusReader,
    worker: &mut W,
    n: u64,
    rounds: usize,
) -> anyhow::Result<(BTreeMap<String, f64>, u64)> {
    let mut overhead: Option<Counters> = None;
    let mut least: Option<Counters> = None;
    let mut failed = 0;
    for _ in 0..rounds {
        let a = reader.read().await?;
        let b = reader.read().await?;
        let o = delta(&b, &a);
        overhead = Some(min_of(overhead, o));
        let before = reader.read().await?;
        failed += run_n(worker, n).await;
        let after = reader.read().await?;
        least = Some(min_of(least, delta(&after, &before)));
    }
    let overhead = overhead.unwrap_or_default();
    let least = least.unwrap_or_default();
    let per = least
        .iter()
        .map(|(k, v)| {
            let o = overhead.get(k).copied().unwrap_or(0);
            (k.clone(), v.saturating_sub(o) as f64 / n.max(1) as f64)
        })
        .collect();
    Ok((per, failed))
}

fn min_of(acc: Option<Counters>, next: Counters) -> Counters {
    match acc {
        None => next,
        Some(acc) => acc
            .into_iter()
            .map(|(k, v)| {
                let w = next.get(&k).copied().unwrap_or(v);
                (k, v.min(w))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_and_minimums() {
        let a: Counters = [("Questions".to_owned(), 10), ("Com_commit".to_owned(), 5)].into();
        let b: Counters = [("Questions".to_owned(), 17), ("Com_commit".to_owned(), 5)].into();
        let d = delta(&b, &a);
        assert_eq!(d["Questions"], 7);
        assert_eq!(d["Com_commit"], 0);
        let m = min_of(
            Some(d),
            [("Questions".to_owned(), 3), ("Com_commit".to_owned(), 9)].into(),
        );
        assert_eq!((m["Questions"], m["Com_commit"]), (3, 0));
    }
}
