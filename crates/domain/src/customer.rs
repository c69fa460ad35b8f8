//! Customers as the API shows them and as operators send them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::{Fields, FromJson};

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
    /// Not blank: surrounding white space is trimmed.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        example = "ACME Corp"
    )]
    pub name: String,
    #[schema(max_length = 255, format = "email", example = "ops@acme.com")]
    pub email: String,
    #[schema(max_length = 50, example = "+1-555-0100")]
    pub phone: Option<String>,
}

impl FromJson for CustomerInput {
    fn from_fields(f: &mut Fields<'_>) -> Option<Self> {
        let name = f.string("name", 1..=255);
        let email = f.email("email");
        let phone = f.opt_string("phone", 50);
        Some(Self {
            name: name?,
            email: email?,
            phone: phone?,
        })
    }
}

/// Operator credentials for `POST /auth/token`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        example = "admin@b2b.local"
    )]
    pub email: String,
    /// Checked exactly as sent: nothing is trimmed.
    #[schema(min_length = 1, max_length = 1024, example = "admin123")]
    pub password: String,
}

impl FromJson for LoginRequest {
    fn from_fields(f: &mut Fields<'_>) -> Option<Self> {
        let email = f.string("email", 1..=255);
        let password = f.exact_string(
            "password",
            |p| (1..=1024).contains(&p.chars().count()),
            "must be between 1 and 1024 characters",
        );
        Some(Self {
            email: email?,
            password: password?,
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
