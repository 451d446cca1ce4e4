//! Which content coding a client takes, and the answer for one representation, for the
//! responses the server compresses once ahead of time rather than per response: the official
//! client script ([`super::client_script`]), and the embedded build's site (`embedded_site`,
//! feature `embedded-site`). Written here because tower-http keeps the parser its `ServeDir`
//! and compression use private.

use axum::{
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

/// One representation of a resource: `304` to a client that holds its `etag`, else `body`
/// (in the coding `encoding` names, if any) with `headers` and the ETag. Either way with
/// `Vary: accept-encoding`, since which representation goes out depends on it.
pub fn representation(
    request: &HeaderMap,
    etag: HeaderValue,
    mut headers: HeaderMap,
    encoding: Option<HeaderValue>,
    body: impl IntoResponse,
) -> Response {
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if request.get(header::IF_NONE_MATCH) == Some(&etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, encoding);
    }
    (headers, body).into_response()
}

/// Whether `Accept-Encoding` lists `br` without `q=0`.
pub fn accepts_brotli(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            parts
                .next()
                .is_some_and(|name| name.eq_ignore_ascii_case("br"))
                && parts.all(|parameter| {
                    parameter
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_none_or(|q| q > 0.0)
                })
        })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn accepting(value: &'static str) -> HeaderMap {
        HeaderMap::from_iter([(header::ACCEPT_ENCODING, HeaderValue::from_static(value))])
    }

    #[test]
    fn brotli_is_sent_only_to_whoever_accepts_it() {
        assert!(accepts_brotli(&accepting("gzip, deflate, br, zstd")));
        assert!(accepts_brotli(&accepting("BR;q=0.5")));
        assert!(!accepts_brotli(&accepting("gzip, deflate")));
        assert!(!accepts_brotli(&accepting("gzip, br;q=0")));
        assert!(!accepts_brotli(&accepting("brotli")));
        assert!(!accepts_brotli(&HeaderMap::new()));
    }
}
