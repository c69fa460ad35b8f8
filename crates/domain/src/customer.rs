//! Customers as the API shows them and as operators send them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use std::ops::RangeInclusive;

use crate::validation::{Fields, FromJson, Text, chars_schema};

/// A customer's name.
pub const NAME: Text = Text { min: 1, max: 255 };
/// The e-mail address an operator logs in with.
pub const LOGIN: Text = Text { min: 1, max: 255 };

/// A customer's e-mail address (trimmed).
pub const EMAIL: Text = Text { min: 1, max: 255 };
/// Most characters of a phone number.
pub const PHONE_MAX: usize = 50;
/// An operator's password, in characters, exactly as sent.
pub const PASSWORD: RangeInclusive<usize> = 1..=1024;

crate::schemas! {
    name_schema = NAME.schema(true, Some("ACME Corp"));
    login_schema = LOGIN.schema(false, Some("admin@b2b.local"));
    email_schema = chars_schema(EMAIL.min..=EMAIL.max, false, Some("email"), "ops@acme.com").build();
    phone_schema = chars_schema(0..=PHONE_MAX, true, None, "+1-555-0100").build();
    password_schema = chars_schema(PASSWORD, false, None, "admin123")
        .description(Some("Checked exactly as sent: nothing is trimmed."))
        .build();
}

/// A customer of the B2B business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Customer {
    #[schema(example = 1)]
    pub id: i64,
    #[schema(example = "ACME Corp")]
    pub name: String,
    #[schema(example = "ops@acme.com")]
    pub email: String,
    #[schema(example = "+1-555-0100")]
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /customers` and `PUT /customers/{id}` (a `PUT` replaces every field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    #[schema(schema_with = name_schema)]
    pub name: String,
    #[schema(schema_with = email_schema)]
    pub email: String,
    #[schema(schema_with = phone_schema)]
    pub phone: Option<String>,
}

impl FromJson for CustomerInput {
    fn from_fields(f: &mut Fields<'_>) -> Option<Self> {
        crate::read_all!(Self {
            name: f.string("name", NAME),
            email: f.email("email", EMAIL),
            phone: f.opt_string("phone", PHONE_MAX),
        })
    }
}

/// Operator credentials for `POST /auth/token`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(schema_with = login_schema)]
    pub email: String,
    #[schema(schema_with = password_schema)]
    pub password: String,
}

impl FromJson for LoginRequest {
    fn from_fields(f: &mut Fields<'_>) -> Option<Self> {
        crate::read_all!(Self {
            email: f.string("email", LOGIN),
            password: f.exact_string(
                "password",
                |p| PASSWORD.contains(&p.chars().count()),
                &format!(
                    "must be between {} and {} characters",
                    PASSWORD.start(),
                    PASSWORD.end()
                ),
            ),
        })
    }
}

/// A bearer token for an operator.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    pub expires_in: i64,
}
