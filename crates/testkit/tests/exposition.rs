//! The `/metrics` reader against good and bad expositions.

use b2b_testkit::exposition::Exposition;

const GOOD: &str = r#"# HELP req_total Requests
# TYPE req_total counter
req_total{method="GET",route="/a/{id}"} 3
req_total{method="POST",route="/a"} 1 1700000000000
# TYPE dur_seconds histogram
dur_seconds_bucket{le="0.1"} 1
dur_seconds_bucket{le="1"} 2
dur_seconds_bucket{le="+Inf"} 2
dur_seconds_sum 0.5
dur_seconds_count 2
up 1
esc{v="a\"b\\c\nd"} 1
"#;

#[test]
fn the_text_format_is_read() {
    let e = Exposition::parse(GOOD).unwrap();
    assert_eq!(e.value("req_total", &[]), 4.0);
    assert_eq!(e.value("req_total", &[("route", "/a/{id}")]), 3.0);
    assert_eq!(e.value("req_total", &[("route", "/b")]), 0.0);
    assert_eq!(e.value("dur_seconds_count", &[]), 2.0);
    assert_eq!(e.label_values("esc", "v"), ["a\"b\\c\nd"]);
    assert_eq!(e.types["dur_seconds"], "histogram");
    assert_eq!(e.helped, ["req_total"]);
}

#[test]
fn malformed_text_is_refused() {
    for bad in [
        "1bad 1",
        "m{a=\"x\"",
        "m{a=x} 1",
        "m{a=\"x\",a=\"y\"} 1",
        "m one",
        "m 1 2 3",
        "m 1\n# TYPE m counter",
        "# TYPE m countr",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 1",
    ] {
        assert!(Exposition::parse(bad).is_err(), "{bad:?} was accepted");
    }
}
