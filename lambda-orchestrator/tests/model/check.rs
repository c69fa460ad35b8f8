//! What is checked after every step: a linearization of the step's answers on the model that
//! ends where the database is, and invariants read from the database alone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::model::{Model, WINDOW_MINUTES, check_order_json, etag};
use crate::system::{Call, Observed, System};

/// A product as `GET /products/:id` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub price: i64,
    pub stock: i64,
    pub updated_at: Option<DateTime<Utc>>,
    pub etag: Option<String>,
}

/// A case's rows as the APIs show them.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub products: BTreeMap<i64, Shown>,
    /// id → the order as `GET /orders` shows it.
    pub orders: BTreeMap<i64, Value>,
}

impl Snapshot {
    pub async fn read(sys: &System, model: &Model) -> Self {
        let mut products = BTreeMap::new();
        for p in &model.products {
            let (v, etag) = sys.product(p.id).await;
            let num = |f: &str| v[f].as_i64().expect("a number");
            products.insert(
                p.id,
                Shown {
                    price: num("price_cents"),
                    stock: num("stock"),
                    updated_at: timestamp(&v["updated_at"]),
                    etag,
                },
            );
        }
        let mut orders = BTreeMap::new();
        for c in &model.customers {
            for o in sys.orders_of(c.id).await {
                orders.insert(o["id"].as_i64().expect("id"), o);
            }
        }
        Self { products, orders }
    }
}

/// Whether the model's state is the database's.
pub fn agrees(model: &Model, snap: &Snapshot) -> Result<(), String> {
    for p in &model.products {
        let want = Shown {
            price: p.price,
            stock: p.stock,
            updated_at: Some(p.updated_at),
            etag: Some(etag(p.version)),
        };
        let got = snap.products.get(&p.id);
        if got != Some(&want) {
            return Err(format!(
                "product {}: GET shows {got:?}, the model says {want:?}",
                p.id
            ));
        }
    }
    let known: BTreeSet<i64> = model.orders.iter().map(|o| o.id).collect();
    let stored: BTreeSet<i64> = snap.orders.keys().copied().collect();
    if known != stored {
        return Err(format!(
            "orders in the database {stored:?}, the model says {known:?}"
        ));
    }
    for o in &model.orders {
        check_order_json(&snap.orders[&o.id], o).map_err(|e| format!("in the database: {e}"))?;
    }
    Ok(())
}

fn timestamp(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Invariants of the database alone, and of its change since the previous step.
pub fn invariants(model: &Model, before: Option<&Snapshot>, now: &Snapshot) -> Result<(), String> {
    for (id, Shown { stock, .. }) in &now.products {
        if *stock < 0 {
            return Err(format!("product {id}: negative stock {stock}"));
        }
    }
    // Conservation: what was there at the start is on the shelf or in a live order.
    for p in model.products.iter().filter(|p| !p.written) {
        let held: i64 = now
            .orders
            .values()
            .filter(|o| o["status"] != "CANCELED")
            .flat_map(|o| o["items"].as_array().cloned().unwrap_or_default())
            .filter(|i| i["product_id"] == p.id)
            .map(|i| i["qty"].as_i64().unwrap_or(0))
            .sum();
        let stock = now.products[&p.id].stock;
        if p.initial != stock + held {
            return Err(format!(
                "product {}: stock not conserved: initial {} != stock {stock} + held by live orders {held}",
                p.id, p.initial
            ));
        }
    }
    let window = Duration::minutes(WINDOW_MINUTES);
    for (id, o) in &now.orders {
        if o["status"] == "CANCELED"
            && let (Some(confirmed), Some(canceled)) =
                (timestamp(&o["confirmed_at"]), timestamp(&o["canceled_at"]))
            && canceled > confirmed + window
        {
            return Err(format!(
                "order {id} cancelled {canceled} past its window (confirmed {confirmed})"
            ));
        }
        let Some(prev) = before.and_then(|b| b.orders.get(id)) else {
            continue;
        };
        let legal = matches!(
            (prev["status"].as_str(), o["status"].as_str()),
            (Some(a), Some(b)) if a == b
        ) || matches!(
            (prev["status"].as_str(), o["status"].as_str()),
            (Some("CREATED"), Some("CONFIRMED" | "CANCELED"))
                | (Some("CONFIRMED"), Some("CANCELED"))
        );
        if !legal {
            return Err(format!(
                "order {id}: illegal transition {} -> {}",
                prev["status"], o["status"]
            ));
        }
        if prev["status"] == "CANCELED" && prev != o {
            return Err(format!(
                "order {id} changed after it was cancelled: {prev} -> {o}"
            ));
        }
    }
    if let Some(b) = before
        && let Some(gone) = b.orders.keys().find(|id| !now.orders.contains_key(id))
    {
        return Err(format!("order {gone} disappeared"));
    }
    Ok(())
}

/// Whether another call of the batch uses the same key as call `i`.
fn contended(calls: &[Call], i: usize) -> bool {
    let Some(key) = calls[i].key() else {
        return false;
    };
    calls
        .iter()
        .enumerate()
        .any(|(j, c)| j != i && c.key() == Some(key))
}

/// Finds an order of the batch's calls that explains every answer on the model and ends in
/// the database's state; returns that state. `after[i]`: the call that call `i` was sent after
/// (the read before a conditional `PATCH`), which must come first.
pub fn linearize(
    model: &Model,
    calls: &[Call],
    after: &[Option<usize>],
    obs: &[Observed],
    snap: &Snapshot,
) -> Result<Model, String> {
    let mut best: (usize, String) = (0, String::new());
    let mut db_mismatch = None;
    let mut order = Vec::new();
    let batch = Batch { calls, after, obs };
    let found = search(model, &batch, snap, &mut order, &mut best, &mut db_mismatch);
    found.ok_or_else(|| match db_mismatch {
        Some(why) => format!("the answers fit the model but the database does not: {why}"),
        None if calls.len() == 1 => best.1,
        None => format!(
            "no order of the {} concurrent requests explains their answers; the best explains {} of them and then: {}",
            calls.len(),
            best.0,
            best.1
        ),
    })
}

/// The calls of a step, what each was sent after, and their answers.
struct Batch<'a> {
    calls: &'a [Call],
    after: &'a [Option<usize>],
    obs: &'a [Observed],
}

fn search(
    model: &Model,
    batch: &Batch<'_>,
    snap: &Snapshot,
    order: &mut Vec<usize>,
    best: &mut (usize, String),
    db_mismatch: &mut Option<String>,
) -> Option<Model> {
    let Batch { calls, after, obs } = *batch;
    if order.len() == calls.len() {
        return match agrees(model, snap) {
            Ok(()) => Some(model.clone()),
            Err(e) => {
                db_mismatch.get_or_insert(e);
                None
            }
        };
    }
    for i in 0..calls.len() {
        if order.contains(&i) || after[i].is_some_and(|a| !order.contains(&a)) {
            continue;
        }
        let mut next = model.clone();
        match next.apply(&calls[i], &obs[i], contended(calls, i)) {
            Ok(()) => {
                order.push(i);
                let found = search(&next, batch, snap, order, best, db_mismatch);
                order.pop();
                if found.is_some() {
                    return found;
                }
            }
            Err(e) => {
                if best.1.is_empty() || order.len() > best.0 {
                    *best = (order.len(), format!("request {i} ({:?}): {e}", calls[i]));
                }
            }
        }
    }
    None
}

/// Which calls of a batch must answer promptly while product `locked` is held by another
/// transaction: those whose rows are not behind that lock (transitively, through the rows and
/// the idempotency keys of the calls that wait on it: a key is claimed first, so a request with
/// the key of a waiting one waits for it too), and every keyed retry that already has an outcome.
pub fn must_be_prompt(model: &Model, calls: &[Call], locked: i64) -> Vec<bool> {
    let mut products: BTreeSet<i64> = BTreeSet::from([locked]);
    let mut orders: BTreeSet<i64> = BTreeSet::new();
    let mut keys: BTreeSet<&str> = BTreeSet::new();
    let mut blocked = vec![false; calls.len()];
    loop {
        let mut changed = false;
        for (i, call) in calls.iter().enumerate() {
            if blocked[i] || model.is_replay(call) {
                continue;
            }
            let rows = call.products(|o| model.order_products(o));
            let order = match call {
                Call::Cancel { order } | Call::Confirm { order, .. } => Some(*order),
                _ => None,
            };
            let key = match call {
                Call::Create { key, .. } => key.as_deref(),
                Call::Confirm { key, .. } | Call::Orchestrate { key, .. } => Some(key.as_str()),
                _ => None,
            };
            let waits = rows.iter().any(|p| products.contains(p))
                || order.is_some_and(|o| orders.contains(&o))
                || key.is_some_and(|k| keys.contains(k));
            if waits {
                blocked[i] = true;
                changed = true;
                products.extend(rows);
                orders.extend(order);
                keys.extend(key);
            }
        }
        if !changed {
            break;
        }
    }
    blocked.into_iter().map(|b| !b).collect()
}
