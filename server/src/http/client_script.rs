//! The official browser client at [`CLIENT_SCRIPT_FULL_PATH`] and [`CLIENT_SCRIPT_PATH`],
//! served by the server as Node's socket.io does, so pages written for the original (the seed's
//! chat.html) work unchanged.
//!
//! The minified one, which the chat's page loads, goes to clients that accept brotli compressed
//! once at brotli's best quality (13.3 KB against 15.5 KB from the per-response compression,
//! `docs/BENCHMARKS.md`, "First load"); the response compression still serves everyone else.

use std::sync::LazyLock;

use axum::{
    body::Bytes,
    http::{header, HeaderMap, HeaderValue},
    response::Response,
    routing::get,
    Router,
};
use protocol::{CLIENT_SCRIPT_FULL_PATH, CLIENT_SCRIPT_PATH};

use super::content_coding::{accepts_brotli, representation};

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
/// As in Node's socket.io, the client's version is its ETag; its brotli copy has its own.
const ETAG: &str = concat!("\"", client_version!(), "\"");
const BROTLI_ETAG: &str = concat!("\"", client_version!(), "-br\"");

/// [`MINIFIED`] at brotli's quality 11, made at the first request that takes it (≈ 0.1 s of
/// CPU, once).
static MINIFIED_BROTLI: LazyLock<Bytes> = LazyLock::new(|| {
    let mut compressed = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut MINIFIED.as_bytes(), &mut compressed, &params)
        .expect("compressing into memory cannot fail");
    Bytes::from(compressed)
});

pub fn routes() -> Router {
    Router::new()
        .route(
            CLIENT_SCRIPT_FULL_PATH,
            get(|h: HeaderMap| async move {
                script(&h, Bytes::from_static(FULL.as_bytes()), ETAG, None)
            }),
        )
        .route(
            CLIENT_SCRIPT_PATH,
            get(|h: HeaderMap| async move {
                if accepts_brotli(&h) {
                    script(&h, MINIFIED_BROTLI.clone(), BROTLI_ETAG, Some("br"))
                } else {
                    script(&h, Bytes::from_static(MINIFIED.as_bytes()), ETAG, None)
                }
            }),
        )
}

/// `body`, already in `encoding` (`None`: as is), as [`representation`] answers.
fn script(
    request: &HeaderMap,
    body: Bytes,
    etag: &'static str,
    encoding: Option<&'static str>,
) -> Response {
    let headers = HeaderMap::from_iter([
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/javascript; charset=utf-8"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=0"),
        ),
    ]);
    let encoding = encoding.map(HeaderValue::from_static);
    representation(
        request,
        HeaderValue::from_static(etag),
        headers,
        encoding,
        body,
    )
}
