//! Who is using this browser: a nickname, and the token of the identity the server issued
//! ([`Credentials`]), kept in localStorage so that every tab of one person shares them.

use protocol::{check_name, Credentials, DEFAULT_NAME};

const NAME_KEY: &str = "chat.nombre";
const TOKEN_KEY: &str = "chat.identidad";

/// The browser's localStorage, if it has one and lets the page use it.
pub(crate) fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The saved nickname, if there is a valid one.
pub fn saved_name() -> String {
    storage()
        .and_then(|s| s.get_item(NAME_KEY).ok().flatten())
        .and_then(|name| check_name(&name).ok())
        .unwrap_or_else(|| DEFAULT_NAME.to_owned())
}

pub fn save_name(name: &str) {
    if let Some(storage) = storage() {
        storage.set_item(NAME_KEY, name).ok();
    }
}

/// The token this browser was given, if any: sent in every handshake, so that the person is the
/// same from every tab and after every reload.
pub fn saved_token() -> Option<String> {
    storage()?.get_item(TOKEN_KEY).ok().flatten()
}

/// Keeps the identity the server says this browser is (a new one if it did not recognise the
/// token it was sent).
pub fn save_credentials(credentials: &Credentials) {
    if let Some(storage) = storage() {
        storage.set_item(TOKEN_KEY, &credentials.token).ok();
    }
}

/// A fresh client offset: unique among this person's messages and changes
/// ([`protocol::SendMeta::client_offset`]), across its tabs and reloads (the time, the tab's
/// counter and a random part).
pub fn client_offset(counter: u32) -> String {
    format!(
        "{:x}-{counter}-{}",
        js_sys::Date::now() as u64,
        random_token(6)
    )
}

fn random_token(length: usize) -> String {
    (0..length)
        .map(|_| {
            let digit = (js_sys::Math::random() * 36.0) as u32;
            char::from_digit(digit.min(35), 36).unwrap_or('0')
        })
        .collect()
}
