//! `typing` / `stop typing`: relayed to the rest of the room with who it is. A connection's
//! "typing" goes out at most once every [`TYPING_RELAYED_EVERY`], its "stop" only after a "typing"
//! that went out; both are volatile, so they never wait in, or take the place of a chat message in,
//! anybody's buffer (a receiver that is busy misses one and loses nothing: a "typing" fades by
//! itself). Every signal, relayed or not, takes from the sender's flood limits ([`Act::Signal`]): a
//! connection that goes on signalling over them is cut off.

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use protocol::{TYPING, TYPING_RELAYED_EVERY};
use socketioxide::{
    adapter::Adapter,
    extract::{Event, Extension, SocketRef, State},
};

use super::handshake::Session;
use crate::{
    chat::Chat,
    flood::{Act, Pace},
};

/// One connection's typing: when its last "typing" went out, and whether a "stop" may follow.
#[derive(Debug, Default)]
pub struct Typing(Mutex<LastSignal>);

#[derive(Debug, Default)]
struct LastSignal {
    last: Option<Instant>,
    typing: bool,
}

impl Typing {
    /// Whether `event` ([`TYPING`] or [`STOP_TYPING`](protocol::STOP_TYPING)) goes to the room.
    fn passes(&self, event: &str, now: Instant) -> bool {
        let mut state = self.0.lock().unwrap();
        if event == TYPING {
            if state
                .last
                .is_some_and(|last| now.saturating_duration_since(last) < TYPING_RELAYED_EVERY)
            {
                return false;
            }
            state.last = Some(now);
            state.typing = true;
            true
        } else {
            std::mem::take(&mut state.typing)
        }
    }
}

/// [`TYPING`] or [`STOP_TYPING`](protocol::STOP_TYPING) from the connection of `session`.
pub async fn on_typing_signal<A: Adapter>(
    socket: SocketRef<A>,
    Event(event): Event,
    Extension(session): Extension<Arc<Session>>,
    Extension(pace): Extension<Arc<Pace>>,
    Extension(typing): Extension<Arc<Typing>>,
    State(chat): State<Chat>,
) {
    if chat.flood.allow(&pace, Act::Signal).is_err() {
        if chat.flood.is_flooding(&pace) {
            super::cut_off(&socket, &chat, &pace);
        }
        return;
    }
    if !typing.passes(&event, Instant::now()) {
        return;
    }
    socket
        .to(session.identity.room.clone())
        .volatile()
        .emit(&*event, &session.announcement())
        .await
        .ok();
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use protocol::STOP_TYPING;

    use super::*;

    #[test]
    fn typing_goes_out_every_two_seconds_at_most_and_stop_only_after_it() {
        let typing = Typing::default();
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        assert!(!typing.passes(STOP_TYPING, at(0)), "nothing to stop yet");
        assert!(typing.passes(TYPING, at(0)));
        assert!(!typing.passes(TYPING, at(500)));
        assert!(typing.passes(STOP_TYPING, at(600)));
        assert!(!typing.passes(STOP_TYPING, at(700)), "stopped already");
        assert!(!typing.passes(TYPING, at(1_900)));
        assert!(
            !typing.passes(STOP_TYPING, at(1_950)),
            "its typing never went out"
        );
        assert!(typing.passes(TYPING, at(2_000)));
    }
}
