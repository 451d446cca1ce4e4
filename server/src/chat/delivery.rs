//! Storing, then delivering: a message or a change is in the store before anyone sees it, and
//! then reaches its room on every node — this node's clients first, the others' through Redis
//! ([`broadcast`]). Whoever asked (a socket's event, the form post) gets the stored result.

use std::future::Future;

use protocol::{ChatMessage, MessageChange, MESSAGE_CHANGED, NEW_MESSAGE};
use serde_json::value::RawValue;
use socketioxide::{
    adapter::Adapter, extract::SocketRef, operators::BroadcastOperators, BroadcastError,
};
use tracing::{debug, warn};

use super::Chat;
use crate::store::{Changed, NewChange, NewMessage, StoreError, Stored};

/// A room nobody joins (its name cannot be a room's or a tag's: both refuse control characters
/// after the first). Asking the cluster who is in it makes every node answer through the stream
/// it also receives broadcasts on.
const BARRIER: &str = "\u{1}barrier";

/// Who hears a message.
pub struct Audience<A: Adapter> {
    /// The room, on every node, without the sending connection.
    pub others: BroadcastOperators<A>,
    /// The connection that sent it, if it came through one: the only one told its client offset.
    pub sender: Option<SocketRef<A>>,
    /// The whole namespace, on every node.
    pub everyone: BroadcastOperators<A>,
}

/// Stores `message`, then relays it to its audience. A resend of a stored message
/// ([`Store::insert_then`](crate::store::Store::insert_then)) is relayed again, as it is now and
/// after the room's turn: its first relay may never have happened — its node can die between
/// the commit and the relay, and then only the resend brings it to the other nodes' clients.
/// Clients keep messages by id, so nobody is shown it twice.
pub async fn publish_message<A: Adapter>(
    chat: &Chat,
    audience: Audience<A>,
    message: NewMessage<'_>,
) -> Result<Stored, StoreError> {
    // A stopping server waits for this ([`Chat::writes`]), whichever way the message came.
    let _tracked = chat.writes.token();
    let writing = std::time::Instant::now();
    let stored = chat
        .store
        .insert_then(message, async |new| {
            chat.metrics.stored(writing.elapsed());
            deliver_in_turn(&audience, deliver_message(chat, &audience, new)).await;
        })
        .await?;
    if let Stored::Duplicate(again) = &stored {
        deliver_message(chat, &audience, again).await;
    }
    Ok(stored)
}

/// Delivers a write inside its room's turn (`delivery` says whether it went through Redis), and
/// lets the turn go only once every node has it ([`barrier`]). On a single node nothing goes
/// through Redis, and there is nobody to wait for.
async fn deliver_in_turn<A: Adapter>(audience: &Audience<A>, delivery: impl Future<Output = bool>) {
    if delivery.await {
        barrier(audience).await;
    }
}

/// Waits until every node has handed what this node just broadcast to its clients: a room's turn
/// passes on only then. A node receives other nodes' broadcasts a few task hops after Redis
/// sends them, and the next write of the room, by the next turn's holder, could otherwise reach
/// that holder's own clients first. Each node handles broadcasts and requests from one stream in
/// order, so its answer to a request sent now comes after it delivered the broadcast.
async fn barrier<A: Adapter>(audience: &Audience<A>) {
    let everyone = audience.everyone.clone();
    if let Err(error) = everyone.within(BARRIER).rooms().await {
        warn!(%error, "could not wait for the other nodes to deliver a message");
    }
}

/// Hands a stored message to its audience on every node ([`broadcast`]); true if it went
/// through Redis. Only its sender's copy has its client offset.
async fn deliver_message<A: Adapter>(
    chat: &Chat,
    audience: &Audience<A>,
    message: &ChatMessage,
) -> bool {
    let Ok(packet) = Packet::of(&message.as_seen_by(None)) else {
        return false;
    };
    let own = audience
        .sender
        .as_ref()
        .and_then(|_| Packet::of(message).ok());
    let own = own.as_ref().map(Packet::arguments);
    broadcast(
        chat,
        audience,
        NEW_MESSAGE,
        own.as_ref(),
        &packet.arguments(),
    )
    .await
}

/// Emits `event` to its audience on every node: `own` to the sender, `arguments` to the rest of
/// the room. True if it went through Redis.
///
/// This node's receivers get it first, then the other nodes' through Redis (each node hands a
/// broadcast to its own clients). A receiver whose buffer is full (it stopped reading) is closed at
/// this event, on whichever node it is (the engine's `close_on_full_buffer`, see
/// [`crate::realtime`]'s engine settings): it comes back and resumes from what it really has,
/// instead of missing it for good.
///
/// Without Redis, this node's clients at least hear it now; the others get it replayed when the
/// link is back ([`crate::realtime::cluster`](mod@crate::realtime::cluster)). A broadcast that
/// fails marks the link lost from now (a hung Redis says nothing else). Asked only once the write
/// is committed (inside its room's turn for a new one): asked before waiting for the turn, a link
/// that came back meanwhile would keep it local although the replay had already read the store
/// without it.
async fn broadcast<A: Adapter, T: serde::Serialize + ?Sized>(
    chat: &Chat,
    audience: &Audience<A>,
    event: &'static str,
    own: Option<&T>,
    arguments: &T,
) -> bool {
    if let (Some(sender), Some(own)) = (&audience.sender, own) {
        // A sender that cannot take it is closed (see above) and learns it on resuming.
        sender.emit(event, own).ok();
    }
    // Some receivers could not take it: they were closed, and resume.
    audience
        .others
        .clone()
        .local()
        .emit(event, arguments)
        .await
        .ok();
    let Some(node_room) = &chat.node_room else {
        return false;
    };
    if !chat.link.is_up() {
        return false;
    }
    let elsewhere = audience.others.clone().except(node_room.clone());
    match elsewhere.emit(event, arguments).await {
        Ok(()) => true,
        Err(BroadcastError::Adapter(error)) => {
            warn!(%error, "not relayed to the other nodes");
            chat.link.failed();
            false
        }
        // The other nodes' receivers are theirs to count.
        Err(error) => {
            debug!(%error, "not delivered to every client");
            true
        }
    }
}

/// A relayed message's two arguments as JSON, written once: the sender's copy differs from
/// everybody else's by its client offset.
struct Packet {
    text: Box<RawValue>,
    meta: Box<RawValue>,
}

impl Packet {
    fn of(message: &ChatMessage) -> serde_json::Result<Self> {
        Ok(Self {
            text: serde_json::value::to_raw_value(&message.text)?,
            meta: serde_json::value::to_raw_value(&message.meta)?,
        })
    }

    /// What to emit: a tuple, so each is an argument of its own.
    fn arguments(&self) -> (&RawValue, &RawValue) {
        (&self.text, &self.meta)
    }
}

/// Stores `change`, then relays the message's new state to its audience. A resend of a stored
/// change relays the message's state again, for the reason a resent message is
/// ([`publish_message`]); clients keep the state with the highest revision.
pub async fn publish_change<A: Adapter>(
    chat: &Chat,
    audience: Audience<A>,
    change: NewChange<'_>,
) -> Result<Changed, StoreError> {
    let _tracked = chat.writes.token();
    let changed = chat
        .store
        .change_then(change, async |new| {
            deliver_in_turn(&audience, deliver_change(chat, &audience, new)).await;
        })
        .await?;
    if let Changed::Duplicate { now, .. } = &changed {
        deliver_change(chat, &audience, now).await;
    }
    Ok(changed)
}

/// Hands a message's new state to the whole room on every node; true if it went through Redis.
async fn deliver_change<A: Adapter>(
    chat: &Chat,
    audience: &Audience<A>,
    change: &MessageChange,
) -> bool {
    let Ok(packet) = serde_json::value::to_raw_value(change) else {
        return false;
    };
    broadcast(chat, audience, MESSAGE_CHANGED, Some(&*packet), &*packet).await
}
