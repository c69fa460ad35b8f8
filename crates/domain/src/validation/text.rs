//! The string readers of [`Fields`]: trimmed and not blank, or taken exactly as sent; e-mail
//! addresses.

use std::ops::RangeInclusive;

use serde_json::Value;
use validator::ValidateEmail;

use super::Fields;

/// A trimmed, not blank text field: its length in characters, as sent. The reader checks it
/// and the OpenAPI schema is made from it, so the two cannot disagree.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    pub min: usize,
    pub max: usize,
}

impl<'a> Fields<'a> {
    pub(super) fn check_str(
        &mut self,
        name: &str,
        v: &'a Value,
        len: RangeInclusive<usize>,
    ) -> Option<String> {
        let Some(raw) = v.as_str() else {
            self.error(name, "must be a string");
            return None;
        };
        // The length is the one sent; the value kept is trimmed, and must not be blank.
        let s = raw.trim();
        if *len.start() > 0 && s.is_empty() {
            self.error(name, "must not be empty");
            return None;
        }
        if !len.contains(&raw.chars().count()) {
            self.error(
                name,
                format!(
                    "must be between {} and {} characters",
                    len.start(),
                    len.end()
                ),
            );
            return None;
        }
        Some(s.to_owned())
    }

    fn check_exact(
        &mut self,
        name: &str,
        v: &Value,
        valid: impl Fn(&str) -> bool,
        message: &str,
    ) -> Option<String> {
        let Some(s) = v.as_str() else {
            self.error(name, "must be a string");
            return None;
        };
        if !valid(s) {
            self.error(name, message);
            return None;
        }
        Some(s.to_owned())
    }

    /// A required string taken as sent (not trimmed), which `valid` must accept.
    pub fn exact_string(
        &mut self,
        name: &'static str,
        valid: impl Fn(&str) -> bool,
        message: &str,
    ) -> Option<String> {
        let v = self.required(name)?;
        self.check_exact(name, v, valid, message)
    }

    /// Like [`Fields::exact_string`], but absent or `null` gives `Some(None)`.
    pub fn opt_exact_string(
        &mut self,
        name: &'static str,
        valid: impl Fn(&str) -> bool,
        message: &str,
    ) -> Option<Option<String>> {
        match self.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(v) => self.check_exact(name, v, valid, message).map(Some),
        }
    }

    /// A required string, trimmed, with its length (in characters) in `len`.
    pub fn string(&mut self, name: &'static str, rule: Text) -> Option<String> {
        let v = self.required(name)?;
        self.check_str(name, v, rule.min..=rule.max)
    }

    /// An optional string: absent or `null` gives `Some(None)`; `None` means invalid.
    pub fn opt_string(&mut self, name: &'static str, max: usize) -> Option<Option<String>> {
        match self.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(v) => self
                .check_str(name, v, 0..=max)
                .map(|s| (!s.is_empty()).then_some(s)),
        }
    }

    /// A required e-mail address, trimmed, its length within `rule`.
    pub fn email(&mut self, name: &'static str, rule: Text) -> Option<String> {
        let s = self.string(name, rule)?;
        if !s.validate_email() {
            self.error(name, "must be a valid e-mail address");
            return None;
        }
        Some(s)
    }

    /// Optional, but when present must not be `null`.
    pub fn opt_present_string(&mut self, name: &'static str, rule: Text) -> Option<Option<String>> {
        match self.get(name) {
            None => Some(None),
            Some(v) => self.check_str(name, v, rule.min..=rule.max).map(Some),
        }
    }
}
