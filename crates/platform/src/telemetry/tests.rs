//! Log formats, trace context parsing and propagation, correlation ids.

use super::*;

#[test]
fn client_ids_are_kept_only_when_sane() {
    assert_eq!(CorrelationId::accept("req-789").unwrap().0, "req-789");
    assert!(CorrelationId::accept("").is_none());
    assert!(CorrelationId::accept("has space").is_none());
    assert!(CorrelationId::accept(&"x".repeat(129)).is_none());
    assert_ne!(CorrelationId::new(), CorrelationId::new());
}

#[test]
fn traceparents_are_read_as_the_w3c_recommendation_says() {
    let raw = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let p = TraceParent::parse(raw).expect("valid");
    assert_eq!(p.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
    assert_eq!(p.span_id, 0x00f067aa0ba902b7);
    assert!(p.sampled);
    assert_eq!(p.header(), raw);
    let unsampled = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
    assert!(!unsampled.expect("valid").sampled);
    // A later version may add fields after the four it shares with 00.
    assert!(
        TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x").is_some()
    );
    for bad in [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    ] {
        assert!(TraceParent::parse(bad).is_none(), "{bad}");
    }
}
