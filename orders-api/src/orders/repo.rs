//! Every statement on `orders` and `order_items`: an order with its lines in one query, a page
//! in two, the insert of a new order and the guarded status changes. Statuses are bound from
//! [`OrderStatus`], never spelled in SQL.

use b2b_domain::order::{Order, OrderItem, OrderStatus};
use b2b_platform::db::{Exec, Query, Tx, dialect};
use b2b_platform::extract::PageRequest;
use b2b_platform::{Db, args};
use chrono::{DateTime, Utc};

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    customer_id: i64,
    status: String,
    total_cents: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
    canceled_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    order_id: i64,
    product_id: i64,
    qty: i64,
    unit_price_cents: i64,
    subtotal_cents: i64,
}

/// An order row joined with one of its lines.
#[derive(sqlx::FromRow)]
struct JoinedRow {
    #[sqlx(flatten)]
    order: OrderRow,
    #[sqlx(flatten)]
    item: ItemRow,
}

impl OrderRow {
    fn into_order(self, items: Vec<OrderItem>) -> sqlx::Result<Order> {
        // The column's CHECK constraint admits only the three statuses.
        let status = OrderStatus::parse(&self.status).ok_or_else(|| {
            sqlx::Error::Decode(format!("order {} has status {:?}", self.id, self.status).into())
        })?;
        Ok(Order {
            id: self.id,
            customer_id: self.customer_id,
            status,
            total_cents: self.total_cents,
            items,
            created_at: self.created_at,
            updated_at: self.updated_at,
            confirmed_at: self.confirmed_at,
            canceled_at: self.canceled_at,
        })
    }
}

impl From<ItemRow> for OrderItem {
    fn from(i: ItemRow) -> Self {
        Self {
            product_id: i.product_id,
            qty: i.qty,
            unit_price_cents: i.unit_price_cents,
            subtotal_cents: i.subtotal_cents,
        }
    }
}

macro_rules! order_columns {
    () => {
        "o.id, o.customer_id, o.status, o.total_cents, o.created_at, o.updated_at, o.confirmed_at, o.canceled_at"
    };
}
macro_rules! item_columns {
    () => {
        "i.order_id, i.product_id, i.qty, i.unit_price_cents, i.subtotal_cents"
    };
}

/// One order with its lines (by product id), in a single query.
pub async fn get_in(exec: &mut impl Exec, id: i64) -> sqlx::Result<Option<Order>> {
    const SQL: &str = concat!(
        "SELECT ",
        order_columns!(),
        ", ",
        item_columns!(),
        " FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id = ? ORDER BY i.product_id"
    );
    let rows: Vec<JoinedRow> = exec.fetch_all(SQL, &args![id]).await?;
    let mut rows = rows.into_iter();
    let Some(first) = rows.next() else {
        return Ok(None);
    };
    let mut items = vec![first.item.into()];
    items.extend(rows.map(|r| OrderItem::from(r.item)));
    first.order.into_order(items).map(Some)
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<Order>> {
    get_in(&mut db.conn(), id).await
}

/// Filters of `GET /orders`.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub status: Option<OrderStatus>,
    pub customer_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// One keyset page of orders matching `filter`, with their lines read in one more query.
pub async fn list(db: &Db, filter: &Filter, page: PageRequest) -> sqlx::Result<Vec<Order>> {
    let q = page_query(db, filter, page);
    let mut session = db.session().await?;
    let orders: Vec<OrderRow> = session.fetch_all(&q.sql, &q.args).await?;
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::new(concat!(
        "SELECT ",
        item_columns!(),
        " FROM order_items i WHERE i.order_id IN ("
    ));
    q.list(orders.iter().map(|o| o.id))
        .push(") ORDER BY i.order_id, i.product_id", []);
    let items: Vec<ItemRow> = session.fetch_all(&q.sql, &q.args).await?;
    drop(session);
    let mut items = items.into_iter().peekable();
    orders
        .into_iter()
        .map(|o| {
            let mut lines = Vec::new();
            while let Some(i) = items.next_if(|i| i.order_id == o.id) {
                lines.push(i.into());
            }
            o.into_order(lines)
        })
        .collect()
}

/// The statement of one page of orders matching `filter`. A page of one status alone reads the
/// `(status, id)` index as a range on every engine (see [`dialect::force_index`]).
pub fn page_query(db: &Db, filter: &Filter, page: PageRequest) -> Query {
    let status_only = filter.customer_id.is_none() && filter.from.is_none() && filter.to.is_none();
    let hint = match filter.status {
        Some(_) if status_only => dialect::force_index(db, "ix_orders_status"),
        _ => String::new(),
    };
    let mut q = Query::new(concat!("SELECT ", order_columns!(), " FROM orders o"));
    q.push(&hint, []).push(" WHERE o.id > ?", args![page.after]);
    if let Some(status) = filter.status {
        q.push(" AND o.status = ?", args![status.as_str()]);
    }
    if let Some(customer_id) = filter.customer_id {
        q.push(" AND o.customer_id = ?", args![customer_id]);
    }
    if let Some(from) = filter.from {
        q.push(" AND o.created_at >= ?", args![from]);
    }
    if let Some(to) = filter.to {
        q.push(" AND o.created_at <= ?", args![to]);
    }
    q.push(" ORDER BY o.id LIMIT ?", args![page.fetch()]);
    q
}

/// Inserts a new order in `CREATED` with its lines; returns its id.
pub async fn insert(
    tx: &mut Tx,
    customer_id: i64,
    total_cents: i64,
    items: &[OrderItem],
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    const ORDER: &str = "INSERT INTO orders (customer_id, status, total_cents, created_at, updated_at) \
                         VALUES (?, ?, ?, ?, ?)";
    let created = OrderStatus::Created.as_str();
    let id = tx
        .insert(ORDER, &args![customer_id, created, total_cents, now, now])
        .await?;
    let mut q = Query::new(
        "INSERT INTO order_items (order_id, product_id, qty, unit_price_cents, subtotal_cents) VALUES ",
    );
    q.repeat("(?, ?, ?, ?, ?)", ", ", items.len());
    for i in items {
        q.push(
            "",
            args![
                id,
                i.product_id,
                i.qty,
                i.unit_price_cents,
                i.subtotal_cents
            ],
        );
    }
    tx.execute(&q.sql, &q.args).await?;
    Ok(id)
}

/// `CREATED → CONFIRMED`; says whether the order changed.
pub async fn confirm(tx: &mut Tx, id: i64, now: DateTime<Utc>) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE orders SET status = ?, confirmed_at = ?, updated_at = ? WHERE id = ? AND status = ?";
    let (from, to) = (
        OrderStatus::Created.as_str(),
        OrderStatus::Confirmed.as_str(),
    );
    Ok(tx
        .update_by_key(SQL, &args![to, now, now, id, from])
        .await?
        == 1)
}

/// `→ CANCELED` from `CREATED`, or (unless `only_created`) from `CONFIRMED` when confirmed at
/// or after `cancellable_since`; says whether the order changed.
pub async fn cancel(
    tx: &mut Tx,
    id: i64,
    now: DateTime<Utc>,
    only_created: bool,
    cancellable_since: DateTime<Utc>,
) -> sqlx::Result<bool> {
    const CREATED: &str =
        "UPDATE orders SET status = ?, canceled_at = ?, updated_at = ? WHERE id = ? AND status = ?";
    const ANY: &str = "UPDATE orders SET status = ?, canceled_at = ?, updated_at = ? \
                       WHERE id = ? AND (status = ? OR (status = ? AND confirmed_at >= ?))";
    let (created, canceled) = (
        OrderStatus::Created.as_str(),
        OrderStatus::Canceled.as_str(),
    );
    let changed = if only_created {
        tx.update_by_key(CREATED, &args![canceled, now, now, id, created])
            .await?
    } else {
        let confirmed = OrderStatus::Confirmed.as_str();
        let args = args![
            canceled,
            now,
            now,
            id,
            created,
            confirmed,
            cancellable_since
        ];
        tx.update_by_key(ANY, &args).await?
    };
    Ok(changed == 1)
}
