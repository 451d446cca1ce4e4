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
use protocol::room_from_path;
use tower_http::services::ServeDir;

use crate::{http::headers::content_security_policy, realtime::flood::Flood, server_fns};

/// What rendering a page needs: the site's options and the server functions' backend (the page
/// reads its first history page through it).
#[derive(Clone)]
struct Site {
    options: LeptosOptions,
    backend: Handle,
}

/// The room pages, each a read of the room's history that counts against its address's limits
/// like a history page over `/api` ([`server_fns::within_limits`]); the static files, which
/// read nothing, do not.
pub fn routes(options: LeptosOptions, backend: Handle, flood: Flood) -> Router {
    let site_root = options.site_root.to_string();
    Router::new()
        .route("/", get(room_page))
        .route("/sala/{room}", get(room_page))
        .route_layer(axum::middleware::from_fn_with_state(
            flood,
            server_fns::within_limits,
        ))
        .fallback_service(
            ServeDir::new(site_root)
                .precompressed_br()
                .precompressed_gzip()
                .not_found_service(get(not_found)),
        )
        .with_state(Site { options, backend })
}

async fn room_page(State(Site { options, backend }): State<Site>, request: Request) -> Response {
    let Ok(room) = room_from_path(request.uri().path()) else {
        return not_found().await.into_response();
    };
    // Leptos puts it on the hydration script and every script it streams; the policy allows
    // no other inline script.
    let nonce = Nonce::new();
    let policy = content_security_policy(&nonce);
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

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, "No encontrado")
}
