//! The server side of the app's server functions (history pages, the no-JavaScript form):
//! [`Backend`] over the store and the Socket.IO handle, and the route that serves them.

use std::sync::Arc;

use app::server_fns::{
    backend::{Backend, BackendError, BoxFuture, Handle},
    HistoryPage, PostMessage,
};
use axum::{
    extract::{Request, State},
    http::{header::RETRY_AFTER, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use leptos::{prelude::provide_context, server_fn::ServerFn};
use protocol::{check_message, check_room, HandshakeError, Rejection, DEFAULT_NAME, HISTORY_PAGE};
use socketioxide::{adapter::Adapter, SocketIo};
use tower_http::limit::RequestBodyLimitLayer;
use tracing::{debug, error};

use crate::{
    chat::{
        delivery::{publish_message, Audience},
        Chat,
    },
    flood::{Act, AddressRefusal, Flood},
    store::NewMessage,
};

/// The largest body `/api/*` reads: a form post of a message as long as the default allows
/// ([`DEFAULT_MAX_MESSAGE_CHARS`](protocol::DEFAULT_MAX_MESSAGE_CHARS) characters of up to
/// [`MAX_UTF8_BYTES`](protocol::MAX_UTF8_BYTES) bytes, each byte percent-encoded as 3) and its
/// room fits with room to spare.
const MAX_API_BODY_BYTES: usize = 32 * 1024;

pub struct ChatBackend<A: Adapter> {
    pub chat: Chat,
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
            let store = &self.chat.store;
            let offset = store.latest_offset(&room).await.map_err(unavailable)?;
            let below = before.unwrap_or(i64::MAX).min(offset + 1);
            let messages = store
                .before(&room, Some(below), HISTORY_PAGE)
                .await
                .map_err(unavailable)?
                .iter()
                .map(|message| message.as_seen_by(None))
                .collect();
            Ok(HistoryPage { messages, offset })
        })
    }

    fn post(&self, room: String, text: String) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            let room = check_room(&room)?;
            let text = check_message(&text, self.chat.limits.max_message_chars)?;
            let Some(everyone) = self.io.of("/") else {
                return Err(protocol::Rejection::Unavailable.into());
            };
            // Nobody is anybody without JavaScript: each post is a person of its own.
            let person = self.chat.issuer.issue().person;
            let message = NewMessage {
                room: &room,
                user: DEFAULT_NAME,
                person: &person,
                text: &text,
                client_offset: None,
            };
            let audience = Audience {
                others: everyone.clone().to(room.clone()),
                sender: None,
                everyone,
            };
            publish_message(&self.chat, audience, message)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }
}

fn unavailable(failure: crate::store::StoreError) -> BackendError {
    error!(error = %failure, "store unavailable");
    protocol::Rejection::Unavailable.into()
}

/// `/api/*`: where the browser (or a plain form) calls server functions. Each call takes from
/// its address's flood limits first — a form post is a message, anything else a read — and its
/// body is bounded.
pub fn routes(backend: Handle, flood: Flood) -> Router {
    Router::new()
        .route(
            "/api/{*fn_name}",
            post(move |request| {
                let backend = backend.clone();
                leptos_axum::handle_server_fns_with_context(
                    move || provide_context(backend.clone()),
                    request,
                )
            }),
        )
        .layer(axum::middleware::from_fn_with_state(flood, within_limits))
        .layer(RequestBodyLimitLayer::new(MAX_API_BODY_BYTES))
}

/// Lets a server-function call (or a room page) through if its address is within its limits;
/// else `429` with the reason, as the socket would have said it.
pub(crate) async fn within_limits(
    State(flood): State<Flood>,
    request: Request,
    next: Next,
) -> Response {
    let act = if request.uri().path() == <PostMessage as ServerFn>::PATH {
        Act::Message
    } else {
        Act::Request
    };
    let (parts, body) = request.into_parts();
    let address = flood.address_of(&parts);
    match flood.allow_address(address, act) {
        Ok(()) => next.run(Request::from_parts(parts, body)).await,
        Err(refusal) => {
            debug!(?address, ?act, ?refusal, "server function call refused");
            let (wait, reason) = match refusal {
                AddressRefusal::TooFast => ("1", Rejection::TooFast.to_string()),
                AddressRefusal::CoolingDown => ("10", HandshakeError::CoolingDown.to_string()),
            };
            (StatusCode::TOO_MANY_REQUESTS, [(RETRY_AFTER, wait)], reason).into_response()
        }
    }
}
