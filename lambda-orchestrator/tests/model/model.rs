//! The reference model: what the system holds for one case, and for each call the answer it
//! must give (SPEC §5–§7, §11) and the effect it has. `apply` checks one observed answer
//! against the prediction and, when it fits, applies the effect it implies.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::system::{Call, Observed, Precondition};

pub const WINDOW_MINUTES: i64 = 10;
/// SUITE.md: a key that took effect answers the same envelope even after an operator cancelled
/// its order. (The code before issue 11 answered 409 `CONFLICT` there.)
pub const ENVELOPE_SURVIVES_CANCEL: bool = true;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: i64,
    pub price: i64,
    pub stock: i64,
    pub initial: i64,
    /// Its stock was written absolutely (conservation no longer holds from `initial`).
    pub written: bool,
    /// What its `ETag` names: one more for every write of its row (a `PATCH`, an order taking
    /// its stock, a cancel giving it back), never for a refusal.
    pub version: i64,
    /// The orders-api clock at its last write.
    pub updated_at: DateTime<Utc>,
}

impl Product {
    /// A product as `POST /products` made it now.
    pub fn new(id: i64, price: i64, stock: i64, now: DateTime<Utc>) -> Self {
        Self {
            id,
            price,
            stock,
            initial: stock,
            written: false,
            version: 1,
            updated_at: now,
        }
    }

    fn write(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }
}

/// The strong entity tag of a product version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Whether `If-Match: value` lets a write of a product at `version` through (RFC 9110
/// §13.1.1: `*`, or a strong tag equal to the current one; a weak tag never matches).
fn precondition_holds(value: &str, version: i64) -> bool {
    let current = etag(version);
    value.trim() == "*" || value.split(',').map(str::trim).any(|t| t == current)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: i64,
    /// `{id, name, email, phone}`, as the orchestrator reports it.
    pub summary: Value,
    pub deleted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub product: i64,
    pub qty: i64,
    pub unit: i64,
    pub subtotal: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: i64,
    pub customer: i64,
    pub status: &'static str,
    pub items: Vec<Item>,
    pub total: i64,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub canceled_at: Option<DateTime<Utc>>,
}

/// What a request means: its customer and its lines as a set.
pub type Meaning = (i64, BTreeMap<i64, i64>);

pub fn meaning(customer: i64, lines: &[(i64, i64)]) -> Meaning {
    (customer, lines.iter().copied().collect())
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredCreate {
    pub meaning: Meaning,
    /// The lines as the request that took effect sent them.
    pub lines: Vec<(i64, i64)>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredConfirm {
    pub order: i64,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredOrchestration {
    pub meaning: Meaning,
    pub lines: Vec<(i64, i64)>,
    /// The first success envelope without its `correlationId`.
    pub envelope: Value,
    pub order: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub now: DateTime<Utc>,
    pub products: Vec<Product>,
    pub customers: Vec<Customer>,
    /// In the order they were made.
    pub orders: Vec<Order>,
    pub create_keys: BTreeMap<String, StoredCreate>,
    pub confirm_keys: BTreeMap<String, StoredConfirm>,
    pub orchestrations: BTreeMap<String, StoredOrchestration>,
    /// Documented 503s seen (no effect).
    pub unavailable: u32,
}

type Check = Result<(), String>;

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Check {
    if ok { Ok(()) } else { Err(what()) }
}

fn timestamp(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// An orders-api order body against the model's order.
pub fn check_order_json(json: &Value, o: &Order) -> Check {
    let items: Vec<Value> = o
        .items
        .iter()
        .map(|i| {
            json!({"product_id": i.product, "qty": i.qty, "unit_price_cents": i.unit,
                   "subtotal_cents": i.subtotal})
        })
        .collect();
    let fields = [
        ("id", json!(o.id), json["id"].clone()),
        (
            "customer_id",
            json!(o.customer),
            json["customer_id"].clone(),
        ),
        ("status", json!(o.status), json["status"].clone()),
        ("total_cents", json!(o.total), json["total_cents"].clone()),
        ("items", json!(items), json["items"].clone()),
    ];
    for (name, want, got) in fields {
        ensure(want == got, || {
            format!("order {}: {name} is {got}, the model says {want}", o.id)
        })?;
    }
    let times = [
        ("created_at", Some(o.created_at)),
        ("confirmed_at", o.confirmed_at),
        ("canceled_at", o.canceled_at),
    ];
    for (name, want) in times {
        let got = timestamp(&json[name]);
        ensure(got == want, || {
            format!(
                "order {}: {name} is {}, the model says {want:?}",
                o.id, json[name]
            )
        })?;
    }
    Ok(())
}

/// A product answer (`GET`, `PATCH` 200) against the model's product: its fields, and an
/// `ETag` naming exactly the model's version.
pub fn check_product_answer(obs: &Observed, p: &Product) -> Check {
    ensure(obs.status == 200 && !obs.replayed, || {
        format!(
            "product {}: expected 200, got {} {}",
            p.id, obs.status, obs.text
        )
    })?;
    let want = (
        json!(p.id),
        json!(p.price),
        json!(p.stock),
        Some(p.updated_at),
    );
    let got = (
        obs.json["id"].clone(),
        obs.json["price_cents"].clone(),
        obs.json["stock"].clone(),
        timestamp(&obs.json["updated_at"]),
    );
    ensure(got == want, || {
        format!(
            "product {}: (id, price, stock, updated_at) is {got:?}, the model says {want:?}",
            p.id
        )
    })?;
    let tag = etag(p.version);
    ensure(obs.etag.as_deref() == Some(tag.as_str()), || {
        format!(
            "product {}: ETag {:?}, the model says {tag} (price {}, stock {})",
            p.id, obs.etag, p.price, p.stock
        )
    })
}

/// The orchestrator's summary of a confirmed order.
fn order_summary(o: &Order) -> Value {
    let items: Vec<Value> = o
        .items
        .iter()
        .map(|i| {
            json!({"product_id": i.product, "qty": i.qty, "unit_price_cents": i.unit,
                   "subtotal_cents": i.subtotal})
        })
        .collect();
    json!({"id": o.id, "status": o.status, "total_cents": o.total, "items": items})
}

fn problem(obs: &Observed, status: u16, code: &str) -> Check {
    ensure(obs.status == status && obs.code() == code, || {
        format!("expected {status} {code}, got {} {}", obs.status, obs.text)
    })?;
    ensure(!obs.replayed, || {
        format!("a {status} marked Idempotent-Replayed")
    })
}

fn product_ids(v: Option<&Value>) -> Value {
    v.cloned().unwrap_or(Value::Null)
}

/// An orchestrator failure envelope.
fn envelope_failure(obs: &Observed, status: u16, code: &str) -> Check {
    ensure(
        obs.status == status && obs.json["success"] == false && obs.code() == code,
        || {
            format!(
                "expected envelope {status} {code}, got {} {}",
                obs.status, obs.text
            )
        },
    )
}

/// An envelope without its `correlationId`, which each call chooses.
pub fn without_correlation(envelope: &Value) -> Value {
    let mut e = envelope.clone();
    if let Some(m) = e.as_object_mut() {
        m.remove("correlationId");
    }
    e
}

/// Why a replay does not match the stored outcome, if it does not.
fn replay(obs: &Observed, status: u16, body: &str) -> Check {
    ensure(obs.status == status && obs.text == body, || {
        format!(
            "expected the stored {status} {body} replayed, got {} {}",
            obs.status, obs.text
        )
    })?;
    ensure(obs.replayed, || {
        "a replay without Idempotent-Replayed: true".to_owned()
    })
}

impl Model {
    pub fn new(now: DateTime<Utc>, products: Vec<Product>, customers: Vec<Customer>) -> Self {
        Self {
            now,
            products,
            customers,
            orders: Vec::new(),
            create_keys: BTreeMap::new(),
            confirm_keys: BTreeMap::new(),
            orchestrations: BTreeMap::new(),
            unavailable: 0,
        }
    }

    pub fn order(&self, id: i64) -> Option<&Order> {
        self.orders.iter().find(|o| o.id == id)
    }

    fn order_mut(&mut self, id: i64) -> Option<&mut Order> {
        self.orders.iter_mut().find(|o| o.id == id)
    }

    fn product_mut(&mut self, id: i64) -> Option<&mut Product> {
        self.products.iter_mut().find(|p| p.id == id)
    }

    pub fn product(&self, id: i64) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }

    fn customer(&self, id: i64) -> Option<&Customer> {
        self.customers.iter().find(|c| c.id == id)
    }

    /// The products of order `id` (none for an unknown one).
    pub fn order_products(&self, id: i64) -> Vec<i64> {
        self.order(id)
            .map(|o| o.items.iter().map(|i| i.product).collect())
            .unwrap_or_default()
    }

    /// A key that already has an outcome for this very request: it must be answered by that
    /// outcome (and promptly).
    pub fn is_replay(&self, call: &Call) -> bool {
        match call {
            Call::Create {
                customer,
                lines,
                key: Some(k),
            } => self
                .create_keys
                .get(k)
                .is_some_and(|s| s.meaning == meaning(*customer, lines)),
            Call::Orchestrate {
                customer,
                lines,
                key,
            } => self
                .orchestrations
                .get(key)
                .is_some_and(|s| s.meaning == meaning(*customer, lines)),
            Call::Confirm { order, key } => self
                .confirm_keys
                .get(key)
                .is_some_and(|s| s.order == *order),
            _ => false,
        }
    }

    /// Why the stock cannot serve `lines`: the products missing, else the products short.
    fn refusal(&self, customer: i64, lines: &[(i64, i64)]) -> Option<(u16, &'static str, Value)> {
        if self.customer(customer).is_none_or(|c| c.deleted) {
            return Some((404, "CUSTOMER_NOT_FOUND", Value::Null));
        }
        let mut sorted = lines.to_vec();
        sorted.sort_unstable();
        let find = |id: i64| self.products.iter().find(|p| p.id == id);
        let missing: Vec<i64> = sorted
            .iter()
            .filter(|l| find(l.0).is_none())
            .map(|l| l.0)
            .collect();
        if !missing.is_empty() {
            return Some((404, "PRODUCT_NOT_FOUND", json!(missing)));
        }
        let short: Vec<i64> = sorted
            .iter()
            .filter(|l| find(l.0).is_some_and(|p| p.stock < l.1))
            .map(|l| l.0)
            .collect();
        (!short.is_empty()).then(|| (409, "INSUFFICIENT_STOCK", json!(short)))
    }

    /// The order `lines` would make now (stock not yet taken).
    fn new_order(
        &self,
        id: i64,
        customer: i64,
        lines: &[(i64, i64)],
        status: &'static str,
    ) -> Order {
        let mut sorted = lines.to_vec();
        sorted.sort_unstable();
        let items: Vec<Item> = sorted
            .iter()
            .map(|&(product, qty)| {
                let unit = self
                    .products
                    .iter()
                    .find(|p| p.id == product)
                    .map_or(0, |p| p.price);
                Item {
                    product,
                    qty,
                    unit,
                    subtotal: unit * qty,
                }
            })
            .collect();
        Order {
            id,
            customer,
            status,
            total: items.iter().map(|i| i.subtotal).sum(),
            items,
            created_at: self.now,
            confirmed_at: (status == "CONFIRMED").then_some(self.now),
            canceled_at: None,
        }
    }

    fn take_stock(&mut self, lines: &[(i64, i64)]) {
        let now = self.now;
        for &(product, qty) in lines {
            if let Some(p) = self.product_mut(product) {
                p.stock -= qty;
                p.write(now);
            }
        }
    }

    fn fresh_id(&self, obs: &Observed, pointer: &str) -> Result<i64, String> {
        let id = obs
            .json
            .pointer(pointer)
            .and_then(Value::as_i64)
            .ok_or_else(|| format!("no order id in {}", obs.text))?;
        if self.order(id).is_some() {
            return Err(format!("order id {id} handed out twice"));
        }
        Ok(id)
    }

    /// Checks `obs` as the answer to `call` in this state and applies its effect.
    /// `contended`: another request of the same batch uses the same key, so an in-flight
    /// answer (no effect) is allowed.
    pub fn apply(&mut self, call: &Call, obs: &Observed, contended: bool) -> Check {
        if contended && obs.status == 409 {
            let in_flight = match call {
                Call::Orchestrate { .. } => obs.code() == "CONFLICT",
                _ => obs.code() == "IDEMPOTENCY_KEY_IN_FLIGHT" && obs.retry_after,
            };
            if in_flight {
                return Ok(());
            }
        }
        // A documented 503 (the database busy past its retries): nothing happened. Never for
        // a key that already has an outcome.
        let direct = !matches!(call, Call::Orchestrate { .. });
        if direct
            && obs.status == 503
            && obs.code() == "SERVICE_UNAVAILABLE"
            && !self.is_replay(call)
        {
            self.unavailable += 1;
            return Ok(());
        }
        match call {
            Call::Create {
                customer,
                lines,
                key,
            } => self.create(*customer, lines, key.as_deref(), obs),
            Call::Confirm { order, key } => self.confirm(*order, key, obs),
            Call::Cancel { order } => self.cancel(*order, obs),
            Call::Orchestrate {
                customer,
                lines,
                key,
            } => self.orchestrate(*customer, lines, key, obs),
            Call::DeleteCustomer { customer } => {
                let c = self
                    .customers
                    .iter_mut()
                    .find(|c| c.id == *customer)
                    .expect("a case's customer");
                if c.deleted {
                    problem(obs, 404, "CUSTOMER_NOT_FOUND")
                } else {
                    ensure(obs.status == 204, || {
                        format!("expected 204, got {} {}", obs.status, obs.text)
                    })?;
                    c.deleted = true;
                    Ok(())
                }
            }
            Call::Read { product } => {
                check_product_answer(obs, self.product(*product).expect("a case's product"))
            }
            Call::Patch {
                product,
                price,
                stock,
                if_match,
            } => {
                let now = self.now;
                let p = self.product_mut(*product).expect("a case's product");
                let applies = match if_match {
                    None => true,
                    Some(Precondition::Sent(v)) => precondition_holds(v, p.version),
                    Some(Precondition::OfTheRead) => {
                        return Err("a PATCH with an unresolved If-Match".to_owned());
                    }
                };
                if !applies {
                    // Nothing is written: the snapshot after the step proves it.
                    return problem(obs, 412, "PRECONDITION_FAILED");
                }
                if let Some(v) = price {
                    p.price = *v;
                }
                if let Some(v) = stock {
                    p.stock = *v;
                    p.written = true;
                }
                p.write(now);
                check_product_answer(obs, p)
            }
        }
    }

    fn create(
        &mut self,
        customer: i64,
        lines: &[(i64, i64)],
        key: Option<&str>,
        obs: &Observed,
    ) -> Check {
        if let Some(stored) = key.and_then(|k| self.create_keys.get(k)) {
            return if stored.meaning == meaning(customer, lines) {
                replay(obs, 201, &stored.body)
            } else {
                problem(obs, 422, "IDEMPOTENCY_KEY_REUSED")
            };
        }
        if let Some((status, code, ids)) = self.refusal(customer, lines) {
            problem(obs, status, code)?;
            return ensure(ids.is_null() || obs.json["product_ids"] == ids, || {
                format!("expected product_ids {ids}, got {}", obs.text)
            });
        }
        ensure(obs.status == 201 && !obs.replayed, || {
            format!(
                "expected a new order (201), got {} {}",
                obs.status, obs.text
            )
        })?;
        let id = self.fresh_id(obs, "/id")?;
        let order = self.new_order(id, customer, lines, "CREATED");
        check_order_json(&obs.json, &order)?;
        self.take_stock(lines);
        self.orders.push(order);
        if let Some(k) = key {
            self.create_keys.insert(
                k.to_owned(),
                StoredCreate {
                    meaning: meaning(customer, lines),
                    lines: lines.to_vec(),
                    body: obs.text.clone(),
                },
            );
        }
        Ok(())
    }

    fn confirm(&mut self, id: i64, key: &str, obs: &Observed) -> Check {
        if let Some(stored) = self.confirm_keys.get(key) {
            return if stored.order == id {
                replay(obs, 200, &stored.body)
            } else {
                problem(obs, 422, "IDEMPOTENCY_KEY_REUSED")
            };
        }
        let now = self.now;
        let Some(order) = self.order_mut(id) else {
            return problem(obs, 404, "ORDER_NOT_FOUND");
        };
        match order.status {
            "CANCELED" => return problem(obs, 409, "ORDER_NOT_CONFIRMABLE"),
            "CREATED" => {
                order.status = "CONFIRMED";
                order.confirmed_at = Some(now);
            }
            _ => {}
        }
        ensure(obs.status == 200 && !obs.replayed, || {
            format!("expected 200 CONFIRMED, got {} {}", obs.status, obs.text)
        })?;
        check_order_json(&obs.json, order)?;
        self.confirm_keys.insert(
            key.to_owned(),
            StoredConfirm {
                order: id,
                body: obs.text.clone(),
            },
        );
        Ok(())
    }

    fn cancel(&mut self, id: i64, obs: &Observed) -> Check {
        let now = self.now;
        let window = Duration::minutes(WINDOW_MINUTES);
        let Some(order) = self.order_mut(id) else {
            return problem(obs, 404, "ORDER_NOT_FOUND");
        };
        let restore = match (order.status, order.confirmed_at) {
            ("CANCELED", _) => false,
            ("CONFIRMED", Some(at)) if now > at + window => {
                return problem(obs, 409, "CANCELLATION_WINDOW_CLOSED");
            }
            _ => {
                order.status = "CANCELED";
                order.canceled_at = Some(now);
                true
            }
        };
        ensure(obs.status == 200, || {
            format!("expected 200 CANCELED, got {} {}", obs.status, obs.text)
        })?;
        check_order_json(&obs.json, order)?;
        if restore {
            let items = order.items.clone();
            for i in items {
                if let Some(p) = self.product_mut(i.product) {
                    p.stock += i.qty;
                    p.write(now);
                }
            }
        }
        Ok(())
    }

    fn orchestrate(
        &mut self,
        customer: i64,
        lines: &[(i64, i64)],
        key: &str,
        obs: &Observed,
    ) -> Check {
        ensure(
            obs.correlation.is_some()
                && obs.json["correlationId"].as_str() == obs.correlation.as_deref(),
            || {
                format!(
                    "X-Correlation-Id {:?} is not the body's: {}",
                    obs.correlation, obs.text
                )
            },
        )?;
        if let Some(stored) = self.orchestrations.get(key) {
            if stored.meaning != meaning(customer, lines) {
                return envelope_failure(obs, 422, "IDEMPOTENCY_KEY_REUSED");
            }
            let canceled = self
                .order(stored.order)
                .is_some_and(|o| o.status != "CONFIRMED");
            if canceled && !ENVELOPE_SURVIVES_CANCEL {
                return envelope_failure(obs, 409, "CONFLICT");
            }
            let got = without_correlation(&obs.json);
            return ensure(obs.status == 201 && got == stored.envelope, || {
                format!(
                    "expected the key's first envelope 201 {} again, got {} {}",
                    stored.envelope, obs.status, obs.text
                )
            });
        }
        if let Some((status, code, ids)) = self.refusal(customer, lines) {
            envelope_failure(obs, status, code)?;
            return ensure(
                ids.is_null() || product_ids(obs.json.pointer("/error/details/product_ids")) == ids,
                || format!("expected product_ids {ids}, got {}", obs.text),
            );
        }
        ensure(obs.status == 201 && obs.json["success"] == true, || {
            format!(
                "expected a confirmed order (201), got {} {}",
                obs.status, obs.text
            )
        })?;
        let id = self.fresh_id(obs, "/data/order/id")?;
        let order = self.new_order(id, customer, lines, "CONFIRMED");
        let want = json!({
            "success": true,
            "data": {"customer": self.customer(customer).map(|c| c.summary.clone()),
                     "order": order_summary(&order)},
        });
        let got = without_correlation(&obs.json);
        ensure(got == want, || {
            format!("expected envelope {want}, got {}", obs.text)
        })?;
        self.take_stock(lines);
        self.orders.push(order);
        self.orchestrations.insert(
            key.to_owned(),
            StoredOrchestration {
                meaning: meaning(customer, lines),
                lines: lines.to_vec(),
                envelope: got,
                order: id,
            },
        );
        Ok(())
    }
}
