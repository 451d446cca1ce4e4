//! `"nuevo mensaje"`: validate, store, then relay to the room, sender included (the seed's
//! `io.emit`, per room). A resend of a stored message is acknowledged with its first id, and
//! relayed again (clients keep messages by id). Only the sending connection sees the message's
//! client offset ([`ChatMessage::as_seen_by`]).

use app::protocol::{Ack, ChatMessage, Rejection, SentMessage, NEW_MESSAGE};
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
            // The room's turn passes on only once every node has handed this message to its
            // clients: a node receives other nodes' messages a few task hops after Redis
            // sends them, and the next message, stored by the next turn's holder, could
            // otherwise reach that holder's own clients first. Each node handles broadcasts
            // and requests from one stream in order, so its answer to a request sent now
            // comes after it delivered the message. On a single node it is a local no-op.
            if deliver(realtime, &audience, new).await {
                let everyone = audience.everyone.clone();
                if let Err(error) = everyone.within(BARRIER).rooms().await {
                    warn!(%error, "could not wait for the other nodes to deliver a message");
                }
            }
        })
        .await?;
    if let Stored::Duplicate(again) = &stored {
        deliver(realtime, &audience, again).await;
    }
    Ok(stored)
}

/// Hands a stored message to `room`'s clients on every node; true if it went through Redis.
///
/// Without Redis, this node's clients at least hear it now; the others get it replayed when the
/// link is back (`cluster`). Asked only once the message is committed (inside its room's turn
/// for a new one): asked before waiting for the turn, a link that came back meanwhile would
/// keep it local although the replay had already read the store without it.
async fn deliver<A: Adapter>(
    realtime: &Realtime,
    audience: &Audience<A>,
    message: &ChatMessage,
) -> bool {
    if let Some(sender) = &audience.sender {
        // Its buffer may be full or the connection gone; the acknowledgement tells it anyway.
        sender
            .emit(NEW_MESSAGE, &(&message.text, &message.meta))
            .ok();
    }
    let link_up = realtime.link.is_up();
    let room = audience.others.clone();
    let room = if link_up { room } else { room.local() };
    let seen = message.as_seen_by(None);
    let packet = (&seen.text, &seen.meta);
    match room.clone().emit(NEW_MESSAGE, &packet).await {
        Ok(()) => link_up,
        // Redis refused it before this node's clients got it.
        Err(BroadcastError::Adapter(error)) => {
            warn!(%error, "message not relayed to the other nodes");
            room.local().emit(NEW_MESSAGE, &packet).await.ok();
            false
        }
        // A receiver whose buffer is full misses this one; it is in the history, and the
        // sender is still told its message is stored.
        Err(error) => {
            warn!(%error, "message not delivered to every client");
            link_up
        }
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
