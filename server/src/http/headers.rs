//! Security headers for every response, a Content-Security-Policy for the chat pages, and
//! compression of what the site serves.

use axum::{
    http::{header, HeaderName, HeaderValue},
    Router,
};
use leptos::{config::LeptosOptions, nonce::Nonce};
use tower_http::{compression::CompressionLayer, set_header::SetResponseHeaderLayer};

/// The policy of a chat page: its own scripts, the one inline hydration script carrying this
/// response's nonce, WebAssembly compiled from its own module, its own styles (and the inline
/// `style` attributes that colour names), connections to its own origin (websocket included)
/// and, under `cargo leptos watch` only, to its reload server ([`live_reload`]); nothing else, and
/// no framing.
pub fn content_security_policy(nonce: &Nonce, live_reload: Option<&str>) -> HeaderValue {
    let reload = live_reload
        .map(|source| format!(" {source}"))
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'{reload}; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'"
    );
    HeaderValue::try_from(policy).expect("a base64url nonce and a checked host make a valid value")
}

/// The port `cargo leptos watch`'s reload server listens on, if the pages carry its script:
/// Leptos's `AutoReload` adds one exactly when `LEPTOS_WATCH` is set (cargo-leptos sets it).
pub fn reload_port(options: &LeptosOptions) -> Option<u32> {
    std::env::var_os("LEPTOS_WATCH")?;
    Some(options.reload_external_port.unwrap_or(options.reload_port))
}

/// Where the reload script connects from a page asked for as `host` (its `Host` header), as a
/// CSP source list: `ws://` (or, from an `https:` page, `wss://`) the page's own host name at
/// the reload `port`. A host that is not plainly a name (letters, digits, `.`, `-`, an IPv6
/// literal) gets none: the header never carries whatever a client put in its request.
pub fn live_reload(port: Option<u32>, host: Option<&str>) -> Option<String> {
    let (port, host) = (port?, host?);
    let name = match host.rsplit_once(':') {
        Some((name, digits)) if digits.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    plain.then(|| format!("ws://{name}:{port} wss://{name}:{port}"))
}

/// The headers every response gets unless it set its own.
pub fn secured(router: Router) -> Router {
    let headers: [(HeaderName, &str); 4] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
    ];
    headers.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    })
}

/// gzip or brotli, as the client accepts, for HTML, JS, WASM and CSS (files already stored
/// compressed are served as they are). Not for Socket.IO's own traffic: clients outside
/// browsers do not all decode it.
pub fn compressed(router: Router) -> Router {
    router.layer(CompressionLayer::new().gzip(true).br(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reload_server_is_allowed_only_under_watch_and_only_at_the_pages_host() {
        assert_eq!(live_reload(None, Some("127.0.0.1:3000")), None);
        assert_eq!(
            live_reload(Some(3001), Some("127.0.0.1:3000")).as_deref(),
            Some("ws://127.0.0.1:3001 wss://127.0.0.1:3001")
        );
        assert_eq!(
            live_reload(Some(3001), Some("[::1]:3000")).as_deref(),
            Some("ws://[::1]:3001 wss://[::1]:3001")
        );
        assert_eq!(
            live_reload(Some(3001), Some("localhost")).as_deref(),
            Some("ws://localhost:3001 wss://localhost:3001")
        );
        for forged in ["evil.example; script-src *", "a b", "", "x/y", "*"] {
            assert_eq!(live_reload(Some(3001), Some(forged)), None, "{forged}");
        }
        let nonce = Nonce::new();
        let production = content_security_policy(&nonce, None);
        assert!(production
            .to_str()
            .unwrap()
            .contains("connect-src 'self'; "));
    }
}
