//! The official browser client at [`CLIENT_SCRIPT_FULL_PATH`] and [`CLIENT_SCRIPT_PATH`],
//! served by the server as Node's socket.io does, so pages written for the original (the seed's
//! chat.html) work unchanged.

use axum::{
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use protocol::{CLIENT_SCRIPT_FULL_PATH, CLIENT_SCRIPT_PATH};

/// The socket.io-client version vendored under `vendor/` (a macro, so `concat!` can use it).
macro_rules! client_version {
    () => {
        "4.8.4"
    };
}

macro_rules! vendored {
    ($file:literal) => {
        include_str!(concat!(
            "../../../vendor/socket.io-client-",
            client_version!(),
            "/",
            $file
        ))
    };
}

const FULL: &str = vendored!("socket.io.js");
const MINIFIED: &str = vendored!("socket.io.min.js");
/// As in Node's socket.io, the client's version is its ETag.
const ETAG: &str = concat!("\"", client_version!(), "\"");

pub fn routes() -> Router {
    Router::new()
        .route(
            CLIENT_SCRIPT_FULL_PATH,
            get(|h: HeaderMap| async move { script(&h, FULL) }),
        )
        .route(
            CLIENT_SCRIPT_PATH,
            get(|h: HeaderMap| async move { script(&h, MINIFIED) }),
        )
}

fn script(request: &HeaderMap, body: &'static str) -> Response {
    let etag = HeaderValue::from_static(ETAG);
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/javascript; charset=utf-8"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=0"),
        ),
        (header::ETAG, etag.clone()),
    ];
    if request.get(header::IF_NONE_MATCH) == Some(&etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (headers, body).into_response()
}
