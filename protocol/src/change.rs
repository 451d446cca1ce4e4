//! Editing and deleting one's own messages: what a client asks ([`MessageEdit`],
//! [`MessageDeletion`], acknowledged like a message with [`Ack`]) and what the room is told
//! ([`MessageChange`]).
//!
//! A change is stored with an offset of its own, taken from the same sequence as messages' ids
//! and relayed in the same order within its room, so a client's resume offset covers the changes
//! it has seen as well as the messages: a reconnecting client is replayed the current state of
//! every message it holds that changed since ([`MessageChange`]'s `revision`).
//!
//! [`Ack`]: crate::Ack

use serde::{Deserialize, Deserializer, Serialize};

use crate::message::{check_client_offset, check_message, Rejection, StrictText};

/// Client → server, with an ack: `{"id": 42, "text": "…", "clientOffset"?: "…"}` ([`MessageEdit`]).
pub const EDIT_MESSAGE: &str = "edit message";
/// Client → server, with an ack: `{"id": 42, "clientOffset"?: "…"}` ([`MessageDeletion`]).
pub const DELETE_MESSAGE: &str = "delete message";
/// Server → the room, the author included: a message's new state ([`MessageChange`]).
pub const MESSAGE_CHANGED: &str = "message changed";

/// The most changes a replay carries to a (re)connecting client: the current state of the
/// messages it may hold (up to its offset) that changed since, within
/// [`REPLAY_MAX_BYTES`](crate::REPLAY_MAX_BYTES) of JSON as well. Past either, it carries none
/// and sends [`Skipped`](crate::Skipped) instead: the client reads what it holds again from the
/// history pages.
pub const REPLAY_MAX_CHANGES: usize = crate::REPLAY_MAX_MESSAGES;

/// An edit of one of the sender's messages: its new text, under the same rules as a new message.
/// `clientOffset` makes it exactly-once like sending: it shares the namespace of the sender's
/// message keys in the room ([`SendMeta::client_offset`](crate::SendMeta::client_offset)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageEdit {
    pub id: i64,
    #[serde(deserialize_with = "strict_text")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_offset: Option<String>,
}

impl MessageEdit {
    /// The edit with its text cleaned as a message's is, or why it is refused.
    pub fn validate(self, max_chars: usize) -> Result<Self, Rejection> {
        check_target(self.id, self.client_offset.as_deref())?;
        Ok(Self {
            text: check_message(&self.text, max_chars)?,
            ..self
        })
    }
}

/// A deletion of one of the sender's messages; `clientOffset` as in [`MessageEdit`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageDeletion {
    pub id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_offset: Option<String>,
}

impl MessageDeletion {
    pub fn validate(self) -> Result<Self, Rejection> {
        check_target(self.id, self.client_offset.as_deref())?;
        Ok(self)
    }
}

fn check_target(id: i64, client_offset: Option<&str>) -> Result<(), Rejection> {
    if id <= 0 {
        return Err(Rejection::BadMeta);
    }
    client_offset.map_or(Ok(()), check_client_offset)
}

fn strict_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    StrictText::deserialize(deserializer).map(StrictText::into_inner)
}

/// A message's state after a change ([`MESSAGE_CHANGED`]): `{"id": 42, "room": "general",
/// "revision": 57, "text": "…", "editedAt": "…"}` once edited, `{"id": 42, "room": "general",
/// "revision": 58, "deleted": true}` once deleted (its text is gone from the store too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageChange {
    /// The message changed.
    pub id: i64,
    pub room: String,
    /// The offset of the message's latest change: a client keeps, of one message, the state
    /// with the highest revision, whatever order they reach it in.
    pub revision: i64,
    /// The new text; absent once deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// When it was last edited, RFC 3339 in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_edit_is_checked_like_a_message() {
        let edit = |value| serde_json::from_value::<MessageEdit>(value).map(|e| e.validate(10));
        assert_eq!(
            edit(json!({"id": 4, "text": " hola\r\n", "clientOffset": "e-1"})).unwrap(),
            Ok(MessageEdit {
                id: 4,
                text: " hola\n".into(),
                client_offset: Some("e-1".into())
            })
        );
        assert_eq!(
            edit(json!({"id": 4, "text": "   "})).unwrap(),
            Err(Rejection::Empty)
        );
        assert_eq!(
            edit(json!({"id": 4, "text": "x".repeat(11)})).unwrap(),
            Err(Rejection::TooLong)
        );
        assert_eq!(
            edit(json!({"id": 0, "text": "hola"})).unwrap(),
            Err(Rejection::BadMeta)
        );
        assert_eq!(
            edit(json!({"id": 4, "text": "hola", "clientOffset": ""})).unwrap(),
            Err(Rejection::BadMeta)
        );
        // Not text, no id, not an object: not an edit at all.
        for value in [
            json!({"id": 4, "text": 7}),
            json!({"text": "hola"}),
            json!({"id": "4", "text": "hola"}),
            json!("hola"),
        ] {
            assert!(edit(value.clone()).is_err(), "{value}");
        }
    }

    #[test]
    fn changes_have_the_documented_wire_shape() {
        let edited = MessageChange {
            id: 42,
            room: "general".into(),
            revision: 57,
            text: Some("hola".into()),
            edited_at: Some("2026-12-04T10:00:00Z".into()),
            deleted: false,
        };
        assert_eq!(
            serde_json::to_value(&edited).unwrap(),
            json!({"id": 42, "room": "general", "revision": 57, "text": "hola",
                   "editedAt": "2026-12-04T10:00:00Z"})
        );
        let deleted = MessageChange {
            text: None,
            edited_at: None,
            deleted: true,
            revision: 58,
            ..edited
        };
        assert_eq!(
            serde_json::to_value(&deleted).unwrap(),
            json!({"id": 42, "room": "general", "revision": 58, "deleted": true})
        );
        assert_eq!(
            serde_json::to_value(MessageDeletion {
                id: 42,
                client_offset: None
            })
            .unwrap(),
            json!({"id": 42})
        );
    }
}
