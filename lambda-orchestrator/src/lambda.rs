//! The orchestrator inside AWS Lambda: API Gateway events routed to the same router.

use axum::Router;
use axum::response::Response;

/// Wraps the router for Lambda: API Gateway REST events carry the stage in the path
/// (`/dev/orchestrator/...`); it is removed before routing.
pub fn lambda_service(
    app: Router,
) -> impl tower::Service<
    lambda_http::Request,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<Response, std::convert::Infallible>> + Send,
> + Clone
+ Send {
    tower::ServiceBuilder::new()
        .map_request(strip_stage)
        .service(app.into_service::<lambda_http::Body>())
}

fn strip_stage(mut req: lambda_http::Request) -> lambda_http::Request {
    use lambda_http::request::RequestContext;
    let stage = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.stage.clone(),
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.stage.clone(),
        _ => None,
    };
    let Some(stage) = stage.filter(|s| s != "$default") else {
        return req;
    };
    let prefix = format!("/{stage}");
    let path = req.uri().path();
    if let Some(rest) = path.strip_prefix(&prefix).filter(|r| r.starts_with('/')) {
        let rest = match req.uri().query() {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_owned(),
        };
        if let Ok(uri) = rest.parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}
