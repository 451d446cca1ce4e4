//! Socket.IO: the layer that speaks Engine.IO v4 / Socket.IO v5, and one handler per event.

mod in_order;
mod messages;

use app::protocol::NEW_MESSAGE;
use socketioxide::{
    extract::{SocketRef, State},
    layer::SocketIoLayer,
    socket::DisconnectReason,
    SocketIo,
};
use tracing::info;

use in_order::InOrder;

/// What a client may send.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_message_chars: usize,
    /// Largest Engine.IO frame (websocket message or polling POST body). Enforced while reading,
    /// so an oversize frame is refused from its header and never buffered whole.
    pub max_frame_bytes: usize,
}

/// Builds the Socket.IO layer (mounted at `/socket.io/`) and registers the handlers.
pub fn layer(limits: Limits) -> (SocketIoLayer, SocketIo) {
    let (layer, io) = SocketIo::builder()
        .max_payload(limits.max_frame_bytes as u64)
        .ws_max_message_size(limits.max_frame_bytes)
        .ws_max_frame_size(limits.max_frame_bytes)
        .with_state(limits)
        .build_layer();
    io.ns("/", on_connect);
    (layer, io)
}

async fn on_connect(socket: SocketRef, State(limits): State<Limits>, io: SocketIo) {
    info!(id = %socket.id, transport = ?socket.transport_type(), "user connected");
    socket.on(
        NEW_MESSAGE,
        InOrder::new(
            move |event| messages::relay(event, limits, io.clone()),
            messages::refuse_overflow,
        ),
    );
    socket.on_disconnect(on_disconnect);
}

async fn on_disconnect(socket: SocketRef, reason: DisconnectReason) {
    info!(id = %socket.id, %reason, "user disconnected");
}
