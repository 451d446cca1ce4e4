//! The chat page, rendered by Leptos on the server, plus the built site's static files.

use app::shell;
use axum::{http::StatusCode, routing::get, Router};
use leptos::config::LeptosOptions;
use tower_http::services::ServeDir;

pub fn routes(options: LeptosOptions) -> Router {
    let site_root = options.site_root.to_string();
    let render = leptos_axum::render_app_to_stream(move || shell(options.clone()));
    Router::new().route("/", get(render)).fallback_service(
        ServeDir::new(site_root)
            .precompressed_br()
            .precompressed_gzip()
            .not_found_service(get(|| async { (StatusCode::NOT_FOUND, "No encontrado") })),
    )
}
