//! Cross-site requests refused: a Socket.IO handshake, or a form or server-function POST, whose
//! `Origin` is neither the site itself nor on the allow-list gets `403`. Another site's page
//! could otherwise chat in a visitor's name from the visitor's browser.
//!
//! A request without `Origin` passes: browsers send it on every websocket and every cross-origin
//! or POST request, so its absence means a same-origin read or a client that is not a browser
//! (a bot, a test, the official clients outside browsers), which origin checks do not concern.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The origins allowed besides the site's own, as `scheme://host[:port]`.
#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins(Arc<Vec<String>>);

impl AllowedOrigins {
    pub fn new(origins: &[String]) -> Self {
        let origins = origins
            .iter()
            .map(|origin| origin.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|origin| !origin.is_empty())
            .collect();
        Self(Arc::new(origins))
    }

    /// Whether a request with these headers may go on.
    fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let origin = origin.to_ascii_lowercase();
        same_site(&origin, headers) || self.0.contains(&origin)
    }
}

/// The origin names the host the request was sent to (any scheme: behind a TLS-terminating proxy
/// the server sees plain HTTP for an `https://` page).
fn same_site(origin: &str, headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(str::to_ascii_lowercase);
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((origin_host, host), (Some(origin_host), Some(host)) if origin_host == host)
}

/// Applies to what can act for a visitor: Socket.IO (every request of a session, whichever way
/// its path is spelled) and POSTs.
fn guarded(request: &Request) -> bool {
    super::is_engine_path(request.uri().path()) || request.method() == Method::POST
}

pub async fn check_origin(
    State(allowed): State<AllowedOrigins>,
    request: Request,
    next: Next,
) -> Response {
    if guarded(&request) && !allowed.admits(request.headers()) {
        tracing::info!(origin = ?request.headers().get(header::ORIGIN), path = %request.uri().path(), "cross-site request refused");
        return (StatusCode::FORBIDDEN, "Origen no permitido").into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, host.parse().unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, origin.parse().unwrap());
        }
        headers
    }

    #[test]
    fn the_site_itself_and_the_list_are_allowed_nobody_else() {
        let allowed = AllowedOrigins::new(&["https://chat.example.org/".into()]);
        let host = "127.0.0.1:3000";
        assert!(allowed.admits(&headers(None, host)));
        assert!(allowed.admits(&headers(Some("http://127.0.0.1:3000"), host)));
        assert!(allowed.admits(&headers(Some("https://127.0.0.1:3000"), host)));
        assert!(allowed.admits(&headers(Some("https://Chat.Example.org"), host)));
        assert!(!allowed.admits(&headers(Some("http://evil.example"), host)));
        assert!(!allowed.admits(&headers(Some("http://127.0.0.1:3001"), host)));
        assert!(!allowed.admits(&headers(Some("null"), host)));
    }
}
