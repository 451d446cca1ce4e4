use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};

use super::{Composer, ConnectionStatus, Line, MessageList};
use crate::connection::ConnectionState;
use crate::protocol::{Ack, NEW_MESSAGE};
use crate::socket::Socket;

/// How long the page waits for the server to confirm a message before telling the user.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// The chat: owns the page's state and its socket, and lays out the parts that show them.
#[component]
pub fn ChatRoom() -> impl IntoView {
    let lines = RwSignal::new(Vec::<Line>::new());
    let state = RwSignal::new(ConnectionState::Connecting);
    let notice = RwSignal::new(None::<String>);
    let socket = StoredValue::new_local(None::<Socket>);

    // Effects run in the browser only: the server renders the page as "connecting".
    Effect::new(move || match Socket::connect() {
        Ok(live) => {
            live.on_state(move |now| state.set(now));
            live.on(NEW_MESSAGE, move |text: String| {
                lines.update(|lines| lines.push(Line::new(lines.len(), text)))
            });
            socket.set_value(Some(live));
        }
        Err(error) => notice.set(Some(format!("No se pudo iniciar el chat: {error}"))),
    });

    let send = Callback::new(move |text: String| {
        let Some(live) = socket.get_value() else {
            return;
        };
        spawn_local(async move {
            let outcome = live
                .emit_with_ack::<_, Ack>(NEW_MESSAGE, &text, ACK_TIMEOUT)
                .await;
            notice.set(match outcome {
                Ok(Ack::Accepted { .. }) => None,
                Ok(Ack::Rejected { message, .. }) => Some(message),
                Err(_) => Some("El servidor no confirmó tu mensaje.".to_owned()),
            });
        });
    });

    view! {
        <main class="chat">
            <header class="chat__bar">
                <h1 class="chat__title">"Sala de chat"</h1>
                <ConnectionStatus state />
            </header>
            <h3 class="chat__heading">"Mensajes:"</h3>
            <MessageList lines />
            <Composer on_send=send notice />
        </main>
    }
}
