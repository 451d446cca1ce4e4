//! `"edit message"` and `"delete message"`: a person changes one of their own messages. Whose
//! message it is, is checked against the connection's server-side identity
//! ([`Store::change_then`](crate::store::Store::change_then)), never against anything the client
//! says; the message's new state goes to the whole room, its author included, as
//! [`MESSAGE_CHANGED`], in the room's order of offsets like a new message.

use std::sync::Arc;

use protocol::{
    Ack, MessageChange, MessageDeletion, MessageEdit, Rejection, EDIT_MESSAGE, MESSAGE_CHANGED,
};
use socketioxide::adapter::Adapter;
use tracing::{debug, error};

use super::messages::{barrier, broadcast, Audience};
use super::{handshake::Session, in_order::Event, Realtime};
use crate::store::{Changed, NewChange, StoreError};

/// Handles one edit or deletion (which, by the event's name) and answers its ack: the change's
/// offset once stored (now or before), or why not.
pub async fn relay<A: Adapter>(mut event: Event<A>, session: Arc<Session>, realtime: Realtime) {
    let socket = event.socket();
    let request = if event.name() == EDIT_MESSAGE {
        event
            .data::<MessageEdit>()
            .map_err(|_| Rejection::BadMeta)
            .and_then(|edit| edit.validate(realtime.limits.max_message_chars))
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
            match publish(&realtime, audience, change).await {
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
            realtime.metrics.rejected(reason);
            Ack::rejected(reason)
        }
    };
    event.ack().send(&ack).ok();
}

/// Stores `change`, then relays the message's new state to its audience. A resend of a stored
/// change relays the message's state again, for the reason a resent message is
/// ([`super::messages::publish`]); clients keep the state with the highest revision.
pub async fn publish<A: Adapter>(
    realtime: &Realtime,
    audience: Audience<A>,
    change: NewChange<'_>,
) -> Result<Changed, StoreError> {
    let _tracked = realtime.writes.token();
    let changed = realtime
        .store
        .change_then(change, async |new| {
            if deliver(realtime, &audience, new).await {
                barrier(&audience).await;
            }
        })
        .await?;
    if let Changed::Duplicate { now, .. } = &changed {
        deliver(realtime, &audience, now).await;
    }
    Ok(changed)
}

/// Hands a message's new state to the whole room on every node; true if it went through Redis.
async fn deliver<A: Adapter>(
    realtime: &Realtime,
    audience: &Audience<A>,
    change: &MessageChange,
) -> bool {
    let Ok(packet) = serde_json::value::to_raw_value(change) else {
        return false;
    };
    broadcast(
        realtime,
        audience,
        MESSAGE_CHANGED,
        Some(&*packet),
        &*packet,
    )
    .await
}
