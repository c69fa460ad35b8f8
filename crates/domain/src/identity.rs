//! Identities (e-mails, SKUs) as the database keys them: without regard to case, and to case only.
//!
//! The key is computed here, once, and compared byte for byte by the database (`utf8mb4_bin` on
//! MySQL/MariaDB, SQLite's default `BINARY`), so accents, width and ignorable characters count
//! on every backend alike, whatever collation a column would otherwise get.

/// How many characters a key can hold per character of its value: `to_lowercase` maps U+0130
/// `İ` to two (`i` + U+0307) and every other character to one (checked below over every code
/// point). Key columns are sized with it (db/migrations/*/0002_*.sql).
pub const KEY_EXPANSION: usize = 2;

/// The key of an identity: its lower-case form (Unicode's full mapping, as `str::to_lowercase`).
pub fn key(value: &str) -> String {
    value.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
