//! [`NEW_MESSAGE`](protocol::NEW_MESSAGE): validate, then store and relay to the room, sender
//! included (the seed's `io.emit`, per room), with [`publish_message`]; the ack says what became
//! of it. Only the sending connection sees the message's client offset
//! ([`ChatMessage::as_seen_by`](protocol::ChatMessage::as_seen_by)).

use protocol::{Ack, Rejection, SentMessage};
use socketioxide::adapter::Adapter;
use tracing::{debug, error};

use super::{handshake::Session, in_order::Queued};
use crate::{
    chat::{
        delivery::{publish_message, Audience},
        Chat,
    },
    flood::Pace,
    store::{NewMessage, Stored},
};

/// Handles one message of the socket's queue and answers its ack: the message's id once stored
/// (now, or before under the same client offset), or why not.
pub async fn on_new_message<A: Adapter>(mut event: Queued<A>, session: &Session, chat: &Chat) {
    let socket = event.socket();
    chat.metrics.message_in();
    let verdict = event
        .data::<SentMessage>()
        .map_err(|_| Rejection::Missing)
        .and_then(|sent| sent.validate(chat.limits.max_message_chars));
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
            match publish_message(chat, audience, message).await {
                Ok(Stored::New(stored)) => {
                    chat.metrics.message_out(event.arrived().elapsed());
                    debug!(id = %socket.id, offset = stored.meta.id, "message stored and relayed");
                    Ack::stored(stored.meta.id)
                }
                Ok(Stored::Duplicate(stored)) => {
                    debug!(id = %socket.id, offset = stored.meta.id, "resend acknowledged and relayed again");
                    Ack::stored(stored.meta.id)
                }
                Ok(Stored::KeyInUse) => {
                    debug!(id = %socket.id, "client offset already used for a change");
                    chat.metrics.rejected(Rejection::BadMeta);
                    Ack::rejected(Rejection::BadMeta)
                }
                Err(failure) => {
                    error!(id = %socket.id, error = %failure, "message not stored");
                    chat.metrics.rejected(Rejection::Unavailable);
                    Ack::rejected(Rejection::Unavailable)
                }
            }
        }
        Err(reason) => {
            debug!(id = %socket.id, ?reason, "message refused");
            chat.metrics.rejected(reason);
            Ack::rejected(reason)
        }
    };
    // The sender may be gone already; there is nobody left to tell.
    event.ack().send(&ack).ok();
}

/// Refuses a write before it is queued: over the sender's rate, or with hundreds waiting. A
/// sender that goes on regardless is cut off.
pub fn refuse<A: Adapter>(event: Queued<A>, reason: Rejection, chat: &Chat, pace: &Pace) {
    let socket = event.socket();
    debug!(id = %socket.id, ?reason, "message refused on arrival");
    chat.metrics.message_in();
    chat.metrics.rejected(reason);
    if chat.flood.is_flooding(pace) {
        super::cut_off(&socket, chat, pace);
        return;
    }
    event.ack().send(&Ack::rejected(reason)).ok();
}
