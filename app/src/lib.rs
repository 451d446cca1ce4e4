//! The chat's user interface and wire contract, shared by the server (SSR) and the browser
//! (hydration).

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

/// The whole HTML document. The server renders it; the browser hydrates what `App` put in `<body>`.
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
                <script src="/socket.io/socket.io.min.js" defer></script>
                <AutoReload options=options.clone() />
                <HydrationScripts options />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    let room = use_context::<CurrentRoom>().unwrap_or_else(CurrentRoom::from_location);
    view! { <ChatRoom room=room.0 /> }
}
