//! Who is using this browser: a nickname and a user id, kept in localStorage so every tab of
//! one person shares them.

use crate::protocol::{check_name, DEFAULT_NAME};

const NAME_KEY: &str = "chat.nombre";
const USER_KEY: &str = "chat.usuario";

fn storage() -> Option<web_sys::Storage> {
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

/// This browser's user id, made up on first use.
pub fn user_id() -> String {
    let storage = storage();
    if let Some(id) = storage
        .as_ref()
        .and_then(|s| s.get_item(USER_KEY).ok().flatten())
    {
        return id;
    }
    let id = random_token();
    if let Some(storage) = storage {
        storage.set_item(USER_KEY, &id).ok();
    }
    id
}

/// A fresh client offset: unique across this browser's tabs and reloads. It starts with the user
/// id, which is how the page recognises its person's messages, from any tab.
pub fn client_offset(user_id: &str, counter: u32) -> String {
    format!("{user_id}-{:x}-{counter}", js_sys::Date::now() as u64)
}

/// Whether a message with this client offset was sent by `user_id` (from any of its tabs).
pub fn is_mine(client_offset: Option<&str>, user_id: &str) -> bool {
    !user_id.is_empty()
        && client_offset
            .and_then(|offset| offset.strip_prefix(user_id))
            .is_some_and(|rest| rest.starts_with('-'))
}

fn random_token() -> String {
    (0..16)
        .map(|_| {
            let digit = (js_sys::Math::random() * 36.0) as u32;
            char::from_digit(digit.min(35), 36).unwrap_or('0')
        })
        .collect()
}
