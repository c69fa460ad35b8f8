//! Cursors round-trip, limits are bounded, pages know when more follow.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use b2b_platform::extract::*;

#[test]
fn cursors_round_trip_and_reject_garbage() {
    assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
    assert_eq!(decode_cursor("not-a-cursor"), None);
    assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("id:-1")), None);
    for other_spelling in ["id:007", "id:+7", "id: 7"] {
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode(other_spelling)), None);
    }
}

#[test]
fn limits_are_bounded() {
    let q = |v: &str| QueryParams(HashMap::from([("limit".to_owned(), v.to_owned())]));
    for bad in ["0", "101", "x", "-1"] {
        let mut errors = vec![];
        q(bad).page(&mut errors);
        assert_eq!(errors.len(), 1, "{bad}");
    }
    let mut errors = vec![];
    assert_eq!(q("100").page(&mut errors).limit, 100);
    assert!(errors.is_empty());
}

#[test]
fn pages_know_when_more_follow() {
    let p = PageRequest { limit: 2, after: 0 };
    let page = p.page(vec![1, 2, 3], |v| *v);
    assert_eq!(page.data, [1, 2]);
    assert_eq!(decode_cursor(page.next_cursor.as_deref().unwrap()), Some(2));
    assert!(p.page(vec![1, 2], |v| *v).next_cursor.is_none());
}
