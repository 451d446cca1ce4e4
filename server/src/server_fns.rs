//! The server side of the app's server functions (history pages, the no-JavaScript form):
//! `Backend` over the store and the Socket.IO handle, and the route that serves them.

use std::sync::Arc;

use app::{
    protocol::{check_message, check_room, DEFAULT_NAME, HISTORY_PAGE},
    server_fns::{
        backend::{Backend, BackendError, BoxFuture, Handle},
        HistoryPage,
    },
};
use axum::{routing::post, Router};
use leptos::prelude::provide_context;
use socketioxide::{adapter::Adapter, SocketIo};
use tracing::error;

use crate::{
    realtime::{messages::publish, Realtime},
    store::NewMessage,
};

pub struct ChatBackend<A: Adapter> {
    pub realtime: Realtime,
    pub io: SocketIo<A>,
}

impl<A: Adapter> ChatBackend<A> {
    pub fn handle(self) -> Handle {
        Handle(Arc::new(self))
    }
}

impl<A: Adapter> Backend for ChatBackend<A> {
    fn history(
        &self,
        room: String,
        before: Option<i64>,
    ) -> BoxFuture<'_, Result<HistoryPage, BackendError>> {
        Box::pin(async move {
            let room = check_room(&room)?;
            // The watermark first: anything stored after it reaches the page by replay.
            let store = &self.realtime.store;
            let offset = store.latest_offset(&room).await.map_err(unavailable)?;
            let below = before.unwrap_or(i64::MAX).min(offset + 1);
            let messages = store
                .before(&room, Some(below), HISTORY_PAGE)
                .await
                .map_err(unavailable)?;
            Ok(HistoryPage { messages, offset })
        })
    }

    fn post(&self, room: String, text: String) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            let room = check_room(&room)?;
            let text = check_message(&text, self.realtime.limits.max_message_chars)?;
            let Some(everyone) = self.io.of("/") else {
                return Err(app::protocol::Rejection::Unavailable.into());
            };
            let message = NewMessage {
                room: &room,
                user: DEFAULT_NAME,
                text: &text,
                client_offset: None,
            };
            publish(
                &self.realtime,
                everyone.clone().to(room.clone()),
                everyone,
                message,
            )
            .await
            .map_err(unavailable)?;
            Ok(())
        })
    }
}

fn unavailable(failure: crate::store::StoreError) -> BackendError {
    error!(error = %failure, "store unavailable");
    app::protocol::Rejection::Unavailable.into()
}

/// `/api/*`: where the browser (or a plain form) calls server functions.
pub fn routes(backend: Handle) -> Router {
    Router::new().route(
        "/api/{*fn_name}",
        post(move |request| {
            let backend = backend.clone();
            leptos_axum::handle_server_fns_with_context(
                move || provide_context(backend.clone()),
                request,
            )
        }),
    )
}
