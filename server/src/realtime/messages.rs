//! `"nuevo mensaje"`: validate, store, then relay to the room, sender included (the seed's
//! `io.emit`, per room). A resend of a stored message is acknowledged with its first id, and
//! relayed again (clients keep messages by id). Only the sending connection sees the message's
//! client offset ([`ChatMessage::as_seen_by`]).

use protocol::{Ack, ChatMessage, Rejection, SentMessage, NEW_MESSAGE};
use serde_json::value::RawValue;
use socketioxide::{
    adapter::Adapter, extract::SocketRef, operators::BroadcastOperators, BroadcastError,
};
use tracing::{debug, error, warn};

use super::flood::Sender;
use super::{handshake::Session, in_order::Event, Realtime};
use crate::store::{NewMessage, StoreError, Stored};

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

/// Stores `message`, then relays it to its audience. A resend of a stored message is relayed
/// again: its first relay may never have happened — its node can die between the commit and the
/// relay, and then only the resend brings it to the other nodes' clients. Clients keep messages
/// by id, so nobody is shown it twice.
pub async fn publish<A: Adapter>(
    realtime: &Realtime,
    audience: Audience<A>,
    message: NewMessage<'_>,
) -> Result<Stored, StoreError> {
    // A stopping server waits for this (`Realtime::writes`), whichever way the message came.
    let _tracked = realtime.writes.token();
    let writing = std::time::Instant::now();
    let stored = realtime
        .store
        .insert_then(message, async |new| {
            realtime.metrics.stored(writing.elapsed());
            // On a single node nothing goes through Redis, and there is nobody to wait for.
            if deliver(realtime, &audience, new).await {
                barrier(&audience).await;
            }
        })
        .await?;
    if let Stored::Duplicate(again) = &stored {
        deliver(realtime, &audience, again).await;
    }
    Ok(stored)
}

/// Waits until every node has handed what this node just broadcast to its clients: a room's turn
/// passes on only then. A node receives other nodes' broadcasts a few task hops after Redis
/// sends them, and the next write of the room, by the next turn's holder, could otherwise reach
/// that holder's own clients first. Each node handles broadcasts and requests from one stream in
/// order, so its answer to a request sent now comes after it delivered the broadcast.
pub(super) async fn barrier<A: Adapter>(audience: &Audience<A>) {
    let everyone = audience.everyone.clone();
    if let Err(error) = everyone.within(BARRIER).rooms().await {
        warn!(%error, "could not wait for the other nodes to deliver a message");
    }
}

/// Hands a stored message to its audience on every node ([`broadcast`]); true if it went
/// through Redis. Only its sender's copy has its client offset.
async fn deliver<A: Adapter>(
    realtime: &Realtime,
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
        realtime,
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
/// broadcast to its own clients). A receiver whose buffer is full (it stopped reading) is closed
/// at this event, on whichever node it is (the engine's `close_on_full_buffer`, see
/// `configured`): it comes back and resumes from what it really has, instead of missing it for
/// good.
///
/// Without Redis, this node's clients at least hear it now; the others get it replayed when the
/// link is back (`cluster`). A broadcast that fails marks the link lost from now (a hung Redis
/// says nothing else). Asked only once the write is committed (inside its room's turn for a new
/// one): asked before waiting for the turn, a link that came back meanwhile would keep it local
/// although the replay had already read the store without it.
pub(super) async fn broadcast<A: Adapter, T: serde::Serialize + ?Sized>(
    realtime: &Realtime,
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
    let Some(node_room) = &realtime.node_room else {
        return false;
    };
    if !realtime.link.is_up() {
        return false;
    }
    let elsewhere = audience.others.clone().except(node_room.clone());
    match elsewhere.emit(event, arguments).await {
        Ok(()) => true,
        Err(BroadcastError::Adapter(error)) => {
            warn!(%error, "not relayed to the other nodes");
            realtime.link.failed();
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

pub async fn relay<A: Adapter>(
    mut event: Event<A>,
    session: std::sync::Arc<Session>,
    realtime: Realtime,
) {
    let socket = event.socket();
    realtime.metrics.message_in();
    let verdict = event
        .data::<SentMessage>()
        .map_err(|_| Rejection::Missing)
        .and_then(|sent| sent.validate(realtime.limits.max_message_chars));
    let ack = match verdict {
        Ok((text, client_offset)) => {
            let message = NewMessage {
                room: &session.identity.room,
                user: &session.identity.name,
                person: session.person(),
                text: &text,
                client_offset: client_offset.as_deref(),
            };
            let audience = Audience {
                others: socket.to(session.identity.room.clone()),
                sender: Some(socket.clone()),
                everyone: socket.broadcast(),
            };
            match publish(&realtime, audience, message).await {
                Ok(Stored::New(stored)) => {
                    realtime.metrics.message_out(event.arrived().elapsed());
                    debug!(id = %socket.id, offset = stored.meta.id, "message stored and relayed");
                    Ack::stored(stored.meta.id)
                }
                Ok(Stored::Duplicate(stored)) => {
                    debug!(id = %socket.id, offset = stored.meta.id, "resend acknowledged and relayed again");
                    Ack::stored(stored.meta.id)
                }
                Ok(Stored::KeyInUse) => {
                    debug!(id = %socket.id, "client offset already used for a change");
                    realtime.metrics.rejected(Rejection::BadMeta);
                    Ack::rejected(Rejection::BadMeta)
                }
                Err(failure) => {
                    error!(id = %socket.id, error = %failure, "message not stored");
                    realtime.metrics.rejected(Rejection::Unavailable);
                    Ack::rejected(Rejection::Unavailable)
                }
            }
        }
        Err(reason) => {
            debug!(id = %socket.id, ?reason, "message refused");
            realtime.metrics.rejected(reason);
            Ack::rejected(reason)
        }
    };
    // The sender may be gone already; there is nobody left to tell.
    event.ack().send(&ack).ok();
}

/// Refuses a message before it is queued: over the sender's rate, or with hundreds waiting. A
/// sender that goes on regardless is cut off.
pub fn refuse<A: Adapter>(
    event: Event<A>,
    reason: Rejection,
    realtime: &Realtime,
    sender: &Sender,
) {
    let socket = event.socket();
    debug!(id = %socket.id, ?reason, "message refused on arrival");
    realtime.metrics.message_in();
    realtime.metrics.rejected(reason);
    if realtime.flood.is_flooding(sender) {
        super::cut_off(&socket, realtime, sender);
        return;
    }
    event.ack().send(&Ack::rejected(reason)).ok();
}
