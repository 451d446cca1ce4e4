//! For whoever runs the chat: `/healthz` (the process answers), `/readyz` (it can do its job:
//! the store answers, and in a cluster the link to Redis is up) and `/metrics` (Prometheus).

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::IntoResponse,
    routing::get,
    Json, Router,
};
use serde::Serialize;

use crate::chat::Chat;

pub fn routes(chat: Chat) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(chat)
}

/// Each dependency's state, as `/readyz` reports it.
#[derive(Debug, Serialize)]
struct Readiness {
    store: Check,
    adapter: Check,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum Check {
    Ok,
    Unavailable,
}

impl Check {
    fn of(ok: bool) -> Self {
        if ok {
            Check::Ok
        } else {
            Check::Unavailable
        }
    }
}

async fn ready(State(chat): State<Chat>) -> impl IntoResponse {
    let store = chat.store.ping().await;
    if let Err(error) = &store {
        tracing::warn!(%error, "not ready: the store does not answer");
    }
    // The link is always up on a single node (no Redis to lose).
    let readiness = Readiness {
        store: Check::of(store.is_ok()),
        adapter: Check::of(chat.link.is_up()),
    };
    let status = match readiness {
        Readiness {
            store: Check::Ok,
            adapter: Check::Ok,
        } => StatusCode::OK,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(readiness))
}

async fn metrics(State(chat): State<Chat>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        chat.metrics.render(),
    )
}
