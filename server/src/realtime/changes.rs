//! `"edit message"` and `"delete message"`: a person changes one of their own messages. Whose
//! message it is, is checked against the connection's server-side identity
//! ([`Store::change_then`](crate::store::Store::change_then)), never against anything the client
//! says; the message's new state goes to the whole room, its author included, as
//! [`MESSAGE_CHANGED`](protocol::MESSAGE_CHANGED), in the room's order of offsets like a new
//! message ([`publish_change`]).

use protocol::{Ack, MessageDeletion, MessageEdit, Rejection, EDIT_MESSAGE};
use socketioxide::adapter::Adapter;
use tracing::{debug, error};

use super::{handshake::Session, in_order::Queued};
use crate::{
    chat::{
        delivery::{publish_change, Audience},
        Chat,
    },
    store::{Changed, NewChange},
};

/// Handles one edit or deletion (which, by the event's name) and answers its ack: the change's
/// offset once stored (now or before), or why not.
pub async fn on_change<A: Adapter>(mut event: Queued<A>, session: &Session, chat: &Chat) {
    let socket = event.socket();
    let request = if event.name() == EDIT_MESSAGE {
        event
            .data::<MessageEdit>()
            .map_err(|_| Rejection::BadMeta)
            .and_then(|edit| edit.validate(chat.limits.max_message_chars))
            .map(|edit| (edit.id, Some(edit.text), edit.client_offset))
    } else {
        event
            .data::<MessageDeletion>()
            .map_err(|_| Rejection::BadMeta)
            .and_then(MessageDeletion::validate)
            .map(|deletion| (deletion.id, None, deletion.client_offset))
    };
    let outcome = match request {
        Ok((id, text, client_offset)) => {
            let room = &session.identity.room;
            let change = NewChange {
                room,
                user: &session.identity.name,
                person: session.person(),
                id,
                text: text.as_deref(),
                client_offset: client_offset.as_deref(),
            };
            let audience = Audience {
                others: socket.to(room.clone()),
                sender: Some(socket.clone()),
                everyone: socket.broadcast(),
            };
            match publish_change(chat, audience, change).await {
                Ok(Changed::New(new)) => Ok(new.revision),
                Ok(Changed::Duplicate { revision, .. }) => Ok(revision),
                Ok(Changed::Refused(reason)) => Err(reason),
                Err(failure) => {
                    error!(id = %socket.id, error = %failure, "change not stored");
                    Err(Rejection::Unavailable)
                }
            }
        }
        Err(reason) => Err(reason),
    };
    let ack = match outcome {
        Ok(revision) => {
            debug!(id = %socket.id, revision, "message changed");
            Ack::stored(revision)
        }
        Err(reason) => {
            debug!(id = %socket.id, ?reason, "change refused");
            chat.metrics.rejected(reason);
            Ack::rejected(reason)
        }
    };
    event.ack().send(&ack).ok();
}
