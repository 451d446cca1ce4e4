//! The built site inside the binary (feature `embedded-site`): `scp server host: && ./server`
//! serves the page with no folder beside it. The default build reads the site from
//! `--site-root` instead, as cargo-leptos lays it out, so that a rebuilt site needs no rebuilt
//! binary and `cargo leptos watch` can replace files under a running server.
//!
//! Not a crate of our own: `rust-embed` reads the folder at compile time (`target/site/`, so
//! `cargo leptos build --release --precompress` comes first; without it the build fails saying
//! the folder is missing), and gives each file its MIME type and SHA-256, which serve as its
//! ETag.
//!
//! As from a folder, a file's `.br` (`--precompress`) goes to clients that accept brotli and
//! the `.gz` is left out (`crate::page`'s `site_files` says why).

use axum::{
    http::{header, HeaderMap, HeaderValue, Method},
    response::Response,
};

use super::content_coding::{accepts_brotli, representation};

#[derive(rust_embed::RustEmbed)]
#[folder = "../target/site/"]
#[exclude = "*.gz"]
struct Site;

/// The embedded file at `path` (a request's path), or `None` if there is none or `method` does
/// not read files.
pub fn file(method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let path = path.trim_start_matches('/');
    let file = Site::get(path)?;
    let mime = HeaderValue::try_from(file.metadata.mimetype()).ok()?;
    let brotli = accepts_brotli(headers)
        .then(|| Site::get(&format!("{path}.br")))
        .flatten();
    let (file, encoding) = match brotli {
        Some(compressed) => (compressed, Some(HeaderValue::from_static("br"))),
        None => (file, None),
    };
    let hash: String = file
        .metadata
        .sha256_hash()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let etag = HeaderValue::try_from(format!("\"{hash}\"")).ok()?;
    let content_type = HeaderMap::from_iter([(header::CONTENT_TYPE, mime)]);
    Some(representation(
        headers,
        etag,
        content_type,
        encoding,
        file.data,
    ))
}
