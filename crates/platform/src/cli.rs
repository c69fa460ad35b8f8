//! What the binaries share on their command line: parsing that keeps the old exit codes, and
//! the settings (environment variables) each command's `--help` lists, written from the same
//! defaults and ranges that `Config::from_env` checks, so the two cannot disagree.

use std::fmt::{Display, Write as _};
use std::ops::RangeInclusive;

use crate::config;
use crate::config::names::*;

/// Parses the command line. `--help` and `--version` print and exit 0 before anything else
/// runs (no `.env`, no port, no database); a usage error prints and exits 1, the code an unknown
/// command has always had (clap's own is 2).
pub fn parse<T: clap::Parser>() -> T {
    match T::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 1 } else { 0 });
        }
    }
}

/// One environment variable as `--help` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub about: &'static str,
    /// `None`: required.
    pub default: Option<String>,
    pub allowed: String,
}

impl Setting {
    pub fn new(
        name: &'static str,
        about: &'static str,
        default: impl Display,
        allowed: impl Into<String>,
    ) -> Self {
        Self {
            name,
            about,
            default: Some(default.to_string()),
            allowed: allowed.into(),
        }
    }

    /// A whole number checked by [`config::parse_in`].
    pub fn number<T: Display>(
        name: &'static str,
        about: &'static str,
        default: T,
        range: &RangeInclusive<T>,
    ) -> Self {
        Self::new(name, about, default, config::range_text(range))
    }

    /// A duration checked by [`config::duration_in`].
    pub fn duration(
        name: &'static str,
        about: &'static str,
        default_secs: i64,
        range: &RangeInclusive<i64>,
    ) -> Self {
        Self::new(
            name,
            about,
            config::human_secs(default_secs),
            config::duration_range_text(range),
        )
    }

    /// A port checked by [`config::port`].
    pub fn port(name: &'static str, about: &'static str, default: u16) -> Self {
        Self::number(name, about, default, &config::PORTS)
    }

    /// `DATABASE_URL`, read by both APIs.
    pub fn database_url(default: &str) -> Self {
        Self::new(
            DATABASE_URL,
            "the database (the SQLite file is created when missing)",
            default,
            "mysql://user:pass@host:3306/db, mariadb://… or sqlite://path/to/file.db",
        )
    }

    /// `JWT_SECRET` and `SERVICE_TOKEN` (see [`config::secrets`]); with `dev_fallback`, what
    /// the all-in-one stands in for them.
    pub fn secrets(dev_fallback: bool) -> [Self; 2] {
        let allowed = format!(
            "at least {} bytes, the same in every part",
            config::MIN_SECRET_BYTES
        );
        let secret = |name, about, dev: &str| Self {
            name,
            about,
            default: dev_fallback.then(|| format!("{dev} (development only, and logged)")),
            allowed: allowed.clone(),
        };
        [
            secret(
                JWT_SECRET,
                "signs and checks operator tokens (HS256)",
                config::DEV_JWT_SECRET,
            ),
            secret(
                SERVICE_TOKEN,
                "the bearer token the parts call each other with",
                config::DEV_SERVICE_TOKEN,
            ),
        ]
    }

    /// `RUST_LOG` and `LOG_FORMAT`, read by every binary (see [`crate::telemetry::init`]).
    /// What each API's settings start with: its port, its database and the two secrets.
    pub fn api_service(default_port: u16, default_database_url: &str) -> Vec<Self> {
        let mut all = vec![
            Self::port(PORT, "the port to listen on", default_port),
            Self::database_url(default_database_url),
        ];
        all.extend(Self::secrets(false));
        all
    }

    /// `METRICS_TOKEN`, read by [`config::metrics_token`].
    pub fn metrics_token() -> Self {
        Self::new(
            METRICS_TOKEN,
            "when set, GET /metrics needs it as a bearer token",
            "(none: /metrics is open like /health)",
            format!("at least {} bytes", config::MIN_SECRET_BYTES),
        )
    }

    /// With the trace settings, `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_SERVICE_NAME` (see
    /// [`crate::telemetry::init`]).
    pub fn logging() -> [Self; 4] {
        [
            Self::new(
                RUST_LOG,
                "which log lines are written",
                "info",
                "a tracing filter such as debug or info,sqlx=warn",
            ),
            Self::new(
                LOG_FORMAT,
                "how log lines are written (unset: pretty when standard output is a terminal)",
                "json",
                "json or pretty",
            ),
            Self::new(
                crate::telemetry::OTLP_ENDPOINT,
                "where spans are exported over OTLP (HTTP/protobuf; /v1/traces is added)",
                "(none: no spans exported; traceparent is still read, passed on and logged)",
                "an http:// or https:// URL such as http://collector:4318",
            ),
            Self::new(
                OTEL_SERVICE_NAME,
                "the service.name of exported spans (each request span also says its part)",
                "(the binary's name)",
                "any name",
            ),
        ]
    }
}

/// The `after_help` text listing `settings`.
pub fn settings_help(settings: &[Setting]) -> String {
    let mut out = String::from(
        "Settings (environment variables; the first .env file found from the working directory upwards is read too):\n",
    );
    for s in settings {
        let head = match &s.default {
            Some(d) => format!("{}={d}", s.name),
            None => format!("{} (required)", s.name),
        };
        let _ = write!(out, "  {head}\n      {}: {}\n", s.about, s.allowed);
    }
    out.truncate(out.trim_end().len());
    out
}

/// [`settings_help`] for the settings among `all` that are named in `names`, in `all`'s order.
pub fn settings_help_for(all: &[Setting], names: &[&str]) -> String {
    let picked: Vec<Setting> = all
        .iter()
        .filter(|s| names.contains(&s.name))
        .cloned()
        .collect();
    debug_assert_eq!(
        picked.len(),
        names.len(),
        "a setting named twice or unknown"
    );
    settings_help(&picked)
}
