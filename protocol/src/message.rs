//! Messages: what a client sends, what the server relays and stores, and how it answers.

use serde::{
    de::{IgnoredAny, SeqAccess, Visitor},
    Deserialize, Deserializer, Serialize,
};

use crate::text::{message_text, TextError};

/// Longest message accepted, in characters (Unicode scalar values), unless configured otherwise.
pub const DEFAULT_MAX_MESSAGE_CHARS: usize = 2_000;

/// Largest Engine.IO frame a client may send, in bytes, unless configured otherwise. A frame over
/// it costs the sender its connection: nobody legitimate sends 64 KiB of chat at once.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 64 * 1024;

/// How many messages a page of history holds: the server-rendered page, and each "older" page.
pub const HISTORY_PAGE: usize = 50;

/// The most a replay carries to a (re)connecting client: its room's newest messages after the
/// client's offset, up to this many…
pub const REPLAY_MAX_MESSAGES: usize = 4 * HISTORY_PAGE;
/// …and this many bytes of JSON. A client that missed more is told which ones it was not sent
/// ([`Skipped`]) and reads them through the history pages, at its own pace, as it reads older
/// ones: a handshake of a few hundred bytes never makes the server read and send a whole room.
pub const REPLAY_MAX_BYTES: usize = 256 * 1024;

/// Server → client, before a replay that leaves messages out ([`HISTORY_SKIPPED`]): the room's
/// messages with ids strictly between `after` (the offset the client sent) and `before` (the
/// first id the replay carries) were not sent.
///
/// [`HISTORY_SKIPPED`]: crate::HISTORY_SKIPPED
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub after: i64,
    pub before: i64,
}

/// The acknowledgement the server returns for every event a client sent with an ack callback.
///
/// On the wire it is either `{"ok": true, "id": 42}` (the stored message's id, when it was
/// stored) or `{"error": "<reason>", "message": "<text>"}`, so a JavaScript client can branch on
/// `res.ok` / `res.error` without knowing Rust's enum layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Ack {
    Accepted {
        ok: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<i64>,
    },
    Rejected {
        error: Rejection,
        message: String,
    },
}

impl Ack {
    pub fn stored(id: i64) -> Self {
        Ack::Accepted {
            ok: true,
            id: Some(id),
        }
    }

    pub fn is_accepted(&self) -> bool {
        matches!(self, Ack::Accepted { ok: true, .. })
    }

    pub fn rejected(reason: Rejection) -> Self {
        Ack::Rejected {
            error: reason,
            message: reason.to_string(),
        }
    }
}

/// Why a message was not relayed. The serialised name is the stable machine-readable code; the
/// display text is what a person reads in the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    #[error("Falta el texto del mensaje.")]
    Missing,
    #[error("El mensaje debe ser texto.")]
    NotText,
    #[error("El mensaje está vacío.")]
    Empty,
    #[error("El mensaje es demasiado largo.")]
    TooLong,
    #[error("Vas demasiado rápido: espera un momento.")]
    TooFast,
    #[error("Los datos del mensaje no son válidos.")]
    BadMeta,
    #[error("El mensaje contiene caracteres no permitidos (de control o de dirección del texto).")]
    BadCharacters,
    #[error("No se pudo guardar el mensaje; inténtalo de nuevo.")]
    Unavailable,
    /// An edit or deletion ([`crate::change`]) of a message that is not in the sender's room, or
    /// was deleted.
    #[error("Ese mensaje ya no existe.")]
    NotFound,
    /// An edit or deletion of somebody else's message.
    #[error("Solo puedes cambiar tus propios mensajes.")]
    NotYours,
}

/// The arguments of `"nuevo mensaje"` as a client sent them: the text, then optional metadata.
#[derive(Debug)]
pub struct SentMessage {
    pub text: Option<MessageArg>,
    pub meta: Result<SendMeta, Rejection>,
}

impl SentMessage {
    /// The text to store and relay, and its client offset, or why there are none.
    pub fn validate(self, max_chars: usize) -> Result<(String, Option<String>), Rejection> {
        let text = self.text.ok_or(Rejection::Missing)?.into_text(max_chars)?;
        let meta = self.meta?;
        if let Some(offset) = &meta.client_offset {
            check_client_offset(offset)?;
        }
        Ok((text, meta.client_offset))
    }
}

// socketioxide hands a tuple type every argument of the event (any other type gets the first
// one only), so this reads the arguments as a tuple of whatever length the client sent.
impl<'de> Deserialize<'de> for SentMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Arguments;
        impl<'de> Visitor<'de> for Arguments {
            type Value = SentMessage;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("the arguments of a message")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut args: S) -> Result<SentMessage, S::Error> {
                let text = args.next_element::<MessageArg>()?;
                let meta = match args.next_element::<MetaArg>()? {
                    None => Ok(SendMeta::default()),
                    Some(MetaArg::Meta(meta)) => Ok(meta),
                    Some(MetaArg::Other(_)) => Err(Rejection::BadMeta),
                };
                while args.next_element::<IgnoredAny>()?.is_some() {}
                Ok(SentMessage { text, meta })
            }
        }
        deserializer.deserialize_tuple(usize::MAX, Arguments)
    }
}

/// The optional second argument of `"nuevo mensaje"` from a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMeta {
    /// The message's idempotency key, chosen by its sender: unique among the sender's messages
    /// and changes ([`crate::change`]) in a room. The server's rule for a resend is at
    /// `Store::insert_then` in the server crate (which this crate cannot link to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_offset: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum MetaArg {
    Meta(SendMeta),
    Other(IgnoredAny),
}

/// The longest client offset ([`SendMeta::client_offset`]): a UUID fits with room to spare.
pub const MAX_CLIENT_OFFSET_CHARS: usize = 64;

/// A client offset: 1 to [`MAX_CLIENT_OFFSET_CHARS`] visible ASCII characters.
pub fn check_client_offset(offset: &str) -> Result<(), Rejection> {
    if crate::text::is_short_ascii(offset, MAX_CLIENT_OFFSET_CHARS, |b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(Rejection::BadMeta)
    }
}

/// Consecutive messages of one person at most this many minutes apart are shown as one group,
/// under one name and time (as Slack and Discord group them), by every client of this crate.
pub const GROUP_WITHIN_MINUTES: i64 = 5;

/// Whether a person's message `minutes_apart` after their previous one is shown in its group
/// ([`GROUP_WITHIN_MINUTES`]).
pub fn joins_group(minutes_apart: i64) -> bool {
    (0..=GROUP_WITHIN_MINUTES).contains(&minutes_apart)
}

/// What the server adds to a stored message: the second argument of a relayed `"nuevo mensaje"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageMeta {
    /// The server offset: increases with every stored message, across rooms.
    pub id: i64,
    /// The author's name, as they chose it.
    pub user: String,
    /// The author's public id ([`Credentials::person`](crate::Credentials::person)); empty for
    /// messages stored before the server issued identities.
    #[serde(default)]
    pub person: String,
    pub room: String,
    /// When the server stored it, RFC 3339 in UTC.
    pub at: String,
    /// The author's own key for it ([`SendMeta::client_offset`]): sent to the connection that
    /// sent the message, and in replays to its author, never to anybody else
    /// ([`ChatMessage::as_seen_by`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_offset: Option<String>,
    /// When its author last edited it, RFC 3339 in UTC; absent if never ([`crate::change`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    /// Its author deleted it: its text is empty.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The offset of its latest change ([`MessageChange::revision`]); absent if never changed.
    ///
    /// [`MessageChange::revision`]: crate::MessageChange::revision
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
}

/// A stored message with its text: an entry of a `history` batch or of a history page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub text: String,
    #[serde(flatten)]
    pub meta: MessageMeta,
}

impl ChatMessage {
    /// The message's state as a change tells it ([`crate::MessageChange`]): its text unless
    /// deleted, at its latest revision (its own id if it never changed).
    pub fn as_change(&self) -> crate::MessageChange {
        let meta = &self.meta;
        crate::MessageChange {
            id: meta.id,
            room: meta.room.clone(),
            revision: meta.revision.unwrap_or(meta.id),
            text: (!meta.deleted).then(|| self.text.clone()),
            edited_at: meta.edited_at.clone(),
            deleted: meta.deleted,
        }
    }

    /// The message as `person` may see it: its client offset only if `person` wrote it. Another
    /// person's key is none of anybody's business (`None`: nobody's).
    pub fn as_seen_by(&self, person: Option<&str>) -> ChatMessage {
        let mut seen = self.clone();
        if person != Some(self.meta.person.as_str()) || self.meta.person.is_empty() {
            seen.meta.client_offset = None;
        }
        seen
    }
}

/// Where a page of a room's history is read over HTTP: a POST of `room` and, optionally,
/// `before` (form-encoded), answered with a [`HistoryPage`] in JSON. The page's server function
/// `load_history` (app crate) serves it; clients without Leptos read it here.
pub const HISTORY_PAGE_PATH: &str = "/api/historial";

/// A page of a room's history: up to [`HISTORY_PAGE`] messages before the asked-for id (or the
/// newest), oldest first, without client offsets, and the offset to resume live delivery from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub messages: Vec<ChatMessage>,
    /// The room's highest offset when the page was read (0 if it has none yet): every later
    /// message of this room reaches a client live or through the socket's replay from it.
    pub offset: i64,
}

/// The first argument of `"nuevo mensaje"` as a client sent it: the seed sends a string, and
/// anything else is refused rather than guessed at.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum MessageArg {
    Text(StrictText),
    Other(serde::de::IgnoredAny),
}

impl MessageArg {
    /// The text to relay, or why there is none.
    pub fn into_text(self, max_chars: usize) -> Result<String, Rejection> {
        match self {
            MessageArg::Text(StrictText(text)) => check_message(&text, max_chars),
            MessageArg::Other(_) => Err(Rejection::NotText),
        }
    }
}

/// A JSON string and nothing else. serde's own `String` also takes byte arrays that happen to be
/// UTF-8, which would let a binary attachment pass for a message.
#[derive(Debug)]
pub struct StrictText(String);

impl StrictText {
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for StrictText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OnlyStrings;
        impl serde::de::Visitor<'_> for OnlyStrings {
            type Value = String;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<String, E> {
                Ok(text.to_owned())
            }
            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<String, E> {
                Ok(text)
            }
        }
        deserializer.deserialize_str(OnlyStrings).map(StrictText)
    }
}

/// The text of a message as it is stored and relayed, or why it is refused: see
/// [`crate::text::message_text`].
pub fn check_message(text: &str, max_chars: usize) -> Result<String, Rejection> {
    message_text(text, max_chars).map_err(|error| match error {
        TextError::Blank => Rejection::Empty,
        TextError::TooLong => Rejection::TooLong,
        TextError::ForbiddenCharacter => Rejection::BadCharacters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blank_messages_are_empty() {
        for text in ["", " ", "\n\t  ", "\u{3000}"] {
            assert_eq!(check_message(text, 10), Err(Rejection::Empty), "{text:?}");
        }
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        let at_limit = "ñ".repeat(10);
        assert_eq!(at_limit.len(), 20);
        assert_eq!(check_message(&at_limit, 10), Ok(at_limit.clone()));
        assert_eq!(check_message(&"ñ".repeat(11), 10), Err(Rejection::TooLong));
    }

    #[test]
    fn ordinary_text_passes_untouched_rules() {
        assert_eq!(
            check_message("hola", DEFAULT_MAX_MESSAGE_CHARS),
            Ok("hola".to_owned())
        );
        // Markup is text like any other: the page shows it, nothing interprets it.
        let markup = "<img src=x onerror=alert(1)>";
        assert_eq!(
            check_message(markup, DEFAULT_MAX_MESSAGE_CHARS),
            Ok(markup.to_owned())
        );
    }

    #[test]
    fn only_strings_are_messages() {
        for (arg, expected) in [
            (json!("hola"), Ok("hola".to_owned())),
            (json!(42), Err(Rejection::NotText)),
            (json!(null), Err(Rejection::NotText)),
            (json!({"text": "hola"}), Err(Rejection::NotText)),
            (json!(["hola"]), Err(Rejection::NotText)),
            (json!("   "), Err(Rejection::Empty)),
        ] {
            let arg: MessageArg = serde_json::from_value(arg.clone()).unwrap();
            assert_eq!(arg.into_text(10), expected);
        }
    }

    #[test]
    fn bytes_are_not_text_even_when_they_are_utf8() {
        let arg: MessageArg = serde_json::from_value(json!("placeholder")).unwrap();
        assert!(matches!(arg, MessageArg::Text(_)));
        let bytes = serde::de::value::BytesDeserializer::<serde::de::value::Error>::new(b"hola");
        let arg = MessageArg::deserialize(bytes).unwrap();
        assert_eq!(arg.into_text(10), Err(Rejection::NotText));
    }

    fn sent(args: serde_json::Value) -> Result<(String, Option<String>), Rejection> {
        serde_json::from_value::<SentMessage>(args)
            .unwrap()
            .validate(10)
    }

    #[test]
    fn a_message_is_its_text_and_optional_metadata() {
        assert_eq!(sent(json!(["hola"])), Ok(("hola".into(), None)));
        assert_eq!(
            sent(json!(["hola", {"clientOffset": "u1-7"}])),
            Ok(("hola".into(), Some("u1-7".into())))
        );
        assert_eq!(sent(json!(["hola", {}])), Ok(("hola".into(), None)));
        assert_eq!(
            sent(json!(["hola", {"other": 1}, "extra"])),
            Ok(("hola".into(), None))
        );
        assert_eq!(sent(json!([])), Err(Rejection::Missing));
        assert_eq!(
            sent(json!([7, {"clientOffset": "x"}])),
            Err(Rejection::NotText)
        );
        assert_eq!(sent(json!(["hola", "meta?"])), Err(Rejection::BadMeta));
        assert_eq!(
            sent(json!(["hola", {"clientOffset": 5}])),
            Err(Rejection::BadMeta)
        );
        assert_eq!(
            sent(json!(["hola", {"clientOffset": ""}])),
            Err(Rejection::BadMeta)
        );
        assert_eq!(
            sent(json!(["hola", {"clientOffset": "x".repeat(65)}])),
            Err(Rejection::BadMeta)
        );
    }

    #[test]
    fn relayed_messages_have_the_documented_wire_shape() {
        let message = ChatMessage {
            text: "hola".into(),
            meta: MessageMeta {
                id: 42,
                user: "Ana".into(),
                person: "p-ana".into(),
                room: "general".into(),
                at: "2026-11-25T10:00:00Z".into(),
                client_offset: Some("u1-1".into()),
                ..MessageMeta::default()
            },
        };
        assert_eq!(
            serde_json::to_value(&message).unwrap(),
            json!({"text": "hola", "id": 42, "user": "Ana", "person": "p-ana", "room": "general",
                   "at": "2026-11-25T10:00:00Z", "clientOffset": "u1-1"})
        );
    }

    #[test]
    fn only_its_author_sees_a_messages_client_offset() {
        let message = ChatMessage {
            text: "hola".into(),
            meta: MessageMeta {
                id: 1,
                user: "Ana".into(),
                person: "p-ana".into(),
                room: "general".into(),
                at: "2026-11-25T10:00:00Z".into(),
                client_offset: Some("k-1".into()),
                ..MessageMeta::default()
            },
        };
        let offset = |person| message.as_seen_by(person).meta.client_offset;
        assert_eq!(offset(Some("p-ana")), Some("k-1".into()));
        assert_eq!(offset(Some("p-beto")), None);
        assert_eq!(offset(None), None);
        let mut legacy = message.clone();
        legacy.meta.person.clear();
        assert_eq!(legacy.as_seen_by(Some("")).meta.client_offset, None);
    }

    #[test]
    fn acks_have_the_documented_wire_shape() {
        let plain: Ack = serde_json::from_value(json!({"ok": true})).unwrap();
        assert!(plain.is_accepted());
        assert_eq!(
            serde_json::to_value(Ack::stored(42)).unwrap(),
            json!({"ok": true, "id": 42})
        );
        assert_eq!(
            serde_json::to_value(Ack::rejected(Rejection::TooLong)).unwrap(),
            json!({"error": "too_long", "message": "El mensaje es demasiado largo."})
        );
        let back: Ack =
            serde_json::from_value(json!({"error": "not_text", "message": "x"})).unwrap();
        assert_eq!(
            back,
            Ack::Rejected {
                error: Rejection::NotText,
                message: "x".into()
            }
        );
    }
}
