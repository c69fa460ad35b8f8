//! `docs/errors.md` is the catalogue operators read: it lists every code of [`ErrorCode`], no
//! code that does not exist, and each code with the status the parts answer it with.

use std::collections::{BTreeMap, BTreeSet};

use b2b_domain::ErrorCode;

/// Each catalogue row `| `CODE` | 409, 503 | … |`: its code and the statuses it gives.
fn catalogue() -> Vec<(String, BTreeSet<u16>)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/errors.md");
    let text = std::fs::read_to_string(path).expect("docs/errors.md");
    text.lines()
        .filter_map(|line| {
            let mut cells = line.strip_prefix("| `")?.split('|');
            let code = cells.next()?.trim().strip_suffix('`')?.to_owned();
            let statuses = cells.next()?.split(',').map(|s| s.trim().parse().ok());
            Some((code, statuses.collect::<Option<_>>()?))
        })
        .collect()
}

#[test]
fn the_error_catalogue_lists_every_code_with_its_status_and_nothing_else() {
    let rows = catalogue();
    assert!(rows.len() >= ErrorCode::ALL.len(), "{rows:?}");
    let mut documented: BTreeMap<&str, BTreeSet<u16>> = BTreeMap::new();
    for (code, statuses) in &rows {
        let known = ErrorCode::parse(code).unwrap_or_else(|| panic!("{code} is no ErrorCode"));
        assert!(
            statuses.contains(&known.status()),
            "{code} is answered with {}, the catalogue says {statuses:?}",
            known.status()
        );
        documented
            .entry(known.as_str())
            .or_default()
            .extend(statuses);
    }
    let missing: Vec<_> = ErrorCode::ALL
        .iter()
        .filter(|c| !documented.contains_key(c.as_str()))
        .collect();
    assert!(missing.is_empty(), "not in docs/errors.md: {missing:?}");
}
