//! A chat message from a client, as the server takes it: the event's arguments as JSON (what
//! socketioxide hands the handler), then validation. Nothing may panic, and whatever is accepted
//! is the clean text that every part of the chat relies on.

#![no_main]

use protocol::{
    check_client_offset, check_message, SentMessage, DEFAULT_MAX_MESSAGE_CHARS as MAX,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(clean) = check_message(text, MAX) {
            assert_clean(&clean);
        }
    }
    let Ok(sent) = serde_json::from_slice::<SentMessage>(data) else {
        return;
    };
    if let Ok((text, client_offset)) = sent.validate(MAX) {
        assert_clean(&text);
        if let Some(offset) = client_offset {
            assert_eq!(check_client_offset(&offset), Ok(()));
        }
    }
});

fn assert_clean(text: &str) {
    assert!(unicode_normalization::is_nfc(text), "not NFC: {text:?}");
    assert!(!text.trim().is_empty());
    assert!(text.chars().count() <= MAX && text.len() <= 4 * MAX);
    assert!(
        text.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'),
        "a control character: {text:?}"
    );
    assert!(
        !text
            .chars()
            .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')),
        "a bidi control: {text:?}"
    );
    // What is stored validates to itself: cleaning twice changes nothing.
    assert_eq!(check_message(text, MAX).as_deref(), Ok(text));
}
