//! The chat itself, whichever way a client reaches it — a socket event ([`crate::realtime`]), the
//! no-JavaScript form ([`crate::server_fns`]), the cluster's catch-up after a Redis outage:
//! the state they all share ([`Chat`]), what a client may send ([`Limits`]), and how a message
//! or a change is stored and then delivered to its room on every node ([`delivery`]).

pub mod delivery;

use std::{ops::Deref, sync::Arc};

use tokio_util::task::TaskTracker;

use crate::{
    flood::Flood, http::transports::Transports, identity::Issuer, metrics::Metrics,
    realtime::cluster::Link, realtime::presence::Roster, store::Store,
};

/// What a client may send.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_message_chars: usize,
    /// Largest Engine.IO frame (websocket message or polling POST body). Enforced while reading,
    /// so an oversize frame is refused from its header and never buffered whole.
    pub max_frame_bytes: usize,
}

impl Limits {
    /// The largest event the server sends in one packet (a replay's batch): half a frame leaves
    /// room for the packet's framing and JSON escaping, so every client can read it.
    pub fn max_event_bytes(&self) -> usize {
        self.max_frame_bytes / 2
    }
}

/// A new name for this node's room in a cluster ([`Shared::node_room`]): a control character
/// first, so that no room or tag a client names is like it.
pub fn new_node_room() -> String {
    format!("\u{1}node\u{1}{}", crate::identity::new_secret())
}

/// Everything the chat's parts share: the app state of the socket handlers, the server
/// functions, the operations routes and the cluster's catch-up. A clone is a reference count:
/// every socket's write queue keeps one for the socket's life, and every handler call takes one
/// (socketioxide's `State`).
#[derive(Clone)]
pub struct Chat(Arc<Shared>);

impl Chat {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl Deref for Chat {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What a [`Chat`] shares.
pub struct Shared {
    pub limits: Limits,
    pub store: Store,
    pub link: Link,
    pub roster: Roster,
    pub metrics: Metrics,
    pub flood: Flood,
    pub issuer: Issuer,
    pub transports: Transports,
    /// In a cluster, a room every socket of this node joins ([`new_node_room`]): a broadcast that
    /// excepts it reaches the other nodes' sockets only (this node's get a message before it
    /// goes to Redis, which may fail: [`delivery`]).
    pub node_room: Option<String>,
    /// Messages being stored and relayed: a stopping server waits for them (within its grace
    /// period) so that none is cut off between its sender's event and the store.
    pub writes: TaskTracker,
}
