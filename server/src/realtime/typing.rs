//! `typing` / `stop typing`: relayed to the rest of the room with who it is. A connection's
//! "typing" goes out at most once every [`TYPING_RELAYED_EVERY`], its "stop" only after a "typing" that
//! went out; both are volatile, so they never wait in, or take the place of a chat message in,
//! anybody's buffer (a receiver that is busy misses one and loses nothing: a "typing" fades by
//! itself). Every signal, relayed or not, takes from the sender's flood limits
//! ([`super::flood::Act::Signal`]): a connection that goes on signalling over them is cut off.

use std::{sync::Mutex, time::Instant};

use protocol::{UserEvent, TYPING, TYPING_RELAYED_EVERY};
use socketioxide::{adapter::Adapter, extract::SocketRef};

use super::{
    flood::{Act, Sender},
    handshake::Session,
    Realtime,
};

/// One connection's typing: when its last "typing" went out, and whether a "stop" may follow.
#[derive(Debug, Default)]
pub struct Typing(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    last: Option<Instant>,
    typing: bool,
}

impl Typing {
    /// Whether `event` (`TYPING` or `STOP_TYPING`) goes to the room.
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

/// What the connection of `session` sent, `event`, handled.
pub async fn relay<A: Adapter>(
    socket: SocketRef<A>,
    realtime: &Realtime,
    session: &Session,
    sender: &Sender,
    typing: &Typing,
    event: &'static str,
) {
    if realtime.flood.allow(sender, Act::Signal).is_err() {
        if realtime.flood.is_flooding(sender) {
            super::cut_off(&socket, realtime, sender);
        }
        return;
    }
    if !typing.passes(event, Instant::now()) {
        return;
    }
    let notice = UserEvent {
        user: session.identity.name.clone(),
        person: session.credentials.person.clone(),
        room: session.identity.room.clone(),
    };
    socket
        .to(session.identity.room.clone())
        .volatile()
        .emit(event, &notice)
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
