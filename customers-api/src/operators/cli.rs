//! `customers-api operators …`: operators on a real deployment, without the demo seed. A
//! password comes from the terminal (without echo) or, with `--password-stdin`, from one line of
//! standard input; never from argv or the environment, which other users can read (`ps`,
//! /proc/PID/environ) and shells keep in their history.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail, ensure};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};
use b2b_domain::customer::LoginRequest;
use b2b_domain::{Fields, FromJson};
use b2b_platform::Db;
use b2b_platform::db::DbOptions;
use chrono::{DateTime, SecondsFormat, Utc};

use super::repo::{self, WriteError};

/// Shorter passwords are refused (counted in characters, as the log-in counts them).
pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, clap::Subcommand)]
pub enum Operators {
    /// Create an operator; asks for the password (twice) on the terminal
    #[command(after_help = crate::cli::database_help())]
    Add(WithPassword),
    /// Set an operator's password; asks for it (twice) on the terminal
    #[command(after_help = crate::cli::database_help())]
    Passwd(WithPassword),
    /// Refuse an operator's log-ins (a token already issued stays valid until it expires)
    #[command(after_help = crate::cli::database_help())]
    Disable {
        /// The operator's e-mail (its case is ignored)
        email: String,
    },
    /// Let a disabled operator log in again
    #[command(after_help = crate::cli::database_help())]
    Enable {
        /// The operator's e-mail (its case is ignored)
        email: String,
    },
    /// Every operator: e-mail, created, disabled (never a password hash)
    #[command(after_help = crate::cli::database_help())]
    List,
}

#[derive(Debug, clap::Args)]
pub struct WithPassword {
    /// The operator's e-mail (its case is ignored)
    pub email: String,
    /// Read the password from one line of standard input instead of the terminal (the line's
    /// newline is removed, nothing else)
    #[arg(long)]
    pub password_stdin: bool,
}

/// Runs one `operators` command on the database at `database_url`, after applying the pending
/// migrations (the command may be the first thing run on a new database).
pub async fn run(command: Operators, database_url: &str) -> anyhow::Result<()> {
    let db = Db::connect(database_url, &DbOptions::default()).await?;
    db.migrate().await?;
    let result = execute(&db, command).await;
    db.close().await;
    result
}

async fn execute(db: &Db, command: Operators) -> anyhow::Result<()> {
    let now = Utc::now();
    match command {
        Operators::Add(args) => {
            let email = valid_email(&args.email)?;
            ensure!(
                repo::find_for_login(db, &email).await?.is_none(),
                "an operator with the e-mail {email} exists already (its case is ignored)"
            );
            let hash = hash(&new_password(args.password_stdin)?)?;
            repo::insert(db, &email, &hash, now)
                .await
                .map_err(|e| explain(e, &email))?;
            println!("operator {email} added");
        }
        Operators::Passwd(args) => {
            let email = args.email.trim();
            ensure!(
                repo::find_for_login(db, email).await?.is_some(),
                "no operator has the e-mail {email}"
            );
            let hash = hash(&new_password(args.password_stdin)?)?;
            repo::set_password(db, email, &hash)
                .await
                .map_err(|e| explain(e, email))?;
            println!("password of {email} changed");
        }
        Operators::Disable { email } => {
            let email = email.trim();
            repo::set_disabled(db, email, Some(now))
                .await
                .map_err(|e| explain(e, email))?;
            println!("operator {email} disabled: log-ins are refused");
        }
        Operators::Enable { email } => {
            let email = email.trim();
            repo::set_disabled(db, email, None)
                .await
                .map_err(|e| explain(e, email))?;
            println!("operator {email} enabled");
        }
        Operators::List => print!("{}", table(&repo::list(db).await?)),
    }
    Ok(())
}

fn explain(e: WriteError, email: &str) -> anyhow::Error {
    match e {
        WriteError::Exists => {
            anyhow::anyhow!(
                "an operator with the e-mail {email} exists already (its case is ignored)"
            )
        }
        WriteError::NotFound => anyhow::anyhow!("no operator has the e-mail {email}"),
        WriteError::Db(e) => anyhow::Error::new(e).context("the database refused the change"),
    }
}

/// The e-mail as customers' e-mails are checked (trimmed, at most 255 characters).
fn valid_email(raw: &str) -> anyhow::Result<String> {
    let value = serde_json::json!({ "email": raw });
    let mut fields = Fields::new(&value, "");
    let email = fields.email("email", b2b_domain::customer::EMAIL);
    match (email, fields.finish().first()) {
        (Some(email), None) => Ok(email),
        (_, Some(e)) => bail!("the e-mail {raw:?} {}", e.message),
        (None, None) => bail!("the e-mail {raw:?} is invalid"),
    }
}

/// A password the log-in will take as it is (it checks passwords exactly as sent): at least
/// [`MIN_PASSWORD_CHARS`] characters, and within the log-in's own bounds.
pub fn check_password(password: &str) -> anyhow::Result<()> {
    let chars = password.chars().count();
    ensure!(
        chars >= MIN_PASSWORD_CHARS,
        "the password is too short: {chars} characters, at least {MIN_PASSWORD_CHARS} required"
    );
    let login = serde_json::json!({ "email": "x", "password": password });
    match LoginRequest::from_json(&login) {
        Ok(_) => Ok(()),
        Err(errors) => {
            let why = errors.first().map_or("is refused", |e| e.message.as_str());
            bail!("the password {why}")
        }
    }
}

/// Reads and checks a new password.
fn new_password(from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin {
        one_line(&mut std::io::stdin().lock())?
    } else {
        ensure!(
            std::io::stdin().is_terminal(),
            "standard input is not a terminal: pass --password-stdin to read the password from it"
        );
        let first = rpassword::prompt_password("Password: ").context("reading the password")?;
        check_password(&first)?;
        let again =
            rpassword::prompt_password("Password again: ").context("reading the password")?;
        ensure!(first == again, "the two passwords differ");
        first
    };
    check_password(&password)?;
    Ok(password)
}

/// Exactly one line: its newline removed and nothing else (no trimming).
fn one_line(input: &mut impl BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    if line.ends_with('\n') {
        line.pop();
    }
    Ok(line)
}

/// An argon2id hash with a random salt and the library's default cost, the parameters of the
/// demo seed's hash and of the log-in's dummy hash (so every check costs the same).
fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| anyhow::anyhow!("making a salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
}

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `operators list`: one operator a line under a header.
fn table(operators: &[repo::Listed]) -> String {
    let width = operators
        .iter()
        .map(|o| o.email.chars().count())
        .chain(["email".len()])
        .max()
        .unwrap_or_default();
    let mut out = format!("{:width$}  {:20}  disabled\n", "email", "created");
    for o in operators {
        let disabled = o.disabled_at.as_ref().map_or_else(|| "no".to_owned(), time);
        out.push_str(&format!(
            "{:width$}  {:20}  {disabled}\n",
            o.email,
            time(&o.created_at)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_counted_in_characters() {
        assert!(
            check_password("ééééééééééé").is_err(),
            "11 characters, 22 bytes"
        );
        assert!(check_password("éééééééééééé").is_ok(), "12 characters");
        assert!(check_password("abcdefghijk").is_err());
        assert!(check_password("correct horse").is_ok());
    }

    #[test]
    fn passwords_are_taken_as_typed_within_the_log_ins_bounds() {
        assert!(check_password(" correct horse").is_ok(), "checked as sent");
        assert!(check_password("correct horse\t").is_ok());
        let long = "x".repeat(1025);
        let msg = check_password(&long).unwrap_err().to_string();
        assert!(msg.contains("between 1 and 1024 characters"), "{msg}");
        assert!(check_password(&"x".repeat(1024)).is_ok());
    }

    #[test]
    fn one_line_is_read_with_its_newline_removed_and_nothing_else() {
        let mut input = "  two spaces each side  \nsecond line\n".as_bytes();
        assert_eq!(one_line(&mut input).unwrap(), "  two spaces each side  ");
        assert_eq!(
            one_line(&mut "no newline".as_bytes()).unwrap(),
            "no newline"
        );
        assert_eq!(one_line(&mut "crlf\r\n".as_bytes()).unwrap(), "crlf\r");
    }

    #[test]
    fn the_hash_is_argon2id_with_the_seeds_parameters_and_verifies() {
        let h = hash("correct horse battery").unwrap();
        let params = |h: &str| h.rsplitn(3, '$').nth(2).map(str::to_owned);
        assert_eq!(params(&h), params(super::super::DUMMY_HASH), "{h}");
        assert!(super::super::verify("correct horse battery", &h));
        assert!(!super::super::verify("correct horse batter", &h));
        assert_ne!(hash("correct horse battery").unwrap(), h, "salted");
    }

    #[test]
    fn e_mails_are_checked_like_customers() {
        assert_eq!(valid_email(" ops@example.com ").unwrap(), "ops@example.com");
        let msg = valid_email("not an e-mail").unwrap_err().to_string();
        assert!(msg.contains("valid e-mail"), "{msg}");
    }
}
