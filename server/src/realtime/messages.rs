//! `"nuevo mensaje"`: validate, store, then relay to the room, sender included (the seed's
//! `io.emit`, per room). A resend of a stored message is acknowledged but not relayed again.

use app::protocol::{Ack, Identity, Rejection, SentMessage, NEW_MESSAGE};
use socketioxide::{adapter::Adapter, operators::BroadcastOperators};
use tracing::{debug, error, warn};

use super::{in_order::Event, Realtime};
use crate::store::{NewMessage, Store, StoreError, Stored};

/// Stores `message`, then relays it to `room` (which must include whoever should see it). A
/// resend of a stored message is not relayed again.
pub async fn publish<A: Adapter>(
    store: &Store,
    room: BroadcastOperators<A>,
    message: NewMessage<'_>,
) -> Result<Stored, StoreError> {
    let stored = store.insert(message).await?;
    if let Stored::New(new) = &stored {
        // A receiver whose buffer is full misses this one; it is in the history, and the
        // sender is still told its message is stored.
        if let Err(error) = room.emit(NEW_MESSAGE, &(&new.text, &new.meta)).await {
            warn!(%error, "message not delivered to every client");
        }
    }
    Ok(stored)
}

pub async fn relay<A: Adapter>(mut event: Event<A>, identity: Identity, realtime: Realtime) {
    let socket = event.socket();
    let verdict = event
        .data::<SentMessage>()
        .map_err(|_| Rejection::Missing)
        .and_then(|sent| sent.validate(realtime.limits.max_message_chars));
    let ack = match verdict {
        Ok((text, client_offset)) => {
            let message = NewMessage {
                room: &identity.room,
                user: &identity.name,
                text: &text,
                client_offset: client_offset.as_deref(),
            };
            match publish(
                &realtime.store,
                socket.within(identity.room.clone()),
                message,
            )
            .await
            {
                Ok(Stored::New(stored)) => {
                    debug!(id = %socket.id, offset = stored.meta.id, "message stored and relayed");
                    Ack::stored(stored.meta.id)
                }
                Ok(Stored::Duplicate(stored)) => {
                    debug!(id = %socket.id, offset = stored.meta.id, "resend acknowledged");
                    Ack::stored(stored.meta.id)
                }
                Err(failure) => {
                    error!(id = %socket.id, error = %failure, "message not stored");
                    Ack::rejected(Rejection::Unavailable)
                }
            }
        }
        Err(reason) => {
            debug!(id = %socket.id, ?reason, "message refused");
            Ack::rejected(reason)
        }
    };
    // The sender may be gone already; there is nobody left to tell.
    event.ack().send(&ack).ok();
}

/// A client that has hundreds of messages waiting is flooding: refuse the excess outright.
pub fn refuse_overflow<A: Adapter>(event: Event<A>) {
    warn!(id = %event.socket().id, "message queue full, message refused");
    event.ack().send(&Ack::rejected(Rejection::TooFast)).ok();
}
