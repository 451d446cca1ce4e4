//! Which content coding a client takes, for the responses the server compresses once ahead of
//! time rather than per response: the official client script, and the embedded build's site.
//! Written here because tower-http keeps the parser its `ServeDir` and compression use private.

use axum::http::{header, HeaderMap};

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
