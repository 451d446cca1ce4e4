//! One client's part in a run: it answers pings, counts what it receives and, if it is a sender,
//! sends at its rate while the sending window is open.

use std::{
    cell::RefCell,
    rc::Rc,
    time::{Duration, Instant},
};

use tokio::sync::watch;

use super::tally::Tally;
use crate::{
    client::{classify, Client, Incoming},
    payload::Payload,
};

/// When the senders may send, and until when: `None` until everyone is connected.
pub(super) type Window = Option<(Instant, Instant)>;

/// What a sender needs to send.
pub(super) struct Sending {
    pub(super) sender: u32,
    pub(super) every: Duration,
    /// The sending window, once it is open.
    pub(super) window: watch::Receiver<Window>,
    pub(super) payload_bytes: usize,
    /// Messages sent by every sender of the run.
    pub(super) sent: Rc<RefCell<u64>>,
}

/// One client's life: answer pings, count deliveries, and send in the window if it is a sender.
/// Returns false if the server closed the connection (aborted at the end of the run otherwise).
pub(super) async fn chat(
    mut client: Client,
    receiver: usize,
    mut sending: Option<Sending>,
    tally: Rc<RefCell<Tally>>,
    started: Instant,
) -> bool {
    let mut ticks = tokio::time::interval(
        sending
            .as_ref()
            .map_or(Duration::from_secs(3600), |sending| sending.every),
    );
    // A late tick is sent at once: the offered rate holds even when the thread falls behind.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut until = None;
    let mut seq = 0u32;
    loop {
        let waiting = sending.is_some() && until.is_none();
        let window_opens = async {
            match sending.as_mut() {
                Some(sending) => sending
                    .window
                    .wait_for(Option::is_some)
                    .await
                    .ok()
                    .and_then(|w| *w),
                None => None,
            }
        };
        tokio::select! {
            Some((_, end)) = window_opens, if waiting => {
                until = Some(end);
                ticks.reset_immediately();
            }
            packet = client.next_packet() => match packet {
                Some(packet) => match classify(packet.as_str()) {
                    Incoming::Message(text) => tally.borrow_mut().record(receiver, text, started),
                    Incoming::Ping => {
                        if client.pong().await.is_err() {
                            return false;
                        }
                    }
                    Incoming::Other => {}
                },
                None => return false,
            },
            _ = ticks.tick(), if until.is_some_and(|end| Instant::now() < end) => {
                let sending = sending.as_ref().expect("only senders tick");
                let text = Payload {
                    sender: sending.sender,
                    seq,
                    micros: started.elapsed().as_micros() as u64,
                }
                .render(sending.payload_bytes);
                if client.send(&text).await.is_err() {
                    return false;
                }
                seq += 1;
                *sending.sent.borrow_mut() += 1;
            }
        }
    }
}
