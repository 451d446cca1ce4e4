//! Security headers for every response, a Content-Security-Policy for the chat pages, and
//! compression of what the site serves.

use axum::{
    http::{header, HeaderName, HeaderValue},
    Router,
};
use leptos::nonce::Nonce;
use tower_http::{compression::CompressionLayer, set_header::SetResponseHeaderLayer};

/// The policy of a chat page: its own scripts, the one inline hydration script carrying this
/// response's nonce, WebAssembly compiled from its own module, its own styles (and the inline
/// `style` attributes that colour names), connections to its own origin (websocket included);
/// nothing else, and no framing.
pub fn content_security_policy(nonce: &Nonce) -> HeaderValue {
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
         form-action 'self'"
    );
    HeaderValue::try_from(policy).expect("a base64url nonce makes a valid header value")
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
