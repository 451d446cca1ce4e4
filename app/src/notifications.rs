//! Browser notifications of new messages while the tab is hidden, the way everyday chats do them:
//! the page asks the browser's permission only when the reader presses «Activar avisos» (never
//! on load: a prompt nobody asked for is refused, and then the page can never ask again), each
//! room can be switched off (remembered in localStorage, per room), and a mention of the reader
//! notifies even in a room switched off.
//!
//! The rule is [`should_notify`]; the browser calls below run in the browser only (in effects and
//! event handlers), never while the server renders.

use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{Notification, NotificationOptions, NotificationPermission};

use crate::me::storage;

/// What the browser lets the page do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// No Notification API (some phone browsers outside an installed app).
    Unsupported,
    /// Not asked yet: the page may ask, once the reader presses the button.
    NotAsked,
    Granted,
    /// Refused (by the reader or the browser's settings): only the browser's settings can
    /// change it.
    Denied,
}

/// Whether a new message of somebody else becomes a notification: only with permission, only
/// while the tab is hidden (a visible page shows it already), and in a room switched off only
/// if it mentions the reader.
pub fn should_notify(
    permission: Permission,
    tab_hidden: bool,
    room_off: bool,
    mentions_me: bool,
) -> bool {
    permission == Permission::Granted && tab_hidden && (!room_off || mentions_me)
}

/// The notification's title: who wrote, where, and whether it was to the reader.
pub fn notification_title(user: &str, room: &str, mentions_me: bool) -> String {
    if mentions_me {
        format!("{user} te ha mencionado en #{room}")
    } else {
        format!("{user} en #{room}")
    }
}

/// Characters of a message shown in its notification (the system cuts long ones anyway).
pub const BODY_CHARS: usize = 200;

/// The notification's body: the message, cut at [`BODY_CHARS`] characters.
pub fn notification_body(text: &str) -> String {
    match text.char_indices().nth(BODY_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Where a room switched off is remembered: this prefix and the room's name.
const ROOM_OFF_KEY: &str = "chat.avisos-desactivados.";

fn supported() -> bool {
    web_sys::window().is_some_and(|window| {
        js_sys::Reflect::has(&window, &JsValue::from_str("Notification")).unwrap_or(false)
    })
}

/// What the browser allows now.
pub fn permission() -> Permission {
    if !supported() {
        return Permission::Unsupported;
    }
    match Notification::permission() {
        NotificationPermission::Granted => Permission::Granted,
        NotificationPermission::Denied => Permission::Denied,
        _ => Permission::NotAsked,
    }
}

/// Asks the browser (it shows its prompt); what it allows afterwards.
pub async fn ask() -> Permission {
    if !supported() {
        return Permission::Unsupported;
    }
    if let Ok(asking) = Notification::request_permission() {
        // Whatever the answer, or none: read it back from the browser.
        let _ = wasm_bindgen_futures::JsFuture::from(asking).await;
    }
    permission()
}

/// Whether the reader switched notifications off for `room`.
pub fn room_off(room: &str) -> bool {
    storage()
        .and_then(|storage| storage.get_item(&format!("{ROOM_OFF_KEY}{room}")).ok())
        .flatten()
        .is_some()
}

pub fn set_room_off(room: &str, off: bool) {
    let Some(storage) = storage() else { return };
    let key = format!("{ROOM_OFF_KEY}{room}");
    if off {
        storage.set_item(&key, "1").ok();
    } else {
        storage.remove_item(&key).ok();
    }
}

/// Whether the tab is hidden now (in the background, minimised, the screen locked).
pub fn tab_hidden() -> bool {
    web_sys::window()
        .and_then(|window| window.document())
        .is_some_and(|document| document.hidden())
}

/// Shows a notification; one per room at a time (`tag`), and a click on it brings the tab back.
pub fn show(title: &str, body: &str, room: &str) {
    let options = NotificationOptions::new();
    options.set_body(body);
    options.set_tag(&format!("sala-{room}"));
    let Ok(notification) = Notification::new_with_options(title, &options) else {
        return;
    };
    FOCUS_TAB.with(|focus| notification.set_onclick(Some(focus.as_ref().unchecked_ref())));
}

thread_local! {
    /// What a click on any notification does: bring the tab back. One for the page's lifetime.
    static FOCUS_TAB: Closure<dyn Fn()> = Closure::new(|| {
        if let Some(window) = web_sys::window() {
            window.focus().ok();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_hidden_tab_with_permission_is_notified() {
        use Permission::*;
        for permission in [Unsupported, NotAsked, Denied] {
            assert!(
                !should_notify(permission, true, false, true),
                "{permission:?}"
            );
        }
        assert!(should_notify(Granted, true, false, false));
        assert!(
            !should_notify(Granted, false, false, true),
            "the page shows it"
        );
    }

    #[test]
    fn a_room_switched_off_still_notifies_a_mention() {
        assert!(!should_notify(Permission::Granted, true, true, false));
        assert!(should_notify(Permission::Granted, true, true, true));
    }

    #[test]
    fn long_messages_are_cut_on_a_character() {
        assert_eq!(notification_body("hola"), "hola");
        let long = "ñ".repeat(BODY_CHARS + 5);
        let body = notification_body(&long);
        assert_eq!(body.chars().count(), BODY_CHARS + 1);
        assert!(body.ends_with('…'));
        assert_eq!(
            notification_title("Ana", "general", true),
            "Ana te ha mencionado en #general"
        );
    }
}
