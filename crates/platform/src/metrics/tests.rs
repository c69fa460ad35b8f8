//! The token rule of /metrics and counts made outside a request.

use super::dispatch::CURRENT;
use super::*;

#[test]
fn the_token_rule() {
    let open = Metrics::new("test", None, None);
    assert!(open.allowed(&HeaderMap::new()));
    let token = "metrics-token-0123456789abcdef-0123";
    let closed = Metrics::new("test", Some(token), None);
    let with = |v: &str| {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, v.parse().unwrap());
        h
    };
    assert!(!closed.allowed(&HeaderMap::new()));
    assert!(closed.allowed(&with(&format!("Bearer {token}"))));
    assert!(!closed.allowed(&with(&format!("Bearer {token}x"))));
    assert!(!closed.allowed(&with(token)), "without the scheme");
}

#[test]
fn counts_outside_a_request_go_nowhere() {
    let m = Metrics::new("test", None, None);
    metrics::counter!(ORDERS_REFUSED).increment(1);
    assert!(!m.render().contains(ORDERS_REFUSED));
}

#[tokio::test]
async fn counts_inside_a_request_go_to_its_app() {
    let (a, b) = (Metrics::new("a", None, None), Metrics::new("b", None, None));
    CURRENT
        .scope(a.clone(), async {
            metrics::counter!(ORDERS_REFUSED, "reason" => "x").increment(2);
        })
        .await;
    assert!(
        a.render()
            .contains(r#"orders_refused_total{service="a",reason="x"} 2"#),
        "{}",
        a.render()
    );
    assert!(!b.render().contains(ORDERS_REFUSED));
}
