//! Serving a service: the layers every part shares, binding, health and graceful shutdown.

use std::net::SocketAddr;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, middleware};
use serde::Serialize;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::ToSchema;

use crate::db::Db;
use crate::extract::BODY_LIMIT;
use crate::telemetry;
use crate::{ApiError, ErrorCode};

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

/// Health of an API: 200 when its database answers, 503 otherwise.
pub async fn health(db: &Db) -> Response {
    if db.ping().await {
        Json(Health {
            status: "ok".to_owned(),
        })
        .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "unavailable".to_owned(),
            }),
        )
            .into_response()
    }
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

/// `<binary> healthcheck`: exits 0 when the service on `port` of this host answers `GET /health`
/// with 200. For container health checks, where images carry no curl.
pub async fn probe_health(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        stream
            .write_all(b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await
            .ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        Some(head.ends_with(b" 200"))
    };
    tokio::time::timeout(std::time::Duration::from_secs(3), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}
