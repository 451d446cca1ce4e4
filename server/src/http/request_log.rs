//! The request log: one line per HTTP request, at `info` — method, path, status and how long
//! until the response's headers — and nothing a request carried: not its query (a long-poll's
//! names its session, which is as good as holding it), not its body (a no-JavaScript form post
//! holds a message). Requests of the Socket.IO engine ([`is_engine_path`]) are logged at
//! `debug` only: one long-poll ends per message delivered to each polling client, and they would
//! bury everything else.

use std::time::Instant;

use axum::{extract::Request, middleware::Next, response::Response};
use tracing::{debug, enabled, info, Level};

use super::is_engine_path;

/// Logs `request` once its response is ready.
pub async fn log_request(request: Request, next: Next) -> Response {
    let engine = is_engine_path(request.uri().path());
    if engine && !enabled!(Level::DEBUG) {
        return next.run(request).await;
    }
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1e3;
    if engine {
        debug!(%method, path, status, duration_ms, "request");
    } else {
        info!(%method, path, status, duration_ms, "request");
    }
    response
}
