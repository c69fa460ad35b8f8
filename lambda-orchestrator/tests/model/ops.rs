//! The generated operations: abstract steps that name a case's products, customers, orders and
//! keys by small indices, so every sequence is valid and shrinks by plain removal.

use proptest::prelude::*;

/// Products and customers each case makes; keys per pool.
pub const PRODUCTS: usize = 3;
pub const CUSTOMERS: usize = 2;
pub const KEYS: u8 = 3;
/// A product index that names no product (a 404 line).
pub const UNKNOWN: u8 = u8::MAX;

/// One order line: a product index (or [`UNKNOWN`]) and a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub product: u8,
    pub qty: u8,
}

/// One step of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `POST /orders`, with a key of the create pool or none.
    Create {
        customer: u8,
        lines: Vec<Line>,
        key: Option<u8>,
    },
    /// The request of create key `key` again (the one that took effect, else the last sent),
    /// its lines rotated by `rotate`.
    RetryCreate {
        key: u8,
        rotate: u8,
    },
    /// `POST /orders/:id/confirm` of the `order`-th order (mod the orders so far).
    Confirm {
        order: u8,
        key: u8,
    },
    Cancel {
        order: u8,
    },
    /// The orchestrator, with a key of its own pool.
    Orchestrate {
        customer: u8,
        lines: Vec<Line>,
        key: u8,
    },
    RetryOrchestrate {
        key: u8,
        rotate: u8,
    },
    DeleteCustomer {
        customer: u8,
    },
    /// `GET /products/:id`: the client learns the product's `ETag`.
    Read {
        product: u8,
    },
    /// `PATCH /products/:id` (an absolute stock write when `stock` is set), with an `If-Match`
    /// when `tag` is set.
    Patch {
        product: u8,
        price: Option<i64>,
        stock: Option<i64>,
        tag: Option<Tag>,
    },
    /// Moves the orders-api clock.
    Advance {
        minutes: u8,
    },
    /// Requests sent all at once.
    Batch(Vec<Op>),
    /// Requests sent all at once while a second connection holds `SELECT … FOR UPDATE` on a
    /// product (MariaDB only; a plain batch on SQLite).
    Locked {
        product: u8,
        ops: Vec<Op>,
    },
}

/// Where a conditional `PATCH` takes its `If-Match` from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// The last `ETag` the case's client was given for the product (by its creation, a read
    /// or a `PATCH`): stale once anything wrote the product since.
    Last,
    /// A `GET` of the product just before, in the same task: stale only if a write of the
    /// same batch comes between the two.
    ReadFirst,
    /// `*`: any existing product.
    Star,
    /// `W/` and the last tag: a weak tag never matches (strong comparison).
    Weak,
}

/// Which kinds of step a run generates (`MODEL_WITHOUT=reorder,delete,…` turns some off, to
/// look past a known failure).
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    pub reorder: bool,
    pub cancel: bool,
    pub delete: bool,
    pub orchestrate: bool,
    pub patch: bool,
    pub ifmatch: bool,
    pub advance: bool,
    pub batch: bool,
    pub locks: bool,
}

impl Mix {
    pub fn all(locks: bool) -> Self {
        Self {
            reorder: true,
            cancel: true,
            delete: true,
            orchestrate: true,
            patch: true,
            ifmatch: true,
            advance: true,
            batch: true,
            locks,
        }
    }

    /// Turns off the kinds named in a comma-separated list.
    pub fn without(mut self, list: &str) -> Self {
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "reorder" => self.reorder = false,
                "cancel" => self.cancel = false,
                "delete" => self.delete = false,
                "orchestrate" => self.orchestrate = false,
                "patch" => self.patch = false,
                "ifmatch" => self.ifmatch = false,
                "advance" => self.advance = false,
                "batch" => self.batch = false,
                "locks" => self.locks = false,
                other => panic!(
                    "MODEL_WITHOUT: unknown kind {other:?} (reorder, cancel, delete, orchestrate, patch, ifmatch, advance, batch, locks)"
                ),
            }
        }
        self
    }
}

fn line() -> impl Strategy<Value = Line> {
    let product = prop_oneof![12 => 0..PRODUCTS as u8, 1 => Just(UNKNOWN)];
    (product, 1u8..=4).prop_map(|(product, qty)| Line { product, qty })
}

fn lines() -> impl Strategy<Value = Vec<Line>> {
    prop::collection::vec(line(), 1..=PRODUCTS)
}

fn customer() -> impl Strategy<Value = u8> {
    0..CUSTOMERS as u8
}

/// A request: what a batch may hold (no clock moves, no nesting).
fn request(mix: Mix) -> BoxedStrategy<Op> {
    let rotate = if mix.reorder { 0u8..3 } else { 0u8..1 };
    let create = (customer(), lines(), prop::option::weighted(0.7, 0..KEYS))
        .prop_map(|(customer, lines, key)| Op::Create {
            customer,
            lines,
            key,
        })
        .boxed();
    let retry_create = (0..KEYS, rotate.clone())
        .prop_map(|(key, rotate)| Op::RetryCreate { key, rotate })
        .boxed();
    let confirm = (any::<u8>(), 0..KEYS)
        .prop_map(|(order, key)| Op::Confirm { order, key })
        .boxed();
    let cancel = any::<u8>().prop_map(|order| Op::Cancel { order }).boxed();
    let orchestrate = (customer(), lines(), 0..KEYS)
        .prop_map(|(customer, lines, key)| Op::Orchestrate {
            customer,
            lines,
            key,
        })
        .boxed();
    let retry_orchestrate = (0..KEYS, rotate)
        .prop_map(|(key, rotate)| Op::RetryOrchestrate { key, rotate })
        .boxed();
    let delete = customer()
        .prop_map(|customer| Op::DeleteCustomer { customer })
        .boxed();
    let patch = |tag: BoxedStrategy<Option<Tag>>| {
        (
            0..PRODUCTS as u8,
            prop::option::of(prop::sample::select(vec![100i64, 1234])),
            prop::option::of(prop::sample::select(vec![0i64, 2, 7, 20])),
            tag,
        )
            .prop_map(|(product, price, stock, tag)| Op::Patch {
                product,
                price,
                stock: if price.is_none() && stock.is_none() {
                    Some(7)
                } else {
                    stock
                },
                tag,
            })
            .boxed()
    };
    let tag = prop_oneof![
        3 => Just(Tag::Last),
        3 => Just(Tag::ReadFirst),
        1 => Just(Tag::Star),
        1 => Just(Tag::Weak),
    ]
    .prop_map(Some)
    .boxed();
    let tagged_patch = patch(tag);
    let patch = patch(Just(None).boxed());
    let read = (0..PRODUCTS as u8)
        .prop_map(|product| Op::Read { product })
        .boxed();
    let w = |on: bool, weight: u32| if on { weight } else { 0 };
    weighted(vec![
        (4, create),
        (3, retry_create),
        (3, confirm),
        (w(mix.cancel, 3), cancel),
        (w(mix.orchestrate, 2), orchestrate),
        (w(mix.orchestrate, 2), retry_orchestrate),
        (w(mix.delete, 1), delete),
        (w(mix.patch, 1), patch),
        (w(mix.patch && mix.ifmatch, 2), tagged_patch),
        (w(mix.ifmatch, 1), read),
    ])
}

/// A choice among the strategies of non-zero weight.
fn weighted(options: Vec<(u32, BoxedStrategy<Op>)>) -> BoxedStrategy<Op> {
    let options: Vec<_> = options.into_iter().filter(|(w, _)| *w > 0).collect();
    prop::strategy::Union::new_weighted(options).boxed()
}

/// One step of a case.
pub fn step(mix: Mix) -> BoxedStrategy<Op> {
    let w = |on: bool, weight: u32| if on { weight } else { 0 };
    let advance = prop::sample::select(vec![1u8, 4, 5, 6, 10, 11])
        .prop_map(|minutes| Op::Advance { minutes })
        .boxed();
    let batch = prop::collection::vec(request(mix), 1..=5)
        .prop_map(Op::Batch)
        .boxed();
    let locked = (
        0..PRODUCTS as u8,
        prop::collection::vec(request(mix), 1..=4),
    )
        .prop_map(|(product, ops)| Op::Locked { product, ops })
        .boxed();
    weighted(vec![
        (12, request(mix)),
        (w(mix.advance, 2), advance),
        (w(mix.batch, 4), batch),
        (w(mix.locks, 3), locked),
    ])
}

/// A case: a sequence of steps.
pub fn case(mix: Mix, max_steps: usize) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(step(mix), 1..=max_steps.max(1))
}
