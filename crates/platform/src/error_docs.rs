//! The error responses of the OpenAPI documents as the code knows them: each names the codes it
//! can carry (an `enum` on the body's code) and shows an example body for each.
//!
//! The codes of a response are those its description names in backticks, plus those the
//! platform itself answers with at that status; a response that ends up naming none, or names a
//! code that does not exist, stops the document from being built (the snapshot tests catch it).

use axum::http::StatusCode;
use b2b_domain::ErrorCode;
use b2b_domain::order::OrderStatus;
use serde_json::Value;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr};

use crate::Problem;

/// How a service's error bodies carry their code.
#[derive(Debug, Clone, Copy)]
pub struct ErrorBodies {
    /// The component schema of the body.
    pub schema: &'static str,
    /// Where the code is: `["code"]` in a problem, `["error", "code"]` in the orchestrator's.
    pub code_at: &'static [&'static str],
    /// A body with this status and code, as sent.
    pub example: fn(StatusCode, ErrorCode) -> Value,
}

/// The platform's problem+json bodies.
pub const PROBLEMS: ErrorBodies = ErrorBodies {
    schema: "Problem",
    code_at: &["code"],
    example: |status, code| {
        let problem = Problem::new(status, code, code.example_detail().to_owned());
        serde_json::to_value(problem).expect("a problem serialises")
    },
};

/// The codes the platform answers with at `status` on any operation (the extractors, auth,
/// the database handle); the rest are named in each response's description.
fn platform_codes(status: StatusCode, reads_body: bool) -> Vec<ErrorCode> {
    match status.as_u16() {
        400 if reads_body => vec![ErrorCode::ValidationError, ErrorCode::MalformedJson],
        400 => vec![ErrorCode::ValidationError],
        401 => vec![ErrorCode::Unauthorized],
        403 => vec![ErrorCode::Forbidden],
        413 => vec![ErrorCode::PayloadTooLarge],
        415 => vec![ErrorCode::UnsupportedMediaType],
        500 => vec![ErrorCode::InternalError],
        503 => vec![ErrorCode::ServiceUnavailable],
        _ => Vec::new(),
    }
}

/// The codes `description` names in backticks; an order status (`CREATED`) is no code.
fn described_codes(description: &str) -> Vec<ErrorCode> {
    let looks_like_code =
        |w: &str| w.len() >= 4 && w.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
    description
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| looks_like_code(w) && OrderStatus::parse(w).is_none())
        .map(|w| {
            ErrorCode::parse(w)
                .unwrap_or_else(|| panic!("{w:?} in {description:?} is no ErrorCode"))
        })
        .collect()
}

/// The response body of `codes`: `bodies.schema` with its code narrowed to them, and an
/// example of each.
fn content(bodies: &ErrorBodies, status: StatusCode, codes: &[ErrorCode]) -> Content {
    let mut narrowed: RefOr<_> = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.iter().map(|c| c.as_str())))
        .into();
    for key in bodies.code_at.iter().rev() {
        narrowed = ObjectBuilder::new().property(*key, narrowed).into();
    }
    let schema = AllOfBuilder::new()
        .item(Ref::from_schema_name(bodies.schema))
        .item(narrowed);
    let examples = codes.iter().map(|&c| {
        let example = ExampleBuilder::new().value(Some((bodies.example)(status, c)));
        (c.as_str(), example.build())
    });
    Content::builder()
        .schema(Some(schema))
        .examples_from_iter(examples)
        .build()
}

/// Names the codes of every response of `api` whose body is `bodies.schema`; `platform`: add
/// the codes the platform answers with itself.
pub fn name_codes(api: &mut OpenApi, bodies: &ErrorBodies, platform: bool) {
    let own = format!("#/components/schemas/{}", bodies.schema);
    for (path, item) in &mut api.paths.paths {
        for op in crate::openapi::operations(item) {
            let reads_body = op.request_body.is_some();
            for (status, response) in &mut op.responses.responses {
                let RefOr::T(response) = response else {
                    continue;
                };
                let status = StatusCode::from_bytes(status.as_bytes()).expect("a status");
                for body in response.content.values_mut() {
                    if !matches!(&body.schema, Some(RefOr::Ref(r)) if r.ref_location == own) {
                        continue;
                    }
                    let mut codes = described_codes(&response.description);
                    let elsewhere = codes.iter().find(|c| c.status() != status.as_u16());
                    assert!(
                        elsewhere.is_none(),
                        "{path} {status}: {elsewhere:?} has another status"
                    );
                    if platform {
                        codes.extend(platform_codes(status, reads_body));
                    }
                    codes.dedup();
                    assert!(
                        !codes.is_empty(),
                        "{path} {status}: name its codes in the description"
                    );
                    *body = content(bodies, status, &codes);
                }
            }
        }
    }
}
