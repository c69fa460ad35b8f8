//! Identity keys fold case only, and never grow past `KEY_EXPANSION`.

use b2b_domain::identity::*;

#[test]
fn only_case_is_folded() {
    assert_eq!(key("Admin@B2B.Local"), "admin@b2b.local");
    assert_eq!(key("SKU-É"), "sku-é");
    assert_ne!(key("SKU-É"), key("SKU-E"), "accents count");
    assert_ne!(key("ａdmin"), key("admin"), "width counts");
    assert_ne!(
        key("ad\u{ad}min"),
        key("admin"),
        "ignorable characters count"
    );
}

#[test]
fn no_character_lower_cases_to_more_than_two() {
    let mut expanding = Vec::new();
    for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
        let n = c.to_lowercase().count();
        assert!(n <= KEY_EXPANSION, "{c:?} lower-cases to {n} characters");
        if n > 1 {
            expanding.push(c);
        }
    }
    assert_eq!(expanding, ['\u{130}'], "only İ expands");
    // A string's lowering differs from its characters' only for a final sigma, which stays
    // one character.
    assert_eq!(key("ΟΔΟΣ").chars().count(), 4);
    assert_eq!(key(&"İ".repeat(255)).chars().count(), 510);
}
