//! Every string a person types — a message, a nickname — is checked and cleaned here and nowhere
//! else, so the page, the store, the history and the logs all hold the same, safe text.
//!
//! - Unicode NFC (on the server, which is the authority: the normalisation tables would weigh
//!   on the page's WASM for nothing, since the server normalises what it stores anyway), so that
//!   the same words are the same bytes wherever they are compared or searched.
//! - No control characters (a message may keep line breaks and tabs; `\r\n` becomes `\n`).
//! - No bidirectional embeddings, overrides or isolates (U+202A–U+202E, U+2066–U+2069): one
//!   of them can make a message — or the name before it — read backwards.
//! - Bounded in characters and in bytes.

/// Longest nickname, in characters (and [`MAX_UTF8_BYTES`] bytes per character at most).
pub const MAX_NAME_CHARS: usize = 32;

/// The most bytes one character takes in UTF-8: a text of `n` characters holds at most this
/// many times `n` bytes.
pub const MAX_UTF8_BYTES: usize = 4;

/// What is wrong with a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    Blank,
    TooLong,
    ForbiddenCharacter,
}

/// A message's text, cleaned: at most `max_chars` characters (so at most [`MAX_UTF8_BYTES`] ×
/// `max_chars` bytes).
pub fn message_text(text: &str, max_chars: usize) -> Result<String, TextError> {
    // A loose bound before any work, so a huge string is not normalised only to be refused
    // (the exact limits apply to the normalised text: composing "e" and U+0301 makes one "é").
    if text.len() > max_chars.saturating_mul(MAX_UTF8_BYTES * MAX_MARKS_PER_CHARACTER) {
        return Err(TextError::TooLong);
    }
    let text = normalized(&text.replace("\r\n", "\n"));
    if is_blank(&text) {
        return Err(TextError::Blank);
    }
    check_length(&text, max_chars)?;
    if text
        .chars()
        .any(|c| is_bidi_control(c) || (c.is_control() && c != '\n' && c != '\t'))
    {
        return Err(TextError::ForbiddenCharacter);
    }
    Ok(text)
}

/// Whether `value` is 1 to `max_len` ASCII bytes, each one `allowed`: the shape of every key and
/// name that travels in URLs, tokens and idempotency keys ([`crate::check_room`],
/// [`crate::Handshake::validate`]'s token, [`crate::check_client_offset`]).
pub fn is_short_ascii(value: &str, max_len: usize, allowed: impl Fn(u8) -> bool) -> bool {
    (1..=max_len).contains(&value.len()) && value.bytes().all(allowed)
}

/// Whether a message has nothing to show. Clients do not send such messages; the server rejects
/// them.
pub fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// A nickname, cleaned: trimmed, 1 to [`MAX_NAME_CHARS`] characters, on one line.
pub fn display_name(name: &str) -> Result<String, TextError> {
    let name = normalized(name.trim());
    if name.is_empty() {
        return Err(TextError::Blank);
    }
    check_length(&name, MAX_NAME_CHARS)?;
    if name.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(TextError::ForbiddenCharacter);
    }
    Ok(name)
}

/// How many code points a character typed with combining marks may take before composing.
const MAX_MARKS_PER_CHARACTER: usize = 4;

fn check_length(text: &str, max_chars: usize) -> Result<(), TextError> {
    // Counting stops one past the limit, so a huge string is not walked to its end.
    if text.len() > max_chars.saturating_mul(MAX_UTF8_BYTES)
        || text.chars().take(max_chars + 1).count() > max_chars
    {
        return Err(TextError::TooLong);
    }
    Ok(())
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(feature = "nfc")]
fn normalized(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfc().collect()
}

#[cfg(not(feature = "nfc"))]
fn normalized(text: &str) -> String {
    text.to_owned()
}

#[cfg(all(test, feature = "nfc"))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decomposed_and_composed_spellings_become_one() {
        let decomposed = "Jose\u{301} come n\u{303}andu\u{301}";
        assert_eq!(message_text(decomposed, 100).unwrap(), "José come ñandú");
        assert_eq!(display_name("Jose\u{301}").unwrap(), "José");
    }

    #[test]
    fn overrides_and_controls_are_refused_line_breaks_kept() {
        for text in [
            "abc\u{202E}cba",
            "a\u{2066}b",
            "bell\u{7}",
            "nul\u{0}",
            "esc\u{1b}[31m",
        ] {
            assert_eq!(
                message_text(text, 100),
                Err(TextError::ForbiddenCharacter),
                "{text:?}"
            );
        }
        assert_eq!(
            message_text("uno\r\ndos\tres", 100).unwrap(),
            "uno\ndos\tres"
        );
        assert_eq!(
            display_name("Ana\nMaría"),
            Err(TextError::ForbiddenCharacter)
        );
        assert_eq!(
            display_name("\u{202E}anA"),
            Err(TextError::ForbiddenCharacter)
        );
    }

    #[test]
    fn limits_count_characters_and_bytes() {
        assert_eq!(
            message_text(&"ñ".repeat(10), 10).unwrap().chars().count(),
            10
        );
        assert_eq!(message_text(&"ñ".repeat(11), 10), Err(TextError::TooLong));
        assert_eq!(display_name(&"😀".repeat(32)).unwrap().len(), 128);
        assert_eq!(display_name(&"😀".repeat(33)), Err(TextError::TooLong));
        // Combining marks that compose count once they are composed.
        assert_eq!(
            message_text(&"e\u{301}".repeat(10), 10).unwrap(),
            "é".repeat(10)
        );
    }

    proptest! {
        #[test]
        fn whatever_is_accepted_is_clean_bounded_and_stable(text in any::<String>(), max in 1usize..64) {
            if let Ok(clean) = message_text(&text, max) {
                prop_assert!(clean.chars().count() <= max);
                prop_assert!(clean.len() <= 4 * max);
                prop_assert!(!clean.trim().is_empty());
                prop_assert!(clean.chars().all(|c| !is_bidi_control(c) && (!c.is_control() || c == '\n' || c == '\t')));
                // Cleaning twice changes nothing: what is stored validates as it is.
                prop_assert_eq!(message_text(&clean, max), Ok(clean.clone()));
            }
        }

        #[test]
        fn whatever_name_is_accepted_is_one_clean_line(name in any::<String>()) {
            if let Ok(clean) = display_name(&name) {
                prop_assert!((1..=MAX_NAME_CHARS).contains(&clean.chars().count()));
                prop_assert!(clean.chars().all(|c| !c.is_control() && !is_bidi_control(c)));
                prop_assert_eq!(clean.trim(), clean.as_str());
                prop_assert_eq!(display_name(&clean), Ok(clean.clone()));
            }
        }

        #[test]
        fn plain_text_within_the_limit_passes_unchanged(text in "[a-zA-Z0-9áéíóúñ¿¡ ,.]{1,50}") {
            prop_assume!(!text.trim().is_empty());
            prop_assert_eq!(message_text(&text, 50), Ok(text.clone()));
        }
    }
}
