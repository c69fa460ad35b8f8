//! OpenAPI helpers: the security schemes and the error responses every operation can give, added
//! once here instead of on each handler.

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder, Schema};

use axum::extract::FromRef;

use crate::extract::CURSOR_PATTERN;
use crate::metrics::Metrics;

pub const OPERATOR_JWT: &str = "operator_jwt";
pub const SERVICE_TOKEN: &str = "service_token";

/// Declares the two bearer schemes.
pub fn add_security_schemes(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    let mut jwt = Http::new(HttpAuthScheme::Bearer);
    jwt.bearer_format = Some("JWT".to_owned());
    jwt.description = Some("Operator token from POST /auth/token on customers-api".to_owned());
    components.add_security_scheme(OPERATOR_JWT, SecurityScheme::Http(jwt));
    let mut service = Http::new(HttpAuthScheme::Bearer);
    service.description = Some("The shared SERVICE_TOKEN of the system's services".to_owned());
    components.add_security_scheme(SERVICE_TOKEN, SecurityScheme::Http(service));
}

/// A problem+json answer documented as `description`.
pub(crate) fn problem(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build()
}

pub(crate) fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.post,
        &mut item.put,
        &mut item.patch,
        &mut item.delete,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// Adds the problem responses that the shared platform can give on any operation: 400 (bad
/// ids, queries or bodies), 401/403 on authenticated ones, 413/415 where a body is read, 429 where
/// given, and 500/503. Also gives every `cursor` query parameter the pattern of the cursors
/// the platform makes (any other value is a 400).
pub fn add_standard_responses(api: &mut OpenApi, uses_database: bool) {
    for item in api.paths.paths.values_mut() {
        for op in operations(item) {
            for param in op.parameters.iter_mut().flatten() {
                if param.name != "cursor" || !matches!(param.parameter_in, ParameterIn::Query) {
                    continue;
                }
                if let Some(RefOr::T(Schema::Object(schema))) = &mut param.schema {
                    schema.pattern = Some(CURSOR_PATTERN.to_owned());
                }
            }
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let has_body = op.request_body.is_some();
            let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let responses = &mut op.responses.responses;
            let mut add = |code: &str, description: &str| {
                responses
                    .entry(code.to_owned())
                    .or_insert_with(|| problem(description).into());
            };
            if has_body || has_params {
                add(
                    "400",
                    "Malformed JSON or invalid fields (every failing field is listed in `errors`)",
                );
            }
            if secured {
                add("401", "Missing, invalid or expired credentials");
                add("403", "Valid credentials of the wrong kind");
            }
            if has_body {
                add("413", "Request body over 64 KiB");
                add("415", "Request body is not JSON");
            }
            add("500", "Unexpected error (a bug)");
            if uses_database {
                add(
                    "503",
                    "The database or a service this one depends on is unreachable",
                );
            }
        }
    }
}

/// Swagger UI at `/docs` for `api` (served at `/openapi.json`), vendored and fully offline: the
/// online spec validator it calls by default on non-local hosts is switched off.
pub fn swagger_ui(api: OpenApi) -> utoipa_swagger_ui::SwaggerUi {
    utoipa_swagger_ui::SwaggerUi::new("/docs")
        .url("/openapi.json", api)
        .config(utoipa_swagger_ui::Config::new(["/openapi.json"]).validator_url("none"))
}

/// The error responses the platform documents on every operation of a service.
#[derive(Debug, Clone, Copy)]
pub enum ErrorDocs {
    /// problem+json answers; 503 too when the service has a database.
    Problems { uses_database: bool },
    /// The service documents its own error envelope (the orchestrator).
    OwnEnvelope(crate::error_docs::ErrorBodies),
}

impl ErrorDocs {
    /// What the two APIs document: problem answers, the database-down 503 among them.
    pub const PROBLEMS_WITH_DATABASE: Self = Self::Problems {
        uses_database: true,
    };
}

/// A service's finished OpenAPI document: its routes' docs plus the shared security schemes and
/// error responses.
pub fn document<S: Clone + Send + Sync + 'static>(
    router: utoipa_axum::router::OpenApiRouter<S>,
    errors: ErrorDocs,
) -> OpenApi {
    let (_, mut api) = router.split_for_parts();
    add_security_schemes(&mut api);
    if let ErrorDocs::Problems { uses_database } = errors {
        add_standard_responses(&mut api, uses_database);
    }
    crate::metrics::document(&mut api);
    crate::error_docs::name_codes(&mut api, &crate::error_docs::PROBLEMS, true);
    if let ErrorDocs::OwnEnvelope(bodies) = errors {
        crate::error_docs::name_codes(&mut api, &bodies, false);
    }
    api
}

/// Declares a service's [`Surface`] as `SURFACE`, and its `openapi()` and `app(state)` from it,
/// in its `lib.rs`, where `router` builds its routes over its `AppState`:
/// - `surface!("lambda-orchestrator", router, errors)`: a service without a database;
/// - `surface!(api "orders-api", router, purge = idempotency::purge_periodically)`: an API with
///   problem answers and a database, and its `run(config)`: connect, migrate, build the
///   `AppState`, `purge(db, clock)` in the background, serve until Ctrl-C or SIGTERM.
#[macro_export]
macro_rules! surface {
    ($service:literal, $router:path, $errors:expr) => {
        /// What this service serves and documents.
        pub const SURFACE: $crate::openapi::Surface<AppState> = $crate::openapi::Surface {
            service: $service,
            router: $router,
            errors: $errors,
        };

        /// The OpenAPI document of this service.
        pub fn openapi() -> utoipa::openapi::OpenApi {
            SURFACE.openapi()
        }

        /// The service's whole HTTP surface.
        pub fn app(state: AppState) -> axum::Router {
            SURFACE.app(state)
        }
    };
    (api $service:literal, $router:path, purge = $purge:path) => {
        $crate::surface!(
            $service,
            $router,
            $crate::openapi::ErrorDocs::PROBLEMS_WITH_DATABASE
        );

        /// Connects, applies migrations, purges what has expired in the background, and serves
        /// until Ctrl-C or SIGTERM.
        pub async fn run(config: Config) -> anyhow::Result<()> {
            let db = $crate::server::open(&config.database_url).await?;
            let state = AppState::new(db.clone(), &config)?;
            let purge = $purge(db.clone(), state.clock.clone());
            SURFACE.serve(config.port, db, state, purge).await
        }
    };
}

/// What a service serves and documents: its name (in logs and metrics), its routes, and the
/// errors documented on all of them. Each service has one, and its `openapi()` and `app()` are
/// this surface's.
pub struct Surface<S> {
    pub service: &'static str,
    pub router: fn() -> utoipa_axum::router::OpenApiRouter<S>,
    pub errors: ErrorDocs,
}

impl<S: Clone + Send + Sync + 'static> Surface<S>
where
    Metrics: FromRef<S>,
{
    /// The service's metrics registry, labelled with its name (with `db`, its pool too).
    pub fn metrics(&self, token: Option<&str>, db: Option<crate::Db>) -> Metrics {
        Metrics::new(self.service, token, db)
    }

    /// The service's finished OpenAPI document.
    pub fn openapi(&self) -> OpenApi {
        document((self.router)(), self.errors)
    }

    /// The service's whole HTTP surface: its routes over `state`, `/openapi.json` and Swagger UI
    /// at `/docs`, `/metrics` from the state's registry, and the shared layers of
    /// [`crate::server::finish`], all inside the metrics layer.
    pub fn app(&self, state: S) -> axum::Router {
        let metrics = Metrics::from_ref(&state);
        let (routes, _) = (self.router)().split_for_parts();
        let routes = routes
            .with_state(state)
            .merge(swagger_ui(self.openapi()))
            .merge(metrics.routes());
        crate::server::finish(routes, self.service).layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
    }

    /// Runs `background` beside the service on `PORT`, until Ctrl-C or SIGTERM; then closes `db`.
    pub async fn serve(
        &self,
        port: u16,
        db: crate::Db,
        state: S,
        background: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tokio::spawn(background);
        crate::server::run(self.service, port, db, self.app(state)).await
    }
}
