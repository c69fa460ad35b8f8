//! The patterns of a "contains" search: `LIKE` on MySQL, a case-folding `GLOB` on SQLite.

/// A `LIKE … ESCAPE '!'` pattern matching `search` anywhere, with `%`, `_` and `!` taken literally.
/// (`!` rather than a backslash: MySQL and SQLite read backslashes in literals differently.)
pub fn like(search: &str) -> String {
    let mut p = String::with_capacity(search.len() + 2);
    p.push('%');
    for c in search.chars() {
        if matches!(c, '%' | '_' | '!') {
            p.push('!');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A SQLite `GLOB` pattern matching `search` anywhere without regard to case: each letter
/// becomes a class of its cases (`[Éé]`), and `*`, `?` and `[` are taken literally.
pub fn glob(search: &str) -> String {
    fn single(mut chars: impl Iterator<Item = char>) -> Option<char> {
        let c = chars.next()?;
        chars.next().is_none().then_some(c)
    }
    let mut p = String::from("*");
    for c in search.chars() {
        let mut class = vec![c];
        class.extend(single(c.to_lowercase()));
        class.extend(single(c.to_uppercase()));
        class.sort_unstable();
        class.dedup();
        if class.len() > 1 || matches!(c, '*' | '?' | '[') {
            p.push('[');
            p.extend(class);
            p.push(']');
        } else {
            p.push(c);
        }
    }
    p.push('*');
    p
}

#[cfg(test)]
mod like_tests {
    use super::{glob, like};

    #[test]
    fn glob_patterns_fold_case_and_keep_wildcards_literal() {
        assert_eq!(glob("Éc1"), "*[Éé][Cc]1*");
        assert_eq!(glob("*?[]%_^"), "*[*][?][[]]%_^*");
    }

    #[test]
    fn wildcards_are_literal() {
        assert_eq!(like("50%_off!"), "%50!%!_off!!%");
        assert_eq!(like("acme"), "%acme%");
    }
}
