//! Socket.IO: the layer that speaks Engine.IO v4 / Socket.IO v5, admission, and one module per
//! event.

mod handshake;
mod history;
mod in_order;
pub mod messages;
mod presence;
mod typing;

use app::protocol::{NEW_MESSAGE, ROOMS, STOP_TYPING, TYPING};
use socketioxide::{
    extract::{AckSender, SocketRef, State},
    handler::ConnectHandler,
    layer::SocketIoLayer,
    socket::DisconnectReason,
    SocketIo,
};
use tracing::info;

use crate::store::Store;
use in_order::InOrder;
pub use presence::Presence;

/// What a client may send.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_message_chars: usize,
    /// Largest Engine.IO frame (websocket message or polling POST body). Enforced while reading,
    /// so an oversize frame is refused from its header and never buffered whole.
    pub max_frame_bytes: usize,
}

/// Everything the handlers share.
#[derive(Clone)]
pub struct Realtime {
    pub limits: Limits,
    pub store: Store,
    pub presence: Presence,
}

/// Packets a socket may have waiting to be written: room for a long replay's `history` packets
/// (32 KiB each) and live traffic beside them.
const MAX_BUFFERED_PACKETS: usize = 1024;

/// Builds the Socket.IO layer (mounted at `/socket.io/`) and registers the handlers.
pub fn layer(realtime: Realtime) -> (SocketIoLayer, SocketIo) {
    let frame = realtime.limits.max_frame_bytes;
    let (layer, io) = SocketIo::builder()
        .max_payload(frame as u64)
        .ws_max_message_size(frame)
        .ws_max_frame_size(frame)
        .max_buffer_size(MAX_BUFFERED_PACKETS)
        .with_state(realtime)
        .build_layer();
    io.ns("/", on_connect.with(handshake::identify));
    (layer, io)
}

async fn on_connect(socket: SocketRef, State(realtime): State<Realtime>) {
    let identity = handshake::identity_of(&socket);
    info!(id = %socket.id, name = %identity.name, room = %identity.room, transport = ?socket.transport_type(), "user connected");

    // Handlers first, before any await: the client may send as soon as it is admitted.
    socket.on(NEW_MESSAGE, {
        let (identity, realtime) = (identity.clone(), realtime.clone());
        InOrder::new(
            move |event| messages::relay(event, identity.clone(), realtime.clone()),
            messages::refuse_overflow,
        )
    });
    for event in [TYPING, STOP_TYPING] {
        let identity = identity.clone();
        socket.on(event, move |socket: SocketRef| {
            typing::relay(socket, identity, event)
        });
    }
    socket.on(
        ROOMS,
        async |ack: AckSender, State(realtime): State<Realtime>| {
            ack.send(&realtime.presence.rooms()).ok();
        },
    );
    socket.on_disconnect(on_disconnect);

    socket.join(identity.room.clone());
    realtime.presence.arrive(&socket, &identity).await;
    if let Some(offset) = identity.offset {
        // Half the frame limit leaves room for the packet's framing and escaping.
        let max_event_bytes = realtime.limits.max_frame_bytes / 2;
        history::replay(
            &socket,
            &realtime.store,
            &identity.room,
            offset,
            max_event_bytes,
        )
        .await;
    }
}

async fn on_disconnect(
    socket: SocketRef,
    reason: DisconnectReason,
    State(realtime): State<Realtime>,
) {
    let identity = handshake::identity_of(&socket);
    info!(id = %socket.id, %reason, "user disconnected");
    realtime.presence.depart(&socket, &identity).await;
}
