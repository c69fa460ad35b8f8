//! The checker on histories written by hand, without the services: it must accept every
//! interleaving a conditional stock correction may have with a concurrent order, and reject
//! the ones that lose the order's units (issue 11, hole 9), so a pass of the suite means
//! something.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use crate::check::{Shown, Snapshot, linearize};
use crate::model::{Customer, Model, Product};
use crate::system::{Call, Observed, Precondition};

fn t0() -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000, 0)
        .single()
        .expect("a time")
}

fn model() -> Model {
    let customer = Customer {
        id: 1,
        summary: json!({"id": 1, "name": "c", "email": "c@model.test", "phone": "+1-555-0100"}),
        deleted: false,
    };
    Model::new(t0(), vec![Product::new(1, 250, 6, t0())], vec![customer])
}

fn answer(status: u16, json: Value, etag: Option<&str>) -> Observed {
    Observed {
        status,
        replayed: false,
        retry_after: false,
        correlation: None,
        etag: etag.map(str::to_owned),
        text: json.to_string(),
        json,
        elapsed: std::time::Duration::ZERO,
    }
}

fn product(stock: i64, etag: &str) -> Observed {
    let json = json!({"id": 1, "sku": "S", "name": "S", "price_cents": 250, "stock": stock,
                      "created_at": t0().to_rfc3339(), "updated_at": t0().to_rfc3339()});
    answer(200, json, Some(etag))
}

fn order() -> Value {
    json!({"id": 10, "customer_id": 1, "status": "CREATED", "total_cents": 250,
           "items": [{"product_id": 1, "qty": 1, "unit_price_cents": 250, "subtotal_cents": 250}],
           "created_at": t0().to_rfc3339(), "confirmed_at": null, "canceled_at": null})
}

fn refused() -> Observed {
    answer(412, json!({"code": "PRECONDITION_FAILED"}), None)
}

/// A read of the product, a correction to 20 with the read's tag, and an order of one unit,
/// all sent at once; `answers` in that order, and what `GET` shows after.
fn history(answers: [Observed; 3], stock: i64, etag: &str) -> Result<Model, String> {
    let calls = [
        Call::Read { product: 1 },
        Call::Patch {
            product: 1,
            price: None,
            stock: Some(20),
            if_match: Some(Precondition::Sent("\"1\"".to_owned())),
        },
        Call::Create {
            customer: 1,
            lines: vec![(1, 1)],
            key: None,
        },
    ];
    let shown = Shown {
        price: 250,
        stock,
        updated_at: Some(t0()),
        etag: Some(etag.to_owned()),
    };
    let snap = Snapshot {
        products: BTreeMap::from([(1, shown)]),
        orders: BTreeMap::from([(10, order())]),
    };
    linearize(&model(), &calls, &[None, Some(0), None], &answers, &snap)
}

#[test]
fn a_correction_before_the_order_applies() {
    let created = answer(201, order(), None);
    let m = history(
        [product(6, "\"1\""), product(20, "\"2\""), created],
        19,
        "\"3\"",
    )
    .expect("read, correct, order");
    assert_eq!((m.products[0].stock, m.products[0].version), (19, 3));
}

#[test]
fn an_order_between_the_read_and_the_correction_makes_it_412() {
    let created = answer(201, order(), None);
    let m = history([product(6, "\"1\""), refused(), created], 5, "\"2\"")
        .expect("read, order, refused correction");
    assert_eq!((m.products[0].stock, m.products[0].version), (5, 2));
}

#[test]
fn a_correction_that_erases_the_order_is_rejected() {
    // The correction applied after the order with the tag read before it: the order's unit
    // is lost. No interleaving explains it.
    let created = answer(201, order(), None);
    let why = history(
        [product(6, "\"1\""), product(20, "\"3\""), created],
        20,
        "\"3\"",
    )
    .expect_err("a lost update");
    assert!(why.contains("no order"), "{why}");
}

#[test]
fn a_412_with_nothing_in_between_is_rejected() {
    let calls = [
        Call::Read { product: 1 },
        Call::Patch {
            product: 1,
            price: None,
            stock: Some(20),
            if_match: Some(Precondition::Sent("\"1\"".to_owned())),
        },
    ];
    let shown = Shown {
        price: 250,
        stock: 6,
        updated_at: Some(t0()),
        etag: Some("\"1\"".to_owned()),
    };
    let snap = Snapshot {
        products: BTreeMap::from([(1, shown)]),
        orders: BTreeMap::new(),
    };
    let answers = [product(6, "\"1\""), refused()];
    assert!(linearize(&model(), &calls, &[None, Some(0)], &answers, &snap).is_err());
}

#[test]
fn a_read_showing_a_version_the_model_does_not_is_rejected() {
    let mut m = model();
    let wrong = product(6, "\"2\"");
    assert!(m.apply(&Call::Read { product: 1 }, &wrong, false).is_err());
    let missing = answer(200, product(6, "\"1\"").json, None);
    assert!(
        m.apply(&Call::Read { product: 1 }, &missing, false)
            .is_err()
    );
}
