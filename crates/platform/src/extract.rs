//! Extractors that turn bad requests into *our* problem+json errors: JSON bodies validated
//! field by field, positive integer ids, and list parameters (`limit`, `cursor`).

mod query;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use b2b_domain::{FieldError, FromJson};
use serde_json::Value;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};

use crate::error::ApiError;

pub use query::{CURSOR_PATTERN, PageRequest, QueryParams, check, decode_cursor, encode_cursor};

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Why a JSON body could not be read.
#[derive(Debug)]
pub enum BodyError {
    UnsupportedMediaType,
    TooLarge,
    Malformed(String),
    Invalid(Vec<FieldError>),
}

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::UnsupportedMediaType => Self::UnsupportedMediaType,
            BodyError::TooLarge => Self::PayloadTooLarge,
            BodyError::Malformed(why) => Self::MalformedJson(why),
            BodyError::Invalid(errors) => Self::Validation(errors),
        }
    }
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Reads a request body as a JSON value: 415 unless JSON, 413 past [`BODY_LIMIT`], 400 on bad syntax.
pub async fn read_json_value<S: Send + Sync>(req: Request, state: &S) -> Result<Value, BodyError> {
    if !is_json(&req) {
        return Err(BodyError::UnsupportedMediaType);
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            BodyError::TooLarge
        } else {
            BodyError::Malformed("the request body could not be read".to_owned())
        }
    })?;
    if bytes.len() > BODY_LIMIT {
        return Err(BodyError::TooLarge);
    }
    serde_json::from_slice(&bytes).map_err(|e| BodyError::Malformed(e.to_string()))
}

/// A JSON body read with [`FromJson`]: every failing field is reported.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: FromJson> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let value = read_json_value(req, state).await?;
        T::from_json(&value).map(Self).map_err(ApiError::Validation)
    }
}

/// A positive integer id from the path's last parameter; `params(Id)` documents it as `id`.
#[derive(Debug, Clone, Copy)]
pub struct Id(pub i64);

impl utoipa::IntoParams for Id {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let positive = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(1));
        vec![
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(positive))
                .build(),
        ]
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::field("id", "must be a positive integer"))?;
        raw.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Self)
            .ok_or_else(|| ApiError::field("id", "must be a positive integer"))
    }
}
