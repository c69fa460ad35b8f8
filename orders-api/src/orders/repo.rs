//! Reading orders with their lines: one query for one order, two for a page.

use b2b_domain::order::{Order, OrderItem, OrderStatus};
use b2b_platform::extract::PageRequest;
use b2b_platform::sql::{Arg, Exec, placeholders};
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
    fn into_order(self, items: Vec<OrderItem>) -> Order {
        Order {
            id: self.id,
            customer_id: self.customer_id,
            // The column's CHECK constraint admits only the three statuses.
            status: OrderStatus::parse(&self.status).unwrap_or(OrderStatus::Created),
            total_cents: self.total_cents,
            items,
            created_at: self.created_at,
            updated_at: self.updated_at,
            confirmed_at: self.confirmed_at,
            canceled_at: self.canceled_at,
        }
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

const ORDER_COLUMNS: &str = "o.id, o.customer_id, o.status, o.total_cents, o.created_at, o.updated_at, o.confirmed_at, o.canceled_at";
const ITEM_COLUMNS: &str = "i.order_id, i.product_id, i.qty, i.unit_price_cents, i.subtotal_cents";

/// One order with its lines (by product id), in a single query.
pub async fn get_in(exec: &mut impl Exec, id: i64) -> sqlx::Result<Option<Order>> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS}, {ITEM_COLUMNS} FROM orders o JOIN order_items i ON i.order_id = o.id \
         WHERE o.id = ? ORDER BY i.product_id"
    );
    let rows: Vec<JoinedRow> = exec.fetch_all(&sql, &args![id]).await?;
    let mut rows = rows.into_iter();
    let Some(first) = rows.next() else {
        return Ok(None);
    };
    let mut items = vec![first.item.into()];
    items.extend(rows.map(|r| OrderItem::from(r.item)));
    Ok(Some(first.order.into_order(items)))
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
    let mut sql = format!("SELECT {ORDER_COLUMNS} FROM orders o WHERE o.id > ?");
    let mut values: Vec<Arg> = vec![page.after.into()];
    if let Some(status) = filter.status {
        sql.push_str(" AND o.status = ?");
        values.push(status.as_str().into());
    }
    if let Some(customer_id) = filter.customer_id {
        sql.push_str(" AND o.customer_id = ?");
        values.push(customer_id.into());
    }
    if let Some(from) = filter.from {
        sql.push_str(" AND o.created_at >= ?");
        values.push(from.into());
    }
    if let Some(to) = filter.to {
        sql.push_str(" AND o.created_at <= ?");
        values.push(to.into());
    }
    sql.push_str(" ORDER BY o.id LIMIT ?");
    values.push(page.fetch().into());
    let orders: Vec<OrderRow> = db.fetch_all(&sql, &values).await?;
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Arg> = orders.iter().map(|o| Arg::I64(o.id)).collect();
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM order_items i WHERE i.order_id IN ({}) ORDER BY i.order_id, i.product_id",
        placeholders(ids.len())
    );
    let items: Vec<ItemRow> = db.fetch_all(&sql, &ids).await?;
    let mut items = items.into_iter().peekable();
    Ok(orders
        .into_iter()
        .map(|o| {
            let mut lines = Vec::new();
            while let Some(i) = items.next_if(|i| i.order_id == o.id) {
                lines.push(i.into());
            }
            o.into_order(lines)
        })
        .collect())
}
