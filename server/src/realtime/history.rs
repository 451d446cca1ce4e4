//! Server delivery: replay what a client missed since its offset, on every (re)connect, and to a
//! whole node's rooms after a Redis outage (`cluster`).

use std::future::Future;

use app::protocol::ChatMessage;
use tracing::{debug, warn};

use crate::store::Store;

/// Messages read from the store at a time.
const READ_BATCH: usize = 500;

/// Hands the room's messages after `offset` to `send` (one `history` event each time), oldest
/// first, each batch at most `max_event_bytes` of JSON (long-polling cannot deliver a packet
/// larger than the frame limit); stops early when `send` says the receiver is gone.
/// Receivers have already joined the room, so a message stored meanwhile may arrive both live
/// and replayed: clients keep messages by id, which makes that harmless.
pub async fn replay<Sent: Future<Output = bool>>(
    store: &Store,
    room: &str,
    mut offset: i64,
    max_event_bytes: usize,
    mut send: impl FnMut(&[ChatMessage]) -> Sent,
) {
    let mut sent = 0;
    loop {
        let read = match store.after(room, offset, READ_BATCH).await {
            Ok(read) => read,
            Err(error) => {
                warn!(room, %error, "history replay failed");
                return;
            }
        };
        let Some(last) = read.last() else { break };
        offset = last.meta.id;
        for batch in within_budget(&read, max_event_bytes) {
            if !send(batch).await {
                debug!(room, "history replay interrupted");
                return;
            }
        }
        sent += read.len();
        if read.len() < READ_BATCH {
            break;
        }
    }
    debug!(room, sent, "history replayed");
}

/// Splits `messages` into runs whose JSON fits in `budget` bytes (a run holds at least one).
fn within_budget(messages: &[ChatMessage], budget: usize) -> Vec<&[ChatMessage]> {
    let mut runs = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (at, message) in messages.iter().enumerate() {
        let size = serde_json::to_vec(message).map_or(budget, |json| json.len() + 1);
        if at > start && used + size > budget {
            runs.push(&messages[start..at]);
            (start, used) = (at, 0);
        }
        used += size;
    }
    if start < messages.len() {
        runs.push(&messages[start..]);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::protocol::MessageMeta;

    fn message(text: &str) -> ChatMessage {
        ChatMessage {
            text: text.into(),
            meta: MessageMeta {
                id: 1,
                user: "Ana".into(),
                person: "p-ana".into(),
                room: "general".into(),
                at: "2026-11-25T10:00:00Z".into(),
                client_offset: None,
            },
        }
    }

    #[test]
    fn runs_fit_the_budget_and_keep_every_message_in_order() {
        let messages: Vec<_> = (0..50).map(|n| message(&"x".repeat(n * 10))).collect();
        let runs = within_budget(&messages, 2_000);
        assert!(runs.len() > 1);
        for run in &runs {
            let size: usize = run
                .iter()
                .map(|m| serde_json::to_vec(m).unwrap().len() + 1)
                .sum();
            assert!(
                size <= 2_000 || run.len() == 1,
                "run of {} is {size} bytes",
                run.len()
            );
        }
        let flattened: Vec<_> = runs.concat();
        assert_eq!(flattened, messages);
    }

    #[test]
    fn a_message_larger_than_the_budget_goes_alone() {
        let messages = vec![message("a"), message(&"x".repeat(5_000)), message("b")];
        let runs = within_budget(&messages, 1_000);
        assert_eq!(runs.iter().map(|r| r.len()).collect::<Vec<_>>(), [1, 1, 1]);
    }
}
