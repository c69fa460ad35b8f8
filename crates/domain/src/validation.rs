//! Request validation that reports every failing field at once.
//!
//! serde stops at the first problem; the contract wants the whole list (missing fields, wrong
//! types, values out of range, unknown fields), so request bodies are read field by field from a
//! parsed `serde_json::Value` and every problem is collected.

mod schema;
mod text;

pub use schema::{NOT_BLANK, array_schema, chars_schema, int_schema};
pub use text::Text;

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// One failing field of a request, as sent in a problem's `errors` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Path of the field, e.g. `email` or `items[2].qty`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A request body that can be read from JSON with [`Fields`].
pub trait FromJson: Sized {
    /// Reads the fields; returns `None` when any was invalid (the errors are in `f`).
    fn from_fields(f: &mut Fields<'_>) -> Option<Self>;

    /// Parses a whole body, listing every failing field on error.
    fn from_json(value: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::new(value, "");
        let parsed = Self::from_fields(&mut f);
        let errors = f.finish();
        match parsed {
            Some(v) if errors.is_empty() => Ok(v),
            _ => Err(errors),
        }
    }
}

/// `read_all!(Self { a: f.string(…), b: f.int(…) })` in a [`FromJson::from_fields`]: runs every
/// field's reader, in order, so that each failing field is reported, then builds the value when
/// none failed.
#[macro_export]
macro_rules! read_all {
    ($ty:ident { $($field:ident: $read:expr),+ $(,)? }) => {{
        $(let $field = $read;)+
        Some($ty { $($field: $field?),+ })
    }};
}

/// Reads the fields of one JSON object, collecting errors instead of stopping at the first.
pub struct Fields<'a> {
    obj: Option<&'a Map<String, Value>>,
    prefix: String,
    known: Vec<&'static str>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub fn new(value: &'a Value, prefix: &str) -> Self {
        let mut errors = Vec::new();
        let obj = value.as_object();
        if obj.is_none() {
            let field = if prefix.is_empty() {
                "body"
            } else {
                prefix.trim_end_matches('.')
            };
            errors.push(FieldError::new(field, "must be a JSON object"));
        }
        Self {
            obj,
            prefix: prefix.to_owned(),
            known: Vec::new(),
            errors,
        }
    }

    fn path(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    /// Records an error on `name`.
    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        let field = self.path(name);
        self.errors.push(FieldError::new(field, message));
    }

    /// The raw value of a field, `None` when absent; marks the field as known.
    fn get(&mut self, name: &'static str) -> Option<&'a Value> {
        self.known.push(name);
        self.obj.and_then(|o| o.get(name))
    }

    fn required(&mut self, name: &'static str) -> Option<&'a Value> {
        let v = self.get(name);
        if v.is_none() && self.obj.is_some() {
            self.error(name, "is required");
        }
        v
    }

    fn check_int(&mut self, name: &str, v: &Value, range: RangeInclusive<i64>) -> Option<i64> {
        // JSON (and JSON Schema's `integer`) makes no difference between `3` and `3.0`.
        let whole = v
            .as_f64()
            .filter(|f| f.fract() == 0.0 && (-9.0e18..=9.0e18).contains(f))
            .map(|f| f as i64);
        let Some(n) = v.as_i64().or(whole) else {
            // A whole number too large for i64 is out of range; anything else is not an integer.
            let msg = if v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0) {
                format!("must be between {} and {}", range.start(), range.end())
            } else {
                "must be an integer".to_owned()
            };
            self.error(name, msg);
            return None;
        };
        if !range.contains(&n) {
            self.error(
                name,
                format!("must be between {} and {}", range.start(), range.end()),
            );
            return None;
        }
        Some(n)
    }

    /// A required integer within `range`.
    pub fn int(&mut self, name: &'static str, range: RangeInclusive<i64>) -> Option<i64> {
        let v = self.required(name)?;
        self.check_int(name, v, range)
    }

    /// An optional integer: absent gives `Some(None)`; `null`, another type or out of range is an error.
    pub fn opt_int(
        &mut self,
        name: &'static str,
        range: RangeInclusive<i64>,
    ) -> Option<Option<i64>> {
        match self.get(name) {
            None => Some(None),
            Some(v) => self.check_int(name, v, range).map(Some),
        }
    }

    /// A field that may not be sent at all.
    pub fn forbidden(&mut self, name: &'static str, message: &str) {
        if self.get(name).is_some() {
            self.error(name, message);
        }
    }

    /// A required array of objects with its length in `len`, each read by `each`.
    pub fn array<T>(
        &mut self,
        name: &'static str,
        len: RangeInclusive<usize>,
        each: impl Fn(&mut Fields<'_>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let v = self.required(name)?;
        let Some(items) = v.as_array() else {
            self.error(name, "must be an array");
            return None;
        };
        if !len.contains(&items.len()) {
            self.error(
                name,
                format!(
                    "must have between {} and {} entries",
                    len.start(),
                    len.end()
                ),
            );
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let mut child = Fields::new(item, &format!("{}{}[{}].", self.prefix, name, i));
            let parsed = each(&mut child);
            let errors = child.finish();
            match parsed {
                Some(p) if errors.is_empty() => out.push(p),
                _ => ok = false,
            }
            self.errors.extend(errors);
        }
        ok.then_some(out)
    }

    /// Ends reading: adds an error for every field that no reader asked for.
    pub fn finish(mut self) -> Vec<FieldError> {
        if let Some(obj) = self.obj {
            let unknown: Vec<String> = obj
                .keys()
                .filter(|k| !self.known.contains(&k.as_str()))
                .cloned()
                .collect();
            for k in unknown {
                self.error(&k, "unknown field");
            }
        }
        self.errors
    }
}

/// Whether `key` is a valid idempotency key: 1–255 characters from `!` to `~`.
pub fn is_valid_idempotency_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| (b'!'..=b'~').contains(&b))
}
