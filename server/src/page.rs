//! The chat page of each room, rendered by Leptos on the server, plus the built site's static
//! files.

use app::{server_fns::backend::Handle, shell, CurrentRoom};
use axum::{
    extract::{Request, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use leptos::{config::LeptosOptions, nonce::Nonce, prelude::provide_context};
use protocol::{room_from_path, ROOM_PATH_PREFIX};
#[cfg(not(feature = "embedded-site"))]
use tower_http::{services::ServeDir, set_status::SetStatus};

use crate::{
    flood::Flood,
    http::headers::{content_security_policy, live_reload, reload_port},
    server_fns,
};

/// What rendering a page needs: the site's options and the server functions' backend (the page
/// reads its first history page through it).
#[derive(Clone)]
struct Site {
    options: LeptosOptions,
    backend: Handle,
    /// Under `cargo leptos watch`, where its reload server listens.
    reload_port: Option<u32>,
}

/// The room pages, each a read of the room's history that counts against its address's limits
/// like a history page over `/api` ([`server_fns::within_limits`]); the static files, which
/// read nothing, do not.
pub fn routes(options: LeptosOptions, backend: Handle, flood: Flood) -> Router {
    let site_root = options.site_root.to_string();
    Router::new()
        .route("/", get(room_page))
        .route(&format!("{ROOM_PATH_PREFIX}{{room}}"), get(room_page))
        .route_layer(axum::middleware::from_fn_with_state(
            flood,
            server_fns::within_limits,
        ))
        .fallback_service(site_files(&site_root))
        .with_state(Site {
            reload_port: reload_port(&options),
            options,
            backend,
        })
}

async fn room_page(
    State(Site {
        options,
        backend,
        reload_port,
    }): State<Site>,
    request: Request,
) -> Response {
    let Ok(room) = room_from_path(request.uri().path()) else {
        return not_found().await.into_response();
    };
    // Leptos puts it on the hydration script and every script it streams; the policy allows
    // no other inline script.
    let nonce = Nonce::new();
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    let policy = content_security_policy(&nonce, live_reload(reload_port, host).as_deref());
    // In order: the history is in the HTML where it belongs, readable without JavaScript.
    let render = leptos_axum::render_app_to_stream_in_order_with_context(
        move || {
            provide_context(CurrentRoom(room.clone()));
            provide_context(backend.clone());
            provide_context(nonce.clone());
        },
        move || shell(options.clone()),
    );
    let mut response = render(request).await;
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, policy);
    response
}

/// The built site's files: from `site_root`, or, built with `embedded-site`, from the binary.
///
/// A file's `.br` beside it (`cargo leptos build --release --precompress` writes them, at
/// brotli's best quality) goes to clients that accept brotli: the WASM is 22 % smaller than
/// gzip makes it (docs/BENCHMARKS.md, "First load"). Not the `.gz` written with them: its
/// encoder makes the WASM 16 % larger than the response compression's own gzip.
#[cfg(not(feature = "embedded-site"))]
fn site_files(site_root: &str) -> ServeDir<SetStatus<axum::routing::MethodRouter>> {
    ServeDir::new(site_root)
        .precompressed_br()
        .not_found_service(get(not_found))
}

#[cfg(feature = "embedded-site")]
fn site_files(_site_root: &str) -> axum::routing::MethodRouter {
    axum::routing::any(|request: Request| async move {
        let (parts, _) = request.into_parts();
        match crate::http::embedded_site::file(&parts.method, parts.uri.path(), &parts.headers) {
            Some(file) => file,
            None => not_found().await.into_response(),
        }
    })
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, "No encontrado")
}
