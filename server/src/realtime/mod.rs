//! Socket.IO: the layer that speaks Engine.IO v4 / Socket.IO v5, admission, and one module per
//! event.

pub mod cluster;
pub mod flood;
mod handshake;
mod history;
mod in_order;
pub mod messages;
mod presence;
mod typing;

use std::sync::Arc;

use app::protocol::{HISTORY, NEW_MESSAGE, ROOMS, STOP_TYPING, TYPING};
use socketioxide::{
    adapter::{Adapter, LocalAdapter},
    extract::{AckSender, SocketRef, State},
    handler::ConnectHandler,
    layer::SocketIoLayer,
    socket::DisconnectReason,
    SocketIo, SocketIoBuilder,
};
use tokio_util::task::TaskTracker;
use tracing::info;

use crate::{metrics::Metrics, store::Store};
use cluster::{ClusterError, ClusterIo, Link};
use flood::Flood;
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
    pub link: Link,
    pub presence: Presence,
    pub metrics: Metrics,
    pub flood: Flood,
    /// Messages being stored and relayed: a stopping server waits for them (within its grace
    /// period) so that none is cut off between its sender's event and the store.
    pub writes: TaskTracker,
}

/// A node's Socket.IO server: alone, or one of a cluster over Redis.
#[derive(Clone)]
pub enum Io {
    Single(SocketIo),
    Cluster(ClusterIo),
}

impl Io {
    /// Clients connected to this node (none once it is closed: `close` removes the namespace,
    /// which `SocketIo::sockets` would panic on).
    pub fn connections(&self) -> usize {
        match self {
            Io::Single(io) => io.of("/").map_or(0, |ns| ns.sockets().len()),
            Io::Cluster(io) => io.of("/").map_or(0, |ns| ns.sockets().len()),
        }
    }

    /// Disconnects this node's clients (they reconnect elsewhere) and stops accepting new ones.
    pub async fn close(&self) {
        match self {
            Io::Single(io) => io.close().await,
            Io::Cluster(io) => io.close().await,
        }
    }
}

/// Packets a socket may have waiting to be written: room for a long replay's `history` packets
/// (32 KiB each) and live traffic beside them.
const MAX_BUFFERED_PACKETS: usize = 1024;

/// A single node: rooms and broadcasts in this process's memory.
pub fn single(realtime: Realtime) -> (SocketIoLayer, SocketIo) {
    let (layer, io) = configured(&realtime).with_state(realtime).build_layer();
    io.ns("/", on_connect.with(handshake::identify));
    (layer, io)
}

/// One node of a cluster: rooms, broadcasts and presence shared through Redis at `redis_url`.
pub async fn cluster(
    realtime: Realtime,
    redis_url: &str,
) -> Result<(SocketIoLayer<cluster::Adapter>, ClusterIo), ClusterError> {
    let (adapter, reconnections) = cluster::connect(redis_url, &realtime.link).await?;
    let (layer, io) = configured(&realtime)
        .with_state(realtime.clone())
        .with_adapter::<cluster::Adapter>(adapter)
        .build_layer();
    io.ns("/", on_connect.with(handshake::identify))
        .await
        .map_err(|error| ClusterError::Subscribe(error.to_string()))?;
    reconnections.catch_up_on_reconnect(io.clone(), realtime);
    Ok((layer, io))
}

/// Each websocket keeps a read buffer this large for its whole life: chat messages are a few
/// hundred bytes, larger frames just take more reads, and 3 KiB less than engineioxide's default
/// is 3 KiB less per idle connection (docs/BENCHMARKS.md).
const WS_READ_BUFFER_BYTES: usize = 1024;

fn configured(realtime: &Realtime) -> SocketIoBuilder<LocalAdapter> {
    let frame = realtime.limits.max_frame_bytes;
    SocketIo::builder()
        .max_payload(frame as u64)
        .ws_max_message_size(frame)
        .ws_max_frame_size(frame)
        .max_buffer_size(MAX_BUFFERED_PACKETS)
        .ws_read_buffer_size(WS_READ_BUFFER_BYTES)
}

async fn on_connect<A: Adapter>(socket: SocketRef<A>, State(realtime): State<Realtime>) {
    let identity = handshake::identity_of(&socket);
    info!(id = %socket.id, name = %identity.name, room = %identity.room, transport = ?socket.transport_type(), "user connected");

    // Handlers first, before any await: the client may send as soon as it is admitted.
    socket.on(NEW_MESSAGE, {
        let (identity, realtime) = (identity.clone(), realtime.clone());
        let sender = Arc::new(realtime.flood.sender(handshake::admission_of(&socket)));
        let (admitting, refusing) = (sender.clone(), realtime.clone());
        let flood = realtime.flood.clone();
        InOrder::new(
            move |event| messages::relay(event, identity.clone(), realtime.clone()),
            move |_| flood.allow(&admitting),
            move |event, reason| messages::refuse(event, reason, &refusing, &sender),
        )
    });
    for event in [TYPING, STOP_TYPING] {
        let identity = identity.clone();
        socket.on(event, move |socket: SocketRef<A>| {
            typing::relay(socket, identity, event)
        });
    }
    socket.on(
        ROOMS,
        async |ack: AckSender<A>, io: SocketIo<A>, State(realtime): State<Realtime>| {
            ack.send(&*realtime.presence.rooms(&io).await).ok();
        },
    );
    socket.on_disconnect(on_disconnect);
    realtime.metrics.connected();

    socket.join(identity.room.clone());
    realtime.presence.arrive(&socket, &identity).await;
    if let Some(offset) = identity.offset {
        // Half the frame limit leaves room for the packet's framing and escaping.
        let max_event_bytes = realtime.limits.max_frame_bytes / 2;
        history::replay(
            &realtime.store,
            &identity.room,
            offset,
            max_event_bytes,
            |batch| std::future::ready(socket.emit(HISTORY, batch).is_ok()),
        )
        .await;
    }
}

async fn on_disconnect<A: Adapter>(
    socket: SocketRef<A>,
    reason: DisconnectReason,
    State(realtime): State<Realtime>,
) {
    let identity = handshake::identity_of(&socket);
    info!(id = %socket.id, %reason, "user disconnected");
    realtime.metrics.disconnected();
    realtime.presence.depart(&socket, &identity).await;
}
