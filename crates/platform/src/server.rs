//! Serving a service: the layers every part shares, binding, health and graceful shutdown.

use std::net::SocketAddr;

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, middleware};
use serde::Serialize;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::ToSchema;

use crate::ErrorCode;
use crate::db::{Db, DbOptions};
use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use crate::telemetry;

/// Adds what every API shares: problem+json for unknown routes and methods, the body limit,
/// correlation ids, trace context and request logs (as part `service`), security headers, and a
/// 500 problem for a panic.
pub fn finish(router: Router, service: &'static str) -> Router {
    router
        .fallback(|| async { ApiError::not_found(ErrorCode::NotFound, "no such route") })
        .method_not_allowed_fallback(|| async {
            let mut resp =
                ApiError::BadRequest("method not allowed on this route".to_owned()).into_response();
            *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            resp
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(middleware::from_fn_with_state(
            service,
            telemetry::correlate,
        ))
}

/// The body of `GET /health`.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the database does not answer.
    #[schema(example = "ok")]
    pub status: String,
}

/// Health: 200 when the database answers, 503 otherwise.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health, description = "The database is unreachable")))]
pub async fn health(State(db): State<Db>) -> Response {
    let (code, status) = match db.ping().await {
        true => (StatusCode::OK, "ok"),
        false => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    (
        code,
        Json(Health {
            status: status.to_owned(),
        }),
    )
        .into_response()
}

/// An API's database: connected with the default options, pending migrations applied.
pub async fn open(database_url: &str) -> anyhow::Result<Db> {
    let db = Db::connect(database_url, &DbOptions::default()).await?;
    db.migrate().await?;
    Ok(db)
}

/// Serves an API's `app` on `port` until Ctrl-C or SIGTERM, then closes its pool.
pub async fn run(service: &str, port: u16, db: Db, app: Router) -> anyhow::Result<()> {
    let listener = bind(port).await?;
    tracing::info!(port, backend = db.backend(), "{service} listening");
    serve(listener, app, shutdown_signal()).await?;
    db.close().await;
    Ok(())
}

/// Binds `0.0.0.0:port`, with one clear error when the port is taken.
pub async fn bind(port: u16) -> anyhow::Result<TcpListener> {
    bind_to(std::net::Ipv4Addr::UNSPECIFIED.into(), port).await
}

/// Listens on `ip` only (the all-in-one's `BIND_ADDRESS`).
pub async fn bind_to(ip: std::net::IpAddr, port: u16) -> anyhow::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from((ip, port)))
        .await
        .with_context(|| {
            format!("cannot listen on {ip} port {port} (is it already in use? set PORT)")
        })
}

/// Serves `app` on `listener` until `shutdown` completes, letting requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("server error")
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
