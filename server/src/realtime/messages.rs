//! `"nuevo mensaje"`: validate, then relay to everybody, sender included (the seed's `io.emit`).

use app::protocol::{Ack, MessageArg, Rejection, NEW_MESSAGE};
use socketioxide::{adapter::Adapter, SocketIo};
use tracing::{debug, warn};

use super::{in_order::Event, Limits};

pub async fn relay<A: Adapter>(mut event: Event<A>, limits: Limits, io: SocketIo<A>) {
    let socket = event.socket();
    let verdict = event
        .data::<MessageArg>()
        .map_err(|_| Rejection::Missing)
        .and_then(|arg| arg.into_text(limits.max_message_chars));

    let ack = match verdict {
        Ok(text) => {
            broadcast(&io, &text).await;
            debug!(id = %socket.id, chars = text.chars().count(), "message relayed");
            Ack::accepted()
        }
        Err(reason) => {
            debug!(id = %socket.id, ?reason, "message refused");
            Ack::rejected(reason)
        }
    };
    // The sender may be gone already; there is nobody left to tell.
    event.ack().send(&ack).ok();
}

/// Sends `text` to every client of the default namespace, the sender included.
async fn broadcast<A: Adapter>(io: &SocketIo<A>, text: &str) {
    // `io.emit` panics once the namespace is gone, which happens while the server shuts down.
    let Some(everyone) = io.of("/") else {
        return;
    };
    // A receiver whose buffer is full misses this one message; that is its problem, not the
    // sender's, so the sender is still told its message went out.
    if let Err(error) = everyone.emit(NEW_MESSAGE, text).await {
        warn!(%error, "message not delivered to every client");
    }
}

/// A client that has hundreds of messages waiting is flooding: refuse the excess outright.
pub fn refuse_overflow<A: Adapter>(event: Event<A>) {
    warn!(id = %event.socket().id, "message queue full, message refused");
    event.ack().send(&Ack::rejected(Rejection::TooFast)).ok();
}
