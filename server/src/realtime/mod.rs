//! Socket.IO: the adapter from socket events to the [`chat`](crate::chat). The engine's settings
//! ([`single_node`], [`cluster_node`]), then per socket a routing table of named handlers
//! ([`routing_table`], a connect middleware), as socketioxide's own examples have it:
//!
//! - [`handshake`]: admission — the connect middleware checks the handshake, recognises or
//!   issues the identity, and keeps both on the socket for the handlers' `Extension` extractor;
//! - [`messages`] and [`changes`]: the socket's writes, queued in order per socket
//!   ([`in_order`]) and handed to [`chat::delivery`](crate::chat::delivery);
//! - [`typing`]: typing signals, volatile;
//! - [`presence`]: who is in each room, across nodes ([`presence::Roster`]);
//! - [`history`]: what a (re)connecting client missed, and a node's catch-up after an outage;
//! - [`mod@cluster`]: the Redis adapter and the link's state.

mod changes;
pub mod cluster;
mod handshake;
mod history;
mod in_order;
mod messages;
pub mod presence;
mod typing;

use std::{convert::Infallible, sync::Arc};

use protocol::{
    Ack, Rejection, DELETE_MESSAGE, EDIT_MESSAGE, IDENTITY, NEW_MESSAGE, ROOMS, STOP_TYPING, TYPING,
};
use socketioxide::{
    adapter::{Adapter, LocalAdapter},
    extract::{AckSender, Extension, SocketRef, State},
    handler::ConnectHandler,
    layer::SocketIoLayer,
    socket::DisconnectReason,
    SocketIo, SocketIoBuilder,
};
use socketioxide_core::adapter::DefinedAdapter;
use tracing::{info, warn};

use crate::{
    chat::Chat,
    flood::{Act, Pace},
};
use cluster::{ClusterError, ClusterIo};
use handshake::Session;
use in_order::{InOrder, Queued};
use presence::Stay;
use typing::Typing;

/// A node's Socket.IO server: alone, or one of a cluster over Redis.
#[derive(Clone)]
pub enum Io {
    Single(SocketIo),
    Cluster(ClusterIo),
}

impl Io {
    /// Clients connected to this node (none once it is closed: [`Io::close`] removes the namespace,
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
pub fn single_node(chat: Chat) -> (SocketIoLayer, SocketIo) {
    let (layer, io) = configured(&chat).with_state(chat).build_layer();
    open_namespace(&io);
    (layer, io)
}

/// One node of a cluster: rooms, broadcasts and presence shared through Redis at `redis_url`.
/// `chat` comes with its node's room ([`crate::chat::Shared::node_room`]): without one, its
/// broadcasts would stay on this node.
pub async fn cluster_node(
    chat: Chat,
    redis_url: &str,
) -> Result<(SocketIoLayer<cluster::Adapter>, ClusterIo), ClusterError> {
    debug_assert!(
        chat.node_room.is_some(),
        "a cluster node needs its node's room"
    );
    let (adapter, reconnections) = cluster::connect(redis_url, &chat.link).await?;
    let (layer, io) = configured(&chat)
        .with_state(chat.clone())
        .with_adapter::<cluster::Adapter>(adapter)
        .build_layer();
    open_namespace(&io)
        .await
        .map_err(|error| ClusterError::Subscribe(error.to_string()))?;
    reconnections.catch_up_on_reconnect(io.clone(), chat);
    Ok((layer, io))
}

/// A websocket's read buffer: chat messages are a few hundred bytes and larger frames just take
/// more reads. It is held while frames arrive, given back while the connection waits
/// (vendor/tungstenite-0.30.0/PATCH.md), and tungstenite zero-fills all of it before each read:
/// engineioxide's default, 4 KiB, would be four times that work per message.
const WS_READ_BUFFER_BYTES: usize = 1024;

/// How long a new Engine.IO session may go without joining the namespace before the engine
/// closes it (socketioxide's default is 45 s): a client joins within milliseconds, and a session
/// that never does holds a place among its address's connections for nothing.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn configured(chat: &Chat) -> SocketIoBuilder<LocalAdapter> {
    let frame = chat.limits.max_frame_bytes;
    SocketIo::builder()
        .req_path(protocol::ENGINE_PATH)
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

/// The chat's one namespace: each socket admitted ([`handshake::identify`]), given its handlers
/// ([`routing_table`]), then welcomed ([`on_connect`]). What the adapter answers: nothing for a
/// single node, whether Redis took the subscription for a cluster's.
fn open_namespace<A: Adapter + DefinedAdapter>(io: &SocketIo<A>) -> A::InitRes {
    // Middlewares run last-added first.
    io.ns(
        "/",
        on_connect.with(routing_table).with(handshake::identify),
    )
}

/// Connect middleware, after [`handshake::identify`]: the socket's routing table, a named
/// handler per event and its disconnect handler. A middleware, not the connect handler, because
/// socketioxide tells the client it is connected only once the middlewares are done, and runs the
/// connect handler afterwards in a task of its own: a client's first event (socket.io-client
/// sends what it queued while offline the moment it is connected) must find its handler.
async fn routing_table<A: Adapter>(
    socket: SocketRef<A>,
    Extension(session): Extension<Arc<Session>>,
    State(chat): State<Chat>,
) -> Result<(), Infallible> {
    let pace = Arc::new(chat.flood.pace(session.admission.clone()));
    socket.extensions.insert(pace.clone());
    socket.extensions.insert(Arc::new(Typing::default()));

    // A person's writes share one queue, so that an edit or a deletion never overtakes the
    // message it changes.
    let writes = Arc::new(InOrder::new(Writes {
        chat: chat.clone(),
        session: session.clone(),
        pace,
    }));
    socket.on(NEW_MESSAGE, writes.route(NEW_MESSAGE));
    socket.on(EDIT_MESSAGE, writes.route(EDIT_MESSAGE));
    socket.on(DELETE_MESSAGE, writes.route(DELETE_MESSAGE));
    socket.on(TYPING, typing::on_typing_signal);
    socket.on(STOP_TYPING, typing::on_typing_signal);
    socket.on(ROOMS, on_rooms);
    socket.on_disconnect(on_disconnect);
    Ok(())
}

/// A socket admitted ([`handshake::identify`]) and routed ([`routing_table`]): its [`welcome`].
async fn on_connect<A: Adapter>(
    socket: SocketRef<A>,
    Extension(session): Extension<Arc<Session>>,
    State(chat): State<Chat>,
) {
    info!(id = %socket.id, name = %session.identity.name, room = %session.identity.room, transport = ?socket.transport_type(), "user connected");
    welcome(&socket, &session, &chat).await;
}

/// A socket's writes, in the order it sent them ([`InOrder`]): messages
/// ([`messages::on_new_message`]), edits and deletions ([`changes::on_change`]). Each counts
/// against the sender's message rate.
struct Writes {
    chat: Chat,
    session: Arc<Session>,
    pace: Arc<Pace>,
}

impl<A: Adapter> in_order::Handler<A> for Writes {
    fn admit(&self, _: &Queued<A>) -> Result<(), Rejection> {
        self.chat.flood.allow(&self.pace, Act::Message)
    }

    fn refuse(&self, event: Queued<A>, reason: Rejection) {
        messages::refuse(event, reason, &self.chat, &self.pace);
    }

    async fn handle(&self, event: Queued<A>) {
        if event.name() == NEW_MESSAGE {
            messages::on_new_message(event, &self.session, &self.chat).await;
        } else {
            changes::on_change(event, &self.session, &self.chat).await;
        }
    }
}

/// Tells a new socket who it is, puts it in its room, announces it, and replays what it missed;
/// or nothing, if it is already gone.
async fn welcome<A: Adapter>(socket: &SocketRef<A>, session: &Session, chat: &Chat) {
    let mut stay = session.stay.lock().await;
    // socketioxide runs the connect handler after it told the client it is connected, in a task
    // of its own: a client that closed at once may be disconnected already, its departure done
    // (nothing would ever take it out of a room it joined now) or waiting for `stay`.
    if !socket.connected() {
        *stay = Stay::Gone;
        return;
    }
    chat.metrics.connected();
    // Before anything names people: the client learns which of them it is.
    socket.emit(IDENTITY, &session.credentials).ok();
    socket.join(session.identity.room.clone());
    if let Some(node_room) = &chat.node_room {
        socket.join(node_room.clone());
    }
    chat.roster.arrive(socket, session).await;
    *stay = Stay::Arrived;
    drop(stay);
    if let Some(offset) = session.identity.offset {
        history::replay_since(socket, session, offset, chat).await;
    }
}

/// [`ROOMS`]: the rooms with someone in them, across the cluster. Counts as a read against the
/// address's limits; refused, it is answered all the same, so the page never waits for a reply
/// that never comes.
async fn on_rooms<A: Adapter>(
    ack: AckSender<A>,
    io: SocketIo<A>,
    Extension(pace): Extension<Arc<Pace>>,
    State(chat): State<Chat>,
) {
    match chat.flood.allow_address(pace.address(), Act::Request) {
        Ok(()) => ack.send(&*chat.roster.rooms(&io).await).ok(),
        Err(_) => ack.send(&Ack::rejected(Rejection::TooFast)).ok(),
    };
}

/// How long a session that left its namespace (or was cut off) has to close itself, before the
/// server closes it.
const GOODBYE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Cuts off a connection that went on acting over its limits (a Socket.IO "disconnect": the
/// official client does not come back by itself), and starts its address's cool-down.
fn cut_off<A: Adapter>(socket: &SocketRef<A>, chat: &Chat, pace: &Pace) {
    warn!(id = %socket.id, "flooding: disconnected");
    chat.metrics.flood_disconnect();
    chat.flood.cut_off(pace);
    socket.clone().disconnect().ok();
}

async fn on_disconnect<A: Adapter>(
    socket: SocketRef<A>,
    reason: DisconnectReason,
    Extension(session): Extension<Arc<Session>>,
    State(chat): State<Chat>,
) {
    info!(id = %socket.id, %reason, "user disconnected");
    if reason == DisconnectReason::BufferFull {
        // Called once the session's websocket writer has let go: the peer read again, or it
        // read nothing and the kernel gave up on it (`Config::stalled_reader_seconds`). The
        // connection itself is closed, so that a client still there sees it and comes back.
        warn!(id = %socket.id, "a client cannot keep up: closing its connection, it resumes from what it has");
        chat.metrics.slow_reader_closed();
        chat.transports.close(&socket);
    }
    // Left the namespace, or cut off by the server, but with its Engine.IO session still open:
    // a well-behaved client closes it at once (the official ones do); it is closed anyway a
    // moment later — not at once: the goodbye, or the client's own close, must get through.
    if matches!(
        reason,
        DisconnectReason::ClientNSDisconnect | DisconnectReason::ServerNSDisconnect
    ) {
        let (socket, transports) = (socket.clone(), chat.transports.clone());
        tokio::spawn(async move {
            tokio::time::sleep(GOODBYE_GRACE).await;
            transports.close(&socket);
        });
    }
    let stay = std::mem::replace(&mut *session.stay.lock().await, Stay::Gone);
    if stay == Stay::Arrived {
        chat.metrics.disconnected();
        chat.roster.depart(&socket, &session).await;
    }
}
