//! A handshake's `auth` from a client, as the server takes it: JSON, then validation. Nothing
//! may panic, and an accepted identity holds only what the rest of the chat expects (names it
//! can show, rooms it can put in a URL, offsets it can query with).

#![no_main]

use protocol::{check_name, check_room, Handshake, MAX_TOKEN_CHARS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(handshake) = serde_json::from_slice::<Handshake>(data) else {
        return;
    };
    let Ok(identity) = handshake.validate() else {
        return;
    };
    assert_eq!(check_name(&identity.name).as_deref(), Ok(identity.name.as_str()));
    assert_eq!(check_room(&identity.room).as_deref(), Ok(identity.room.as_str()));
    assert!(identity.offset.is_none_or(|offset| offset >= 0));
    if let Some(token) = &identity.token {
        assert!(token.len() <= MAX_TOKEN_CHARS);
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
});
