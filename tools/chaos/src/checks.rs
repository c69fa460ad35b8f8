//! The invariants, checked in the database after the load against what every client was told.
//! Each check passes, fails, or is skipped (with the reason); details name the offending rows.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use b2b_platform::Db;
use serde_json::Value;

use crate::faults::FaultReport;
use crate::load::{Expect, KeyOutcome, LoadResult};

/// The outcome of one invariant.
pub struct Check {
    pub name: &'static str,
    /// `None`: skipped.
    pub pass: Option<bool>,
    pub detail: String,
    /// The offending rows, or the explanations.
    pub notes: Vec<String>,
}

impl Check {
    fn new(name: &'static str, notes: Vec<String>, detail: String) -> Self {
        Self {
            name,
            pass: Some(notes.is_empty()),
            detail,
            notes,
        }
    }
}

/// What the database holds after the run.
struct State {
    stock: BTreeMap<i64, i64>,
    /// Quantity held per product by orders not canceled.
    held: HashMap<i64, i64>,
    /// Order id → (status, total_cents).
    orders: BTreeMap<i64, (String, i64)>,
    /// Order id → (sum of subtotals, lines whose subtotal ≠ qty × unit price).
    lines: HashMap<i64, (i64, i64)>,
    /// `(scope, key)` → (response status, response body).
    keys: BTreeMap<(String, String), (Option<i32>, Option<String>)>,
}

async fn read_state(db: &Db) -> anyhow::Result<State> {
    let stock = db
        .fetch_all::<(i64, i64)>("SELECT id, stock FROM products", &[])
        .await?;
    let held = db
        .fetch_all::<(i64, i64)>(
            "SELECT i.product_id, CAST(SUM(i.qty) AS SIGNED) FROM order_items i \
             JOIN orders o ON o.id = i.order_id WHERE o.status <> 'CANCELED' GROUP BY i.product_id",
            &[],
        )
        .await?;
    let orders = db
        .fetch_all::<(i64, String, i64)>("SELECT id, status, total_cents FROM orders", &[])
        .await?;
    let lines = db
        .fetch_all::<(i64, i64, i64)>(
            "SELECT order_id, CAST(SUM(subtotal_cents) AS SIGNED), \
             CAST(SUM(CASE WHEN subtotal_cents = qty * unit_price_cents THEN 0 ELSE 1 END) AS SIGNED) \
             FROM order_items GROUP BY order_id",
            &[],
        )
        .await?;
    let keys = db
        .fetch_all::<(String, String, Option<i32>, Option<String>)>(
            "SELECT scope, CONVERT(`key` USING utf8mb4), response_status, response_body FROM idempotency_keys",
            &[],
        )
        .await?;
    Ok(State {
        stock: stock.into_iter().collect(),
        held: held.into_iter().collect(),
        orders: orders.into_iter().map(|(id, s, t)| (id, (s, t))).collect(),
        lines: lines
            .into_iter()
            .map(|(id, sum, bad)| (id, (sum, bad)))
            .collect(),
        keys: keys
            .into_iter()
            .map(|(scope, key, st, body)| ((scope, key), (st, body)))
            .collect(),
    })
}

/// `key: 0.4s 503 … → 2.1s 201 CONFIRMED`: every try of a key and when it ended.
pub fn history(o: &KeyOutcome) -> String {
    let tries: Vec<String> = o
        .tries
        .iter()
        .map(|t| format!("{:.1}s {}", t.at_secs, t.answer.label()))
        .collect();
    format!("{}: {}", o.plan.key, tries.join(" → "))
}

/// Every invariant; `min_stock_seen` is the lowest stock sampled during the run.
pub async fn run(
    db: &Db,
    initial: &[(i64, i64)],
    load: &LoadResult,
    faults: &FaultReport,
    min_stock_seen: Option<i64>,
    server_errors: &[(String, BTreeMap<u16, u64>)],
) -> anyhow::Result<Vec<Check>> {
    let st = read_state(db).await?;
    let outcomes: HashMap<&str, &KeyOutcome> = load
        .outcomes
        .iter()
        .map(|o| (o.plan.key.as_str(), o))
        .collect();
    let mut checks = Vec::new();

    // Stock.
    let negative: Vec<String> = st
        .stock
        .iter()
        .filter(|(_, s)| **s < 0)
        .map(|(id, s)| format!("product {id}: stock {s}"))
        .collect();
    let mut notes = negative;
    if let Some(m) = min_stock_seen.filter(|m| *m < 0) {
        notes.push(format!("a sample during the run saw stock {m}"));
    }
    checks.push(Check::new(
        "stock never negative",
        notes,
        format!(
            "final minimum {}, lowest sampled during the run {}",
            st.stock.values().min().copied().unwrap_or_default(),
            min_stock_seen.map_or("n/a".to_owned(), |m| m.to_string())
        ),
    ));
    let notes: Vec<String> = initial
        .iter()
        .filter_map(|&(id, init)| {
            let now = st.stock.get(&id).copied().unwrap_or_default();
            let held = st.held.get(&id).copied().unwrap_or_default();
            (init != now + held)
                .then(|| format!("product {id}: initial {init} ≠ stock {now} + held {held}"))
        })
        .collect();
    checks.push(Check::new(
        "initial stock = stock + qty of non-canceled order lines",
        notes,
        format!("{} products", initial.len()),
    ));

    // One order per key.
    let mut create: HashMap<&str, i64> = HashMap::new();
    let mut notes = Vec::new();
    let mut referenced: HashMap<i64, Vec<&str>> = HashMap::new();
    let mut confirm_rows = 0;
    for ((scope, key), (status, body)) in &st.keys {
        let id = body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
            .and_then(|v| v["id"].as_i64());
        match (scope.as_str(), status, id) {
            ("orders.create", Some(201), Some(id)) => {
                create.insert(key.as_str(), id);
                referenced.entry(id).or_default().push(key.as_str());
            }
            ("orders.confirm", Some(200), Some(_)) => confirm_rows += 1,
            _ => notes.push(format!("key {scope}/{key}: no stored outcome ({status:?})")),
        }
    }
    for (id, keys) in &referenced {
        if keys.len() > 1 {
            notes.push(format!("order {id} is the outcome of keys {keys:?}"));
        }
        if !st.orders.contains_key(id) {
            notes.push(format!("order {id} of key {keys:?} does not exist"));
        }
    }
    for id in st.orders.keys() {
        if !referenced.contains_key(id) {
            notes.push(format!("order {id} was made by no idempotency key"));
        }
    }
    checks.push(Check::new(
        "at most one order per idempotency key (create keys ↔ orders 1:1)",
        notes,
        format!("{} create keys, {} orders", create.len(), st.orders.len()),
    ));
    let mut notes = Vec::new();
    for ((scope, key), (_, body)) in &st.keys {
        if scope != "orders.confirm" {
            continue;
        }
        let v: Value = body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or_default();
        let id = v["id"].as_i64();
        if id.is_none() || id != create.get(key.as_str()).copied() {
            notes.push(format!(
                "confirm key {key} confirmed order {id:?}, its create made {:?}",
                create.get(key.as_str())
            ));
        }
    }
    checks.push(Check::new(
        "each confirm key confirmed the order of its own create key",
        notes,
        format!("{confirm_rows} confirm keys"),
    ));

    // What the clients were told.
    let status_of = |id: i64| st.orders.get(&id).map(|(s, _)| s.as_str());
    let (mut told_ok, mut notes) = (0, Vec::new());
    for o in &load.outcomes {
        if let Some(id) = o.last().confirmed() {
            told_ok += 1;
            let key_order = create.get(o.plan.key.as_str()).copied();
            if status_of(id) != Some("CONFIRMED") || key_order != Some(id) {
                notes.push(format!(
                    "{} was told order {id} CONFIRMED; the database says {:?}, the key's order is {key_order:?}",
                    o.plan.key,
                    status_of(id)
                ));
            }
        }
    }
    checks.push(Check::new(
        "every order a client was told CONFIRMED is CONFIRMED",
        notes,
        format!("{told_ok} orders"),
    ));
    let (mut told_state, mut notes) = (0, Vec::new());
    for o in &load.outcomes {
        let last = o.last();
        let said = match (last.compensated(), last.state()) {
            (Some(true), _) => "CANCELED",
            (_, Some(state)) => state,
            _ => continue,
        };
        told_state += 1;
        let id = last.order_id();
        if id.and_then(status_of) != Some(said) {
            notes.push(format!(
                "{} was told order {id:?} is {said}; the database says {:?}",
                o.plan.key,
                id.and_then(status_of)
            ));
        }
    }
    checks.push(Check::new(
        "every order a client was told compensated (or in a state) is so",
        notes,
        format!("{told_state} orders"),
    ));
    let (mut told_no, mut notes) = (0, Vec::new());
    for o in &load.outcomes {
        let last = o.last();
        let code = last.code();
        let nothing_made = matches!(
            code,
            "INSUFFICIENT_STOCK" | "CUSTOMER_NOT_FOUND" | "PRODUCT_NOT_FOUND"
        );
        if nothing_made {
            told_no += 1;
            if let Some(id) = create.get(o.plan.key.as_str()) {
                notes.push(format!(
                    "{} was told {code} but order {id} exists ({:?}); {}",
                    o.plan.key,
                    status_of(*id),
                    history(o)
                ));
            }
        }
    }
    checks.push(Check::new(
        "a key answered 404 / INSUFFICIENT_STOCK made no order",
        notes,
        format!("{told_no} keys"),
    ));

    // CREATED orders: each must be explained by a compensation reported as failed.
    let key_of: HashMap<i64, &str> = create.iter().map(|(k, id)| (*id, *k)).collect();
    let mut created = 0;
    let mut notes = Vec::new();
    let mut explained = Vec::new();
    for (id, (status, _)) in &st.orders {
        if status != "CREATED" {
            continue;
        }
        created += 1;
        let outcome = key_of.get(id).and_then(|k| outcomes.get(k));
        match outcome {
            Some(o)
                if o.last().compensated() == Some(false) && o.last().order_id() == Some(*id) =>
            {
                explained.push(format!(
                    "order {id}: its compensation was reported as failed; {}",
                    history(o)
                ));
            }
            Some(o) => notes.push(format!("order {id} left CREATED; {}", history(o))),
            None => notes.push(format!("order {id} left CREATED by no known key")),
        }
    }
    let mut check = Check::new(
        "no order left CREATED unless its compensation was reported failed",
        notes,
        format!("{created} CREATED orders, {} explained", explained.len()),
    );
    check.notes.extend(explained);
    checks.push(check);

    // Every key settled, on the answer its plan expects.
    let mut notes = Vec::new();
    for o in &load.outcomes {
        let last = o.last();
        let expected = match o.plan.expect {
            Expect::CustomerNotFound => last.code() == "CUSTOMER_NOT_FOUND",
            Expect::ProductNotFound => last.code() == "PRODUCT_NOT_FOUND",
            Expect::Order => {
                last.confirmed().is_some()
                    || last.code() == "INSUFFICIENT_STOCK"
                    || (last.code() == "CONFLICT" && last.definitive())
                    || last.compensated() == Some(true)
            }
        };
        if !last.definitive() || !expected {
            notes.push(history(o));
        }
    }
    checks.push(Check::new(
        "every orchestration got a definitive, expected answer",
        notes,
        format!("{} orchestrations", load.outcomes.len()),
    ));
    let probes: Vec<&KeyOutcome> = load
        .outcomes
        .iter()
        .filter(|o| !o.probe.is_empty())
        .collect();
    let notes: Vec<String> = probes
        .iter()
        .filter(|o| {
            o.probe
                .last()
                .is_none_or(|t| t.answer.code() != "IDEMPOTENCY_KEY_REUSED")
        })
        .map(|o| {
            format!(
                "{}: reuse answered {}",
                o.plan.key,
                o.probe.last().map(|t| t.answer.label()).unwrap_or_default()
            )
        })
        .collect();
    checks.push(Check::new(
        "a key reused with other items is refused (422)",
        notes,
        format!("{} probes", probes.len()),
    ));
    let tally = load.tally.by_answer.lock().expect("tally");
    let mut notes: Vec<String> = tally
        .iter()
        .filter(|(label, _)| label.starts_with("500") || label.contains("upstream 500"))
        .map(|(label, n)| format!("{n} × {label} at the orchestrator's clients"))
        .collect();
    for (service, failures) in server_errors {
        if let Some(n) = failures.get(&500) {
            notes.push(format!("{service} answered 500 {n} times (see its log)"));
        }
    }
    checks.push(Check::new(
        "no 500 from any part (a 500 is a bug)",
        notes,
        format!(
            "{} answers to the clients, and every request in the services' logs",
            tally.values().sum::<u64>()
        ),
    ));
    drop(tally);

    let mut notes = Vec::new();
    for (id, (_, total)) in &st.orders {
        match st.lines.get(id) {
            Some((sum, 0)) if sum == total => {}
            other => notes.push(format!("order {id}: total {total}, lines {other:?}")),
        }
    }
    checks.push(Check::new(
        "order totals = sum of lines, subtotal = qty × unit price",
        notes,
        format!("{} orders", st.orders.len()),
    ));

    checks.push(match &faults.db_restart {
        None => Check {
            name: "APIs answer 503 while MariaDB is down, then recover by themselves",
            pass: None,
            detail: "skipped: the MariaDB restart did not run".to_owned(),
            notes: Vec::new(),
        },
        Some(r) => {
            let mut notes = Vec::new();
            for (name, secs) in &r.saw_503 {
                if secs.is_none() {
                    notes.push(format!("{name}: /health never answered 503"));
                }
            }
            for (name, secs) in &r.back_200 {
                if secs.is_none() {
                    notes.push(format!("{name}: /health not back to 200 within 30 s"));
                }
            }
            Check::new(
                "APIs answer 503 while MariaDB is down, then recover by themselves",
                notes,
                format!(
                    "down {:.1}s; 503 seen on {}, 200 again on {}",
                    r.down_secs,
                    r.saw_503.iter().filter(|(_, s)| s.is_some()).count(),
                    r.back_200.iter().filter(|(_, s)| s.is_some()).count()
                ),
            )
        }
    });
    Ok(checks)
}

/// Per service log in `dir`: how many requests it answered with each 5xx status.
pub fn server_errors(dir: &Path) -> anyhow::Result<Vec<(String, BTreeMap<u16, u64>)>> {
    let mut out = Vec::new();
    let mut logs: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    for log in logs {
        let mut counts = BTreeMap::new();
        for line in std::fs::read_to_string(&log)?.lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if v["message"] == "request failed" {
                let status = v["status"].as_u64().and_then(|s| u16::try_from(s).ok());
                *counts.entry(status.unwrap_or(0)).or_default() += 1;
            }
        }
        let name = log.file_stem().unwrap_or_default().to_string_lossy();
        out.push((name.into_owned(), counts));
    }
    Ok(out)
}

/// Keys grouped by what they were finally told.
pub fn final_answers(load: &LoadResult) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for o in &load.outcomes {
        *out.entry(o.last().label()).or_default() += 1;
    }
    out
}

/// How many keys needed more than one try, and the most tries one key took.
pub fn retried(load: &LoadResult) -> (usize, usize) {
    let retried = load.outcomes.iter().filter(|o| o.tries.len() > 1).count();
    let most = load
        .outcomes
        .iter()
        .map(|o| o.tries.len())
        .max()
        .unwrap_or(0);
    (retried, most)
}
