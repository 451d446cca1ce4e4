//! Server delivery: replay what a client missed since its offset — messages, and changes to the
//! ones it holds — on every (re)connect ([`replay_since`], bounded by [`recent`]); and, after a
//! Redis outage, every room's messages and changes since the link was lost, to every node
//! ([`replay`], [`replay_changes`], from [`super::cluster`](mod@super::cluster)).

use std::future::Future;

use protocol::{
    ChatMessage, MessageChange, Skipped, HISTORY, HISTORY_SKIPPED, MESSAGE_CHANGED,
    REPLAY_MAX_BYTES, REPLAY_MAX_CHANGES, REPLAY_MAX_MESSAGES,
};
use socketioxide::{adapter::Adapter, extract::SocketRef};
use tracing::{debug, warn};

use super::handshake::Session;
use crate::{chat::Chat, store::Store};

/// Replays to a socket that just joined what its room stored after `offset` ([`recent`]): what
/// it leaves out ([`HISTORY_SKIPPED`]), the messages in [`HISTORY`] batches, then the changes to
/// what the client holds ([`MESSAGE_CHANGED`]). Its author's own messages keep their client
/// offsets.
pub async fn replay_since<A: Adapter>(
    socket: &SocketRef<A>,
    session: &Session,
    offset: i64,
    chat: &Chat,
) {
    let Some(recent) = recent(&chat.store, &session.identity.room, offset).await else {
        return;
    };
    if let Some(skipped) = recent.skipped {
        socket.emit(HISTORY_SKIPPED, &skipped).ok();
    }
    let me = Some(session.person());
    send_in_batches(&recent.messages, chat.limits.max_event_bytes(), |batch| {
        let seen: Vec<ChatMessage> = batch.iter().map(|m| m.as_seen_by(me)).collect();
        std::future::ready(socket.emit(HISTORY, &seen).is_ok())
    })
    .await;
    for change in &recent.changes {
        if socket.emit(MESSAGE_CHANGED, change).is_err() {
            break;
        }
    }
}

/// What a bounded replay sends: the messages, what it leaves out of them, if anything, and the
/// current state of the messages up to the offset that changed since.
#[derive(Debug, PartialEq)]
pub struct Recent {
    pub skipped: Option<Skipped>,
    pub messages: Vec<ChatMessage>,
    pub changes: Vec<MessageChange>,
}

/// The room's newest messages after `offset`, at most [`REPLAY_MAX_MESSAGES`] and
/// [`REPLAY_MAX_BYTES`] of them (at least one, however large), oldest first; and, if that leaves
/// some out, which. Then the current state of the messages up to `offset` changed since, at
/// most [`REPLAY_MAX_CHANGES`] and [`REPLAY_MAX_BYTES`] of them. More changes than that are not
/// sent at all: the replay says instead that what the client holds before its first replayed
/// message (before `offset + 1` if none) is to be read again ([`Skipped`]), as after a long
/// absence, and the history pages bring those messages as they are now. `None` if the store
/// cannot be read.
pub async fn recent(store: &Store, room: &str, offset: i64) -> Option<Recent> {
    let read = async {
        let newest = store
            .newest_after(room, offset, REPLAY_MAX_MESSAGES + 1)
            .await?;
        let changes = store
            .changes_after(room, offset, offset, REPLAY_MAX_CHANGES + 1)
            .await?;
        Ok::<_, crate::store::StoreError>((newest, changes))
    };
    let (newest, changes) = match read.await {
        Ok(read) => read,
        Err(error) => {
            warn!(room, %error, "history replay failed");
            return None;
        }
    };
    let mut left_out = newest.len() > REPLAY_MAX_MESSAGES;
    let mut kept = Vec::new();
    let mut bytes = 0;
    for message in newest.into_iter().rev().take(REPLAY_MAX_MESSAGES) {
        let size = json_size(&message);
        if !kept.is_empty() && bytes + size > REPLAY_MAX_BYTES {
            left_out = true;
            break;
        }
        bytes += size;
        kept.push(message);
    }
    kept.reverse();
    let changes_bytes: usize = changes.iter().map(json_size).sum();
    let too_many_changes = changes.len() > REPLAY_MAX_CHANGES || changes_bytes > REPLAY_MAX_BYTES;
    let skipped = match kept.first() {
        Some(first) if left_out || too_many_changes => Some(Skipped {
            after: offset,
            before: first.meta.id,
        }),
        None if too_many_changes => Some(Skipped {
            after: offset,
            before: offset + 1,
        }),
        _ => None,
    };
    Some(Recent {
        skipped,
        messages: kept,
        changes: if too_many_changes {
            Vec::new()
        } else {
            changes
        },
    })
}

/// Bytes of `value` as JSON in a batch (with its separator).
fn json_size(value: &impl serde::Serialize) -> usize {
    serde_json::to_vec(value).map_or(usize::MAX / 4, |json| json.len() + 1)
}

/// Hands `messages` to `send` in runs of at most `max_event_bytes` of JSON (long-polling cannot
/// deliver a packet larger than the frame limit); stops early when `send` says the receiver is
/// gone.
pub async fn send_in_batches<Sent: Future<Output = bool>>(
    messages: &[ChatMessage],
    max_event_bytes: usize,
    mut send: impl FnMut(&[ChatMessage]) -> Sent,
) {
    for batch in within_budget(messages, max_event_bytes) {
        if !send(batch).await {
            debug!("history replay interrupted");
            return;
        }
    }
}

/// Messages read from the store at a time.
const READ_BATCH: usize = 500;

/// Hands all the room's messages after `offset` to `send` (one `history` event each time),
/// oldest first, each batch at most `max_event_bytes` of JSON; stops early when `send` says the
/// receivers are gone. Unbounded, for the server's own catch-up after a Redis outage (what it
/// sends is what the outage held back); a client's replay is [`recent`].
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

/// Hands to `send` the current state of every message of the room changed after `offset`, in
/// the order of their latest changes; stops early when `send` says the receivers are gone. For
/// the server's catch-up after a Redis outage, beside [`replay`].
pub async fn replay_changes<Sent: Future<Output = bool>>(
    store: &Store,
    room: &str,
    mut offset: i64,
    mut send: impl FnMut(MessageChange) -> Sent,
) {
    loop {
        let read = match store
            .changes_after(room, offset, i64::MAX, READ_BATCH)
            .await
        {
            Ok(read) => read,
            Err(error) => {
                warn!(room, %error, "replay of changes failed");
                return;
            }
        };
        let count = read.len();
        for change in read {
            offset = change.revision;
            if !send(change).await {
                return;
            }
        }
        if count < READ_BATCH {
            return;
        }
    }
}

/// Splits `messages` into runs whose JSON fits in `budget` bytes (a run holds at least one).
fn within_budget(messages: &[ChatMessage], budget: usize) -> Vec<&[ChatMessage]> {
    let mut runs = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (at, message) in messages.iter().enumerate() {
        let size = json_size(message).min(budget);
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
    use protocol::MessageMeta;

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
                ..MessageMeta::default()
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
