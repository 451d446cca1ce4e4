//! Exactly-once sending, as the page does it: every message gets its own client offset
//! ([`protocol::SendMeta::client_offset`]) and keeps it through every resend, so that the
//! server stores it once however many times the connection drops before its ack.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::Failure;

/// A new client offset: unique among this person's messages and changes
/// ([`protocol::SendMeta::client_offset`]; the time, a counter for
/// messages of one millisecond, and a random part for two `sala` started at once).
pub fn new_client_offset() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).ok();
    let random: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("sala-{millis}-{count}-{random}")
}

/// Where a message of ours is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sending {
    /// Sent (maybe more than once), no ack yet: sent again after a reconnection.
    Pending,
    /// Stored with this id; shown as such until the room's copy arrives.
    Sent(i64),
    /// Refused, with the server's reason: never sent again.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub client_offset: String,
    pub text: String,
    pub state: Sending,
}

/// The messages this client sent that the room has not shown back yet, in the order sent.
#[derive(Debug, Default)]
pub struct Outbox {
    items: Vec<Outgoing>,
}

impl Outbox {
    /// A new message to send; its client offset.
    pub fn push(&mut self, text: String) -> String {
        let client_offset = new_client_offset();
        self.items.push(Outgoing {
            client_offset: client_offset.clone(),
            text,
            state: Sending::Pending,
        });
        client_offset
    }

    /// The server's answer to a send (or why none came).
    pub fn answered(&mut self, client_offset: &str, answer: &Result<i64, Failure>) {
        let Some(item) = self
            .items
            .iter_mut()
            .find(|item| item.client_offset == client_offset)
        else {
            return;
        };
        item.state = match answer {
            Ok(id) => Sending::Sent(*id),
            Err(failure) if failure.is_transient() => Sending::Pending,
            Err(failure) => Sending::Failed(failure.to_string()),
        };
    }

    /// The room showed a message back: with our client offset, or (read from a history page,
    /// which carries none) with the id our ack gave.
    pub fn shown(&mut self, client_offset: Option<&str>, id: i64) {
        self.items.retain(|item| {
            client_offset != Some(item.client_offset.as_str()) && item.state != Sending::Sent(id)
        });
    }

    /// Messages to send again (after a reconnection).
    pub fn pending(&self) -> impl Iterator<Item = &Outgoing> {
        self.items
            .iter()
            .filter(|item| item.state == Sending::Pending)
    }

    pub fn items(&self) -> &[Outgoing] {
        &self.items
    }

    /// Forgets the failed ones (they were shown; the person saw why).
    pub fn dismiss_failed(&mut self) {
        self.items
            .retain(|item| !matches!(item.state, Sending::Failed(_)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Rejection;

    #[test]
    fn offsets_are_unique_and_well_formed() {
        let offsets: std::collections::BTreeSet<String> =
            (0..1_000).map(|_| new_client_offset()).collect();
        assert_eq!(offsets.len(), 1_000);
        for offset in &offsets {
            assert_eq!(protocol::check_client_offset(offset), Ok(()), "{offset}");
        }
    }

    #[test]
    fn a_message_stays_pending_until_stored_and_goes_once_shown() {
        let mut outbox = Outbox::default();
        let offset = outbox.push("hola".into());
        outbox.answered(&offset, &Err(Failure::Lost));
        assert_eq!(outbox.pending().count(), 1, "resent after a reconnection");
        outbox.answered(&offset, &Ok(42));
        assert_eq!(outbox.pending().count(), 0);
        assert_eq!(outbox.items()[0].state, Sending::Sent(42));
        outbox.shown(None, 42);
        assert!(outbox.items().is_empty());
    }

    #[test]
    fn a_refused_message_is_never_resent() {
        let mut outbox = Outbox::default();
        let offset = outbox.push("x".repeat(3_000));
        let refused = Err(Failure::Rejected {
            reason: Rejection::TooLong,
            message: Rejection::TooLong.to_string(),
        });
        outbox.answered(&offset, &refused);
        assert_eq!(outbox.pending().count(), 0);
        assert!(matches!(outbox.items()[0].state, Sending::Failed(_)));
        outbox.dismiss_failed();
        assert!(outbox.items().is_empty());
    }
}
