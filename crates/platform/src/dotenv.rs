//! The `.env` file: the first one found in the working directory or above it, so a part started
//! from its own folder reads the repository's; a relative SQLite path is taken from that file's
//! folder, so every part opens the same database wherever it is started.

use std::path::{Path, PathBuf};

/// Loads the `.env` file found from the working directory, if any (variables already set win).
pub fn load() {
    if let Some(file) = find() {
        let _ = dotenvy::from_path(file);
    }
}

/// `DATABASE_URL`, or `default`, with a relative `sqlite://` path made relative to the folder of
/// the `.env` file (the working directory when there is none).
pub fn database_url(default: &str) -> String {
    let url = crate::config::var_or(crate::config::names::DATABASE_URL, default);
    let dir = find().and_then(|file| file.parent().map(Path::to_path_buf));
    resolve(&url, dir.as_deref())
}

fn find() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|dir| dir.join(".env"))
        .find(|file| file.is_file())
}

fn resolve(url: &str, env_dir: Option<&Path>) -> String {
    match (url.strip_prefix("sqlite://"), env_dir) {
        (Some(path), Some(dir)) if !path.starts_with('/') && !path.starts_with(':') => {
            format!("sqlite://{}", dir.join(path).display())
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::resolve;
    use std::path::Path;

    #[test]
    fn a_relative_sqlite_path_is_taken_from_the_env_files_folder() {
        let dir = Some(Path::new("/srv/b2b"));
        let cases = [
            ("sqlite://data/b2b.db", "sqlite:///srv/b2b/data/b2b.db"),
            (
                "sqlite://data/b2b.db?mode=rwc",
                "sqlite:///srv/b2b/data/b2b.db?mode=rwc",
            ),
            ("sqlite:///var/lib/b2b.db", "sqlite:///var/lib/b2b.db"),
            ("sqlite://:memory:", "sqlite://:memory:"),
            ("mysql://u:p@db:3306/b2b", "mysql://u:p@db:3306/b2b"),
        ];
        for (url, expected) in cases {
            assert_eq!(resolve(url, dir), expected, "{url}");
        }
        assert_eq!(
            resolve("sqlite://data/b2b.db", None),
            "sqlite://data/b2b.db"
        );
    }
}
