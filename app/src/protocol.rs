//! The wire contract between the server, the browser and every other Socket.IO client.
//!
//! Event names, payload shapes, limits and validation live here and nowhere else, so the
//! server, the hydrated page and the tests cannot drift apart. `docs/protocol.md` describes the
//! same contract for people writing other clients.

use serde::{Deserialize, Serialize};

/// The seed's one event: a client emits it with the text of a message and the server relays it
/// to everybody, sender included. Its name is Spanish because the original wire protocol says so.
pub const NEW_MESSAGE: &str = "nuevo mensaje";

/// Longest message accepted, in characters (Unicode scalar values), unless configured otherwise.
pub const DEFAULT_MAX_MESSAGE_CHARS: usize = 2_000;

/// Largest Engine.IO frame a client may send, in bytes, unless configured otherwise. A frame over
/// it costs the sender its connection: nobody legitimate sends 64 KiB of chat at once.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 64 * 1024;

/// The acknowledgement the server returns for every event a client sent with an ack callback.
///
/// On the wire it is either `{"ok": true}` or `{"error": "<reason>", "message": "<text>"}`, so a
/// JavaScript client can branch on `res.ok` / `res.error` without knowing Rust's enum layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Ack {
    Accepted { ok: bool },
    Rejected { error: Rejection, message: String },
}

impl Ack {
    pub fn accepted() -> Self {
        Ack::Accepted { ok: true }
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
            MessageArg::Text(StrictText(text)) => check_message(&text, max_chars).map(|()| text),
            MessageArg::Other(_) => Err(Rejection::NotText),
        }
    }
}

/// A JSON string and nothing else. serde's own `String` also takes byte arrays that happen to be
/// UTF-8, which would let a binary attachment pass for a message.
#[derive(Debug)]
pub struct StrictText(String);

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

/// Whether a message has nothing to show. Clients do not send such messages; the server rejects them.
pub fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// Checks the text of a message against the rules every client must follow: not blank and at
/// most `max_chars` characters. The text itself is relayed untouched.
pub fn check_message(text: &str, max_chars: usize) -> Result<(), Rejection> {
    if is_blank(text) {
        return Err(Rejection::Empty);
    }
    // Counting stops one past the limit, so a huge string is not walked to its end.
    if text.chars().take(max_chars + 1).count() > max_chars {
        return Err(Rejection::TooLong);
    }
    Ok(())
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
        assert_eq!(check_message(&at_limit, 10), Ok(()));
        assert_eq!(check_message(&"ñ".repeat(11), 10), Err(Rejection::TooLong));
    }

    #[test]
    fn ordinary_text_passes_untouched_rules() {
        assert_eq!(check_message("hola", DEFAULT_MAX_MESSAGE_CHARS), Ok(()));
        assert_eq!(
            check_message("<img src=x onerror=alert(1)>", DEFAULT_MAX_MESSAGE_CHARS),
            Ok(())
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

    #[test]
    fn acks_have_the_documented_wire_shape() {
        assert_eq!(
            serde_json::to_value(Ack::accepted()).unwrap(),
            json!({"ok": true})
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
