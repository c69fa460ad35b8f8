//! `/metrics` in each service's OpenAPI document: the route, its text answer and its token.

/// Documents `GET /metrics` in `api`: open, or with the `metrics_token` bearer when set.
pub fn document(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{OperationBuilder, PathItem};
    use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
    use utoipa::openapi::{Content, HttpMethod, ObjectBuilder, ResponseBuilder, Type};
    use utoipa::{PartialSchema, ToSchema};

    let components = api.components.get_or_insert_with(Default::default);
    let mut bearer = Http::new(HttpAuthScheme::Bearer);
    bearer.description = Some("The METRICS_TOKEN, when it is set".to_owned());
    components.add_security_scheme(METRICS_SCHEME, SecurityScheme::Http(bearer));
    // The orchestrator documents its own envelope, not problems; this 401 is a problem.
    if !components.schemas.contains_key("Problem") {
        let mut schemas = Vec::new();
        crate::Problem::schemas(&mut schemas);
        schemas.push(("Problem".to_owned(), crate::Problem::schema()));
        components.schemas.extend(schemas);
    }
    let text = ObjectBuilder::new().schema_type(Type::String).build();
    let ok = ResponseBuilder::new()
        .description("Prometheus text exposition format: this part's series, labelled `service`")
        .content("text/plain", Content::new(Some(text)))
        .build();
    let problem = crate::openapi::problem;
    let op = OperationBuilder::new()
        .tag("health")
        .operation_id(Some("metrics"))
        .summary(Some("Prometheus metrics"))
        .description(Some(
            "Request counts and latencies by route template, database pool use, and this part's \
             own counters. No customer data. Open unless METRICS_TOKEN is set.",
        ))
        .securities(Some([
            SecurityRequirement::default(),
            SecurityRequirement::new(METRICS_SCHEME, Vec::<String>::new()),
        ]))
        .response("200", ok)
        .response(
            "401",
            problem("METRICS_TOKEN is set and the request lacks it"),
        )
        .response("500", problem("Unexpected error (a bug)"))
        .build();
    api.paths
        .paths
        .insert("/metrics".to_owned(), PathItem::new(HttpMethod::Get, op));
}

/// The security scheme of `/metrics`.
pub const METRICS_SCHEME: &str = "metrics_token";
