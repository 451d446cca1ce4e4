//! Socket.IO: the layer that speaks Engine.IO v4 / Socket.IO v5, admission, and one module per
//! event.

mod changes;
pub mod cluster;
pub mod flood;
mod handshake;
mod history;
mod in_order;
pub mod messages;
mod presence;
mod typing;

use std::sync::Arc;

use protocol::{
    Ack, ChatMessage, Rejection, DELETE_MESSAGE, EDIT_MESSAGE, HISTORY, HISTORY_SKIPPED, IDENTITY,
    MESSAGE_CHANGED, NEW_MESSAGE, ROOMS, STOP_TYPING, TYPING,
};
use socketioxide::{
    adapter::{Adapter, LocalAdapter},
    extract::{AckSender, SocketRef, State},
    handler::ConnectHandler,
    layer::SocketIoLayer,
    socket::DisconnectReason,
    SocketIo, SocketIoBuilder,
};
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::{http::transports::Transports, identity::Issuer, metrics::Metrics, store::Store};
use cluster::{ClusterError, ClusterIo, Link};
use flood::{Act, Flood, Sender};
use in_order::InOrder;
pub use presence::Presence;
use typing::Typing;

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
    pub issuer: Issuer,
    pub transports: Transports,
    /// In a cluster, a room every socket of this node joins: a broadcast that excepts it reaches
    /// the other nodes' sockets only (this node's get a message before it goes to Redis, which
    /// may fail: `messages`).
    pub node_room: Option<String>,
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
    mut realtime: Realtime,
    redis_url: &str,
) -> Result<(SocketIoLayer<cluster::Adapter>, ClusterIo), ClusterError> {
    // A control character first: no room or tag is named like it.
    realtime.node_room = Some(format!("\u{1}node\u{1}{}", crate::identity::new_secret()));
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

/// How long a new Engine.IO session may go without joining the namespace before the engine
/// closes it (socketioxide's default is 45 s): a client joins within milliseconds, and a session
/// that never does holds a place among its address's connections for nothing.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn configured(realtime: &Realtime) -> SocketIoBuilder<LocalAdapter> {
    let frame = realtime.limits.max_frame_bytes;
    SocketIo::builder()
        .req_path(crate::http::ENGINE_PATH)
        .connect_timeout(CONNECT_TIMEOUT)
        .max_payload(frame as u64)
        .ws_max_message_size(frame)
        .ws_max_frame_size(frame)
        .max_buffer_size(MAX_BUFFERED_PACKETS)
        // A client that cannot take a packet (it stopped reading) is closed at that packet, on
        // whichever path it came — a message from this node or another, a replay, an ack — so
        // it holds everything before it and resumes from there; it never silently misses one.
        .close_on_full_buffer(true)
        .ws_read_buffer_size(WS_READ_BUFFER_BYTES)
}

async fn on_connect<A: Adapter>(socket: SocketRef<A>, State(realtime): State<Realtime>) {
    let session = handshake::session_of(&socket);
    let identity = &session.identity;
    info!(id = %socket.id, name = %identity.name, room = %identity.room, transport = ?socket.transport_type(), "user connected");
    let sender = Arc::new(realtime.flood.sender(handshake::admission_of(&socket)));

    // Handlers first, before any await: the client may send as soon as it is admitted.
    // Writes, in one queue: a person's edit or deletion never overtakes their message. Each
    // counts against their message rate.
    let writes = Arc::new({
        let (session, realtime) = (session.clone(), realtime.clone());
        let (admitting, refusing, sending) = (sender.clone(), realtime.clone(), sender.clone());
        let flood = realtime.flood.clone();
        InOrder::new(
            move |event: in_order::Event<A>| {
                let (session, realtime) = (session.clone(), realtime.clone());
                async move {
                    if event.name() == NEW_MESSAGE {
                        messages::relay(event, session, realtime).await
                    } else {
                        changes::relay(event, session, realtime).await
                    }
                }
            },
            move |_| flood.allow(&admitting, Act::Message),
            move |event, reason| messages::refuse(event, reason, &refusing, &sending),
        )
    });
    for event in [NEW_MESSAGE, EDIT_MESSAGE, DELETE_MESSAGE] {
        socket.on(event, writes.route(event));
    }
    let typing = Arc::new(Typing::default());
    for event in [TYPING, STOP_TYPING] {
        let (session, sender, typing) = (session.clone(), sender.clone(), typing.clone());
        socket.on(
            event,
            async move |socket: SocketRef<A>, State(realtime): State<Realtime>| {
                typing::relay(socket, &realtime, &session, &sender, &typing, event).await
            },
        );
    }
    let asking = sender.clone();
    socket.on(
        ROOMS,
        async move |ack: AckSender<A>, io: SocketIo<A>, State(realtime): State<Realtime>| {
            let address = realtime.flood.address_of_sender(&asking);
            match realtime.flood.allow_address(address, Act::Request) {
                Ok(()) => ack.send(&*realtime.presence.rooms(&io).await).ok(),
                // Answered all the same: the page's request must not wait for a reply that never
                // comes.
                Err(_) => ack.send(&Ack::rejected(Rejection::TooFast)).ok(),
            };
        },
    );
    socket.on_disconnect(on_disconnect);
    realtime.metrics.connected();

    // Before anything names people: the client learns which of them it is.
    socket.emit(IDENTITY, &session.credentials).ok();
    socket.join(identity.room.clone());
    if let Some(node_room) = &realtime.node_room {
        socket.join(node_room.clone());
    }
    let address = handshake::admission_of(&socket).address();
    realtime.presence.arrive(&socket, &session, address).await;
    if let Some(offset) = identity.offset {
        let Some(recent) = history::recent(&realtime.store, &identity.room, offset).await else {
            return;
        };
        if let Some(skipped) = recent.skipped {
            socket.emit(HISTORY_SKIPPED, &skipped).ok();
        }
        // Half the frame limit leaves room for the packet's framing and escaping.
        let max_event_bytes = realtime.limits.max_frame_bytes / 2;
        let me = Some(session.person());
        history::send_in_batches(&recent.messages, max_event_bytes, |batch| {
            let seen: Vec<ChatMessage> = batch.iter().map(|m| m.as_seen_by(me)).collect();
            std::future::ready(socket.emit(HISTORY, &seen).is_ok())
        })
        .await;
        for change in &recent.changes {
            if socket.emit(MESSAGE_CHANGED, change).is_err() {
                break;
            }
        }
    }
}

/// How long a session that left its namespace (or was cut off) has to close itself, before the
/// server closes it.
const GOODBYE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Cuts off a connection that went on acting over its limits (a Socket.IO "disconnect": the
/// official client does not come back by itself), and starts its address's cool-down.
fn cut_off<A: Adapter>(socket: &SocketRef<A>, realtime: &Realtime, sender: &Sender) {
    warn!(id = %socket.id, "flooding: disconnected");
    realtime.metrics.flood_disconnect();
    realtime.flood.cut_off(sender);
    socket.clone().disconnect().ok();
}

async fn on_disconnect<A: Adapter>(
    socket: SocketRef<A>,
    reason: DisconnectReason,
    State(realtime): State<Realtime>,
) {
    let session = handshake::session_of(&socket);
    info!(id = %socket.id, %reason, "user disconnected");
    realtime.metrics.disconnected();
    if reason == DisconnectReason::BufferFull {
        // Called once the session's websocket writer has let go: the peer read again, or it
        // read nothing and the kernel gave up on it (`Config::stalled_reader_seconds`). The
        // connection itself is closed, so that a client still there sees it and comes back.
        warn!(id = %socket.id, "a client cannot keep up: closing its connection, it resumes from what it has");
        realtime.metrics.slow_reader_closed();
        realtime.transports.close(&socket);
    }
    // Left the namespace, or cut off by the server, but with its Engine.IO session still open:
    // a well-behaved client closes it at once (the official ones do); it is closed anyway a
    // moment later — not at once: the goodbye, or the client's own close, must get through.
    if matches!(
        reason,
        DisconnectReason::ClientNSDisconnect | DisconnectReason::ServerNSDisconnect
    ) {
        let (socket, transports) = (socket.clone(), realtime.transports.clone());
        tokio::spawn(async move {
            tokio::time::sleep(GOODBYE_GRACE).await;
            transports.close(&socket);
        });
    }
    let address = handshake::admission_of(&socket).address();
    realtime.presence.depart(&socket, &session, address).await;
}
