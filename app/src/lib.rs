//! The chat's user interface and wire contract, shared by the server (SSR) and the browser
//! (hydration).

pub mod components;
pub mod connection;
pub mod protocol;
pub mod socket;

use leptos::prelude::*;

use components::ChatRoom;

/// The whole HTML document. The server renders it; the browser hydrates what `App` put in `<body>`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="es">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <title>"Sala de chat"</title>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name) />
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
    view! { <ChatRoom /> }
}
