//! The chat's page, shared by the server, which renders it (feature `ssr`), and the browser,
//! which hydrates it (feature `hydrate`): [`shell`] is the HTML document, and [`ChatPage`] what
//! its `<body>` holds.
//!
//! The page is one route, which the server renders in order with `leptos_axum` (so the first
//! history page is in the HTML): another room is another page load, so the crate has no
//! `leptos_router`, which would only grow the WASM.
//!
//! # Modules
//!
//! - [`components`]: one file per visible part of the page. [`components::ChatRoom`] holds the
//!   chat's state and its socket, and lays out the other parts.
//! - [`timeline`]: what the message list shows, as plain data kept free of the DOM, so it is
//!   unit-tested: messages in id order, mine while on their way, edits and deletions, notices,
//!   grouping and day separators, unread counts.
//! - [`socket`]: a small typed face on the official socket.io-client, which the page loads as a
//!   script.
//! - [`server_fns`]: the server functions (history pages, the message form without
//!   JavaScript), and what the server provides them with.
//! - [`clock`]: times in the reader's time zone and language, through the browser's `Intl`.
//! - [`rich_text`]: links and mentions in a message's text, as pieces rendered as text.
//! - [`notifications`]: browser notifications of new messages while the tab is hidden.
//! - [`me`]: who uses this browser: the nickname and the identity token, in localStorage.
//! - [`connection`]: the state of the link to the server, as the page shows it.

pub mod clock;
pub mod components;
pub mod connection;
pub mod me;
pub mod notifications;
pub mod rich_text;
pub mod server_fns;
pub mod socket;
pub mod timeline;

use leptos::prelude::*;
use protocol::CLIENT_SCRIPT_PATH;

use components::ChatRoom;

/// The room the page shows. The server provides it from the URL it routed; in the browser it is
/// read back from the address bar, through the same rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentRoom(pub String);

impl CurrentRoom {
    fn from_location() -> Self {
        let path = web_sys::window()
            .and_then(|window| window.location().pathname().ok())
            .unwrap_or_default();
        Self(protocol::room_from_path(&path).unwrap_or_else(|_| protocol::DEFAULT_ROOM.to_owned()))
    }
}

/// The whole HTML document. The server renders it; the browser hydrates what [`ChatPage`] put in
/// `<body>`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let room = use_context::<CurrentRoom>().unwrap_or_else(CurrentRoom::from_location);
    view! {
        <!DOCTYPE html>
        <html lang="es">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <title>{components::page_title(&room.0, 0)}</title>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name) />
                <noscript>
                    <link rel="stylesheet" href="/sin-js.css" />
                </noscript>
                // A classic deferred script runs before the (module) hydration script, so the
                // global `io` exists by the time the WASM looks for it.
                <script src=CLIENT_SCRIPT_PATH defer></script>
                <AutoReload options=options.clone() />
                <HydrationScripts options />
            </head>
            <body>
                <ChatPage />
            </body>
        </html>
    }
}

/// The page's `<body>`: the chat of the [`CurrentRoom`].
#[component]
pub fn ChatPage() -> impl IntoView {
    let room = use_context::<CurrentRoom>().unwrap_or_else(CurrentRoom::from_location);
    view! { <ChatRoom room=room.0 /> }
}
