//! Runs one case: makes its products and customers, resolves each generated step into calls,
//! sends them (concurrently for a batch, under a held row lock for a locked batch), and
//! checks every step; a failure carries the transcript of the whole case.

use std::collections::BTreeMap;
use std::time::Duration;

use b2b_testkit::Backend;
use sqlx::Connection;

use crate::check::{Snapshot, invariants, linearize, must_be_prompt};
use crate::model::etag;
use crate::model::{Customer, Model, Product};
use crate::ops::{CUSTOMERS, Line, Op, PRODUCTS, Tag, UNKNOWN};
use crate::system::{Call, Observed, Precondition, System};

/// How long a request that no held lock stands in the way of may take (the services wait
/// `LOCK_WAIT_SECS` = 5 s on a row lock).
pub const PROMPT: Duration = Duration::from_secs(3);

const PRICES: [i64; PRODUCTS] = [250, 999, 4000];
const STOCKS: [i64; PRODUCTS] = [6, 10, 3];

/// What a case run counts.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub steps: usize,
    pub requests: usize,
    pub unavailable: u32,
    /// `PATCH`es with `If-Match`: applied, refused with 412.
    pub if_match_applied: u32,
    pub if_match_refused: u32,
    /// Of those refused, the ones whose tag came from a read in the same batch: a write of the
    /// batch linearized between the two.
    pub raced_refused: u32,
}

impl Stats {
    pub fn add(&mut self, o: &Self) {
        self.steps += o.steps;
        self.requests += o.requests;
        self.unavailable += o.unavailable;
        self.if_match_applied += o.if_match_applied;
        self.if_match_refused += o.if_match_refused;
        self.raced_refused += o.raced_refused;
    }
}

/// One case's ids and keys, and the last request sent under each key.
struct Case {
    tag: u64,
    products: Vec<i64>,
    customers: Vec<i64>,
    sent_creates: BTreeMap<u8, (i64, Vec<(i64, i64)>)>,
    sent_orchestrations: BTreeMap<u8, (i64, Vec<(i64, i64)>)>,
    /// Product id → the last `ETag` the client was given for it.
    tags: BTreeMap<i64, String>,
}

impl Case {
    fn key(&self, pool: char, k: u8) -> String {
        format!("m{}-{pool}{k}", self.tag)
    }

    fn lines(&self, lines: &[Line]) -> Vec<(i64, i64)> {
        let mut out: Vec<(i64, i64)> = Vec::new();
        for l in lines {
            let id = if l.product == UNKNOWN {
                // Far above any id a run hands out.
                9_000_000_000_000 + i64::try_from(self.tag).expect("tag")
            } else {
                self.products[usize::from(l.product) % PRODUCTS]
            };
            // No product twice: the first line of a product stands.
            if !out.iter().any(|o| o.0 == id) {
                out.push((id, i64::from(l.qty)));
            }
        }
        out
    }

    fn customer(&self, c: u8) -> i64 {
        self.customers[usize::from(c) % CUSTOMERS]
    }

    /// The calls a generated request stands for here (sent one after the other), if it
    /// stands for any yet.
    fn resolve(&mut self, op: &Op, model: &Model) -> Option<Vec<Call>> {
        if let Op::Patch {
            product,
            price,
            stock,
            tag: Some(tag),
        } = op
        {
            let product = self.products[usize::from(*product) % PRODUCTS];
            let last = || self.tags.get(&product).cloned().expect("a tag per product");
            let patch = |p: Precondition| Call::Patch {
                product,
                price: *price,
                stock: *stock,
                if_match: Some(p),
            };
            return Some(match tag {
                Tag::Last => vec![patch(Precondition::Sent(last()))],
                Tag::Star => vec![patch(Precondition::Sent("*".to_owned()))],
                Tag::Weak => vec![patch(Precondition::Sent(format!("W/{}", last())))],
                Tag::ReadFirst => vec![Call::Read { product }, patch(Precondition::OfTheRead)],
            });
        }
        self.resolve_one(op, model).map(|c| vec![c])
    }

    /// What the client learns from an answer: the product's new `ETag`.
    fn learn(&mut self, call: &Call, obs: &Observed) {
        if let (Call::Read { product } | Call::Patch { product, .. }, 200, Some(tag)) =
            (call, obs.status, &obs.etag)
        {
            self.tags.insert(*product, tag.clone());
        }
    }

    fn resolve_one(&mut self, op: &Op, model: &Model) -> Option<Call> {
        let rotated = |lines: &[(i64, i64)], by: u8| {
            let mut l = lines.to_vec();
            let n = l.len();
            l.rotate_left(usize::from(by) % n.max(1));
            l
        };
        let order = |i: u8| {
            (!model.orders.is_empty()).then(|| model.orders[usize::from(i) % model.orders.len()].id)
        };
        Some(match op {
            Op::Create {
                customer,
                lines,
                key,
            } => {
                let (customer, lines) = (self.customer(*customer), self.lines(lines));
                if let Some(k) = key {
                    self.sent_creates.insert(*k, (customer, lines.clone()));
                }
                Call::Create {
                    customer,
                    lines,
                    key: key.map(|k| self.key('c', k)),
                }
            }
            Op::RetryCreate { key, rotate } => {
                let name = self.key('c', *key);
                let (customer, lines) = match model.create_keys.get(&name) {
                    Some(s) => (s.meaning.0, s.lines.clone()),
                    None => self.sent_creates.get(key)?.clone(),
                };
                Call::Create {
                    customer,
                    lines: rotated(&lines, *rotate),
                    key: Some(name),
                }
            }
            Op::Confirm { order: o, key } => Call::Confirm {
                order: order(*o)?,
                key: self.key('f', *key),
            },
            Op::Cancel { order: o } => Call::Cancel { order: order(*o)? },
            Op::Orchestrate {
                customer,
                lines,
                key,
            } => {
                let (customer, lines) = (self.customer(*customer), self.lines(lines));
                self.sent_orchestrations
                    .insert(*key, (customer, lines.clone()));
                Call::Orchestrate {
                    customer,
                    lines,
                    key: self.key('o', *key),
                }
            }
            Op::RetryOrchestrate { key, rotate } => {
                let name = self.key('o', *key);
                let (customer, lines) = match model.orchestrations.get(&name) {
                    Some(s) => (s.meaning.0, s.lines.clone()),
                    None => self.sent_orchestrations.get(key)?.clone(),
                };
                Call::Orchestrate {
                    customer,
                    lines: rotated(&lines, *rotate),
                    key: name,
                }
            }
            Op::DeleteCustomer { customer } => Call::DeleteCustomer {
                customer: self.customer(*customer),
            },
            Op::Read { product } => Call::Read {
                product: self.products[usize::from(*product) % PRODUCTS],
            },
            Op::Patch {
                product,
                price,
                stock,
                tag: _,
            } => Call::Patch {
                product: self.products[usize::from(*product) % PRODUCTS],
                price: *price,
                stock: *stock,
                if_match: None,
            },
            Op::Advance { .. } | Op::Batch(_) | Op::Locked { .. } => return None,
        })
    }
}

/// The tasks' answers, each task's calls as sent with their answers.
type Answers = Vec<Vec<(Call, Observed)>>;

/// Sends `tasks` all at once (the calls of a task one after the other); with `lock`, while
/// another connection holds that product's row (`SELECT … FOR UPDATE`), released once every
/// task in `prompt` has answered or `PROMPT` is up. Returns the answers in task order.
async fn send_all(
    sys: &System,
    tasks: &[Vec<Call>],
    lock: Option<(i64, Vec<bool>)>,
) -> (Answers, Option<String>) {
    let mut waits = None;
    let mut holder = None;
    if let Some((product, _)) = &lock {
        let mut conn = sqlx::MySqlConnection::connect(sys.db_url())
            .await
            .expect("lock connection");
        sqlx::query("BEGIN")
            .execute(&mut conn)
            .await
            .expect("begin");
        sqlx::query("SELECT id FROM products WHERE id = ? FOR UPDATE")
            .bind(product)
            .fetch_all(&mut conn)
            .await
            .expect("lock the product");
        holder = Some(conn);
    }
    let started = tokio::time::Instant::now();
    let calls = tasks;
    let mut tasks: Vec<_> = calls
        .iter()
        .map(|c| {
            let (sys, c) = (sys.clone(), c.clone());
            tokio::spawn(async move { sys.run_task(&c).await })
        })
        .collect();
    let mut answers: Vec<Option<Vec<(Call, Observed)>>> = vec![None; calls.len()];
    if let (Some((_, prompt)), Some(mut conn)) = (lock, holder) {
        let deadline = started + PROMPT;
        for (i, task) in tasks.iter_mut().enumerate() {
            if prompt[i]
                && let Ok(done) = tokio::time::timeout_at(deadline, &mut *task).await
            {
                answers[i] = Some(done.expect("request task"));
            }
        }
        if (0..calls.len()).any(|i| prompt[i] && answers[i].is_none()) {
            waits = lock_waits(sys).await;
        }
        sqlx::query("ROLLBACK")
            .execute(&mut conn)
            .await
            .expect("release the lock");
        let _ = conn.close().await;
    }
    for (i, task) in tasks.into_iter().enumerate() {
        if answers[i].is_none() {
            answers[i] = Some(task.await.expect("request task"));
        }
    }
    let answers = answers.into_iter().map(|a| a.expect("an answer")).collect();
    (answers, waits)
}

/// A row of `INNODB_LOCKS`: lock id, transaction, mode, index, the locked key.
type LockRow = (String, String, String, Option<String>, Option<String>);

/// What InnoDB's transactions wait for right now (MariaDB's `INNODB_LOCKS`; `None` where that
/// view is gone, as on MySQL 8): the evidence a late answer needs.
async fn lock_waits(sys: &System) -> Option<String> {
    let mut conn = sqlx::MySqlConnection::connect(sys.db_url()).await.ok()?;
    let trx: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT CAST(trx_id AS CHAR), trx_query, CAST(trx_requested_lock_id AS CHAR) \
         FROM information_schema.INNODB_TRX",
    )
    .fetch_all(&mut conn)
    .await
    .ok()?;
    let locks: Vec<LockRow> = sqlx::query_as(
        "SELECT CAST(lock_id AS CHAR), CAST(lock_trx_id AS CHAR), lock_mode, lock_index, lock_data \
         FROM information_schema.INNODB_LOCKS",
    )
    .fetch_all(&mut conn)
    .await
    .ok()?;
    let _ = conn.close().await;
    let mut out = vec!["  InnoDB while the lock was held:".to_owned()];
    for (id, query, waits_for) in trx {
        out.push(format!(
            "    trx {id} waits for {} running {}",
            waits_for.as_deref().unwrap_or("nothing"),
            query.as_deref().unwrap_or("(idle)")
        ));
    }
    for (id, trx, mode, index, data) in locks {
        out.push(format!(
            "    lock {id} of trx {trx}: {mode} on {} {}",
            index.as_deref().unwrap_or("?"),
            data.as_deref().unwrap_or("")
        ));
    }
    Some(out.join("\n"))
}

fn describe(answers: &Answers) -> String {
    let mut out = Vec::new();
    for task in answers {
        for (i, (c, o)) in task.iter().enumerate() {
            let then = if i > 0 { "  then " } else { "" };
            out.push(format!("      {then}{c:?} -> {}", o.brief()));
        }
    }
    out.join("\n")
}

/// Runs one case on `sys`.
pub async fn run_case(sys: &System, ops: &[Op]) -> Result<Stats, String> {
    let tag = sys.serial();
    let mut products = Vec::new();
    let mut tags = BTreeMap::new();
    for (i, (price, stock)) in PRICES.iter().zip(STOCKS).enumerate() {
        let (id, etag_got) = sys
            .new_product(&format!("M{tag}-P{i}"), *price, stock)
            .await;
        let product = Product::new(id, *price, stock, sys.now());
        let want = etag(product.version);
        if etag_got.as_deref() != Some(want.as_str()) {
            return Err(format!(
                "POST /products answered ETag {etag_got:?} for a new product, not {want}"
            ));
        }
        tags.insert(id, want);
        products.push(product);
    }
    let mut customers = Vec::new();
    for i in 0..CUSTOMERS {
        let summary = sys.new_customer(&format!("m{tag}-c{i}")).await;
        customers.push(Customer {
            id: summary["id"].as_i64().expect("customer id"),
            summary,
            deleted: false,
        });
    }
    let mut case = Case {
        tag,
        products: products.iter().map(|p| p.id).collect(),
        customers: customers.iter().map(|c| c.id).collect(),
        sent_creates: BTreeMap::new(),
        sent_orchestrations: BTreeMap::new(),
        tags,
    };
    let mut model = Model::new(sys.now(), products, customers);
    let mut snapshot: Option<Snapshot> = None;
    let mut stats = Stats::default();
    let mut transcript = vec![format!(
        "  products {:?} (prices {PRICES:?}, stocks {STOCKS:?}), customers {:?}, keys m{tag}-*",
        case.products, case.customers
    )];
    for (n, op) in ops.iter().enumerate() {
        let (requests, lock): (Vec<&Op>, Option<usize>) = match op {
            Op::Advance { minutes } => {
                let by = chrono::Duration::minutes(i64::from(*minutes));
                sys.advance(by);
                model.now += by;
                transcript.push(format!("  {n}: advance the clock {minutes} min"));
                continue;
            }
            Op::Batch(ops) => (ops.iter().collect(), None),
            Op::Locked { product, ops } => (ops.iter().collect(), Some(usize::from(*product))),
            single => (vec![single], None),
        };
        let tasks: Vec<Vec<Call>> = requests
            .iter()
            .filter_map(|op| case.resolve(op, &model))
            .collect();
        if tasks.is_empty() {
            transcript.push(format!("  {n}: {op:?}: nothing to do yet"));
            continue;
        }
        // Which calls must answer promptly: a call waits behind any call of its task before it.
        let lock = lock.filter(|_| sys.backend() == Backend::MySql).map(|p| {
            let id = case.products[p % PRODUCTS];
            let planned: Vec<Call> = tasks.iter().flatten().cloned().collect();
            let mut flags = must_be_prompt(&model, &planned, id).into_iter();
            let per_call: Vec<Vec<bool>> = tasks
                .iter()
                .map(|t| {
                    let mut ok = true;
                    t.iter()
                        .map(|_| {
                            ok &= flags.next().expect("a flag per call");
                            ok
                        })
                        .collect()
                })
                .collect();
            (id, per_call)
        });
        let wait_for = lock
            .as_ref()
            .map(|(id, p)| (*id, p.iter().map(|t| t.iter().all(|&b| b)).collect()));
        let what = match &lock {
            Some((id, _)) => format!("locked batch (product {id} held)"),
            None if tasks.len() > 1 => "batch".to_owned(),
            None => "request".to_owned(),
        };
        let (answers, waits) = send_all(sys, &tasks, wait_for).await;
        transcript.push(format!("  {n}: {what}\n{}", describe(&answers)));
        transcript.extend(waits);
        let mut calls = Vec::new();
        let mut after = Vec::new();
        let mut obs = Vec::new();
        let mut prompt = Vec::new();
        for (t, task) in answers.iter().enumerate() {
            for (k, (c, o)) in task.iter().enumerate() {
                after.push((k > 0).then(|| calls.len() - 1));
                calls.push(c.clone());
                obs.push(o.clone());
                prompt.push(lock.as_ref().is_some_and(|(_, p)| p[t][k]));
                if let Call::Patch {
                    if_match: Some(_), ..
                } = c
                {
                    match o.status {
                        200 => stats.if_match_applied += 1,
                        412 => {
                            stats.if_match_refused += 1;
                            stats.raced_refused += u32::from(k > 0);
                        }
                        _ => {}
                    }
                }
            }
        }
        stats.steps += 1;
        stats.requests += calls.len();
        let fail = |why: String, transcript: &[String]| {
            Err(format!(
                "step {n}: {why}\n  transcript:\n{}",
                transcript.join("\n")
            ))
        };
        if let Some(bad) = obs.iter().find(|o| o.status >= 500 && o.status != 503) {
            return fail(
                format!("an undocumented {}: {}", bad.status, bad.text),
                &transcript,
            );
        }
        if let Some(i) = (0..calls.len()).find(|&i| prompt[i] && obs[i].elapsed > PROMPT) {
            return fail(
                format!(
                    "request {i} ({:?}) took {} ms while product {} was locked: it must answer promptly (its rows are not behind that lock, or its key already has an outcome)",
                    calls[i],
                    obs[i].elapsed.as_millis(),
                    lock.as_ref().map_or(0, |l| l.0)
                ),
                &transcript,
            );
        }
        let now = Snapshot::read(sys, &model).await;
        model = match linearize(&model, &calls, &after, &obs, &now) {
            Ok(m) => m,
            Err(why) => return fail(why, &transcript),
        };
        if let Err(why) = invariants(&model, snapshot.as_ref(), &now) {
            return fail(why, &transcript);
        }
        snapshot = Some(now);
        for (c, o) in calls.iter().zip(&obs) {
            case.learn(c, o);
        }
    }
    stats.unavailable = model.unavailable;
    Ok(stats)
}
