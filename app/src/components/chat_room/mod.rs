//! The chat page's one component: its state, what the person does (send, retry, rename, scroll
//! back), and its layout. What the server sends is routed into that state by `events`.

mod events;

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};

use super::{
    Composer, ConnectionStatus, MessageList, NameField, NotificationSwitch, People, RoomList,
    TypingIndicator,
};
use crate::clock::{self, Today};
use crate::connection::ConnectionState;
use crate::me;
use crate::server_fns::load_history;
use crate::socket::Socket;
use crate::timeline::{Delivery, Timeline};
use events::connect;
use protocol::{
    check_name, Ack, Member, MessageDeletion, MessageEdit, RoomSummary, SendMeta, DEFAULT_NAME,
    DELETE_MESSAGE, EDIT_MESSAGE, HISTORY_PAGE, NEW_MESSAGE,
};

/// How often the page checks whether the reader's day has changed (a chat stays open past
/// midnight: «Hoy» must become «Ayer»).
const NEW_DAY_CHECK: Duration = Duration::from_secs(60);

/// Where the sidebar stops fitting beside the chat (as in style/main.css).
const NARROW_SCREEN: &str = "(max-width: 799px)";

/// The page's socket, once the browser has opened it. A socket is not `Send`, so it lives in
/// browser-local storage made by the effect that opens it: the server never holds one, and a
/// server-side render may finish on another thread than it started on.
#[derive(Clone, Copy)]
struct LiveSocket(StoredValue<Option<StoredValue<Socket, LocalStorage>>>);

impl LiveSocket {
    fn new() -> Self {
        Self(StoredValue::new(None))
    }

    fn set(self, socket: Socket) {
        self.0.set_value(Some(StoredValue::new_local(socket)));
    }

    fn get(self) -> Option<Socket> {
        self.0.get_value().map(|socket| socket.get_value())
    }
}

/// Sends an edit or a deletion of one of my messages. The new state comes back to every tab of
/// the room as [`protocol::MESSAGE_CHANGED`]; only a refusal needs saying here.
fn request_change<T: serde::Serialize + 'static>(
    socket: LiveSocket,
    notice: RwSignal<Option<String>>,
    event: &'static str,
    request: T,
) {
    let Some(live) = socket.get() else {
        return;
    };
    spawn_local(async move {
        let outcome = live.request::<_, Ack>(event, &(request,)).await;
        notice.set(match outcome {
            Ok(Ack::Rejected { message, .. }) => Some(message),
            Err(_) => Some("El servidor no confirmó el cambio.".to_owned()),
            Ok(Ack::Accepted { .. }) => None,
        });
    });
}

/// Everything the page shows, as signals the components read.
#[derive(Clone, Copy)]
struct ChatState {
    timeline: RwSignal<Timeline>,
    connection: RwSignal<ConnectionState>,
    notice: RwSignal<Option<String>>,
    name: RwSignal<String>,
    /// My public id, once the server has said it ([`protocol::IDENTITY`]).
    me: RwSignal<Option<String>>,
    people: RwSignal<Vec<Member>>,
    /// People in a crowded room beyond those named in `people`.
    unnamed: RwSignal<usize>,
    typing: RwSignal<Vec<Member>>,
    rooms: RwSignal<Vec<RoomSummary>>,
    /// Older pages: whether one is being read, and whether the room's beginning was reached.
    older: StoredValue<(bool, bool)>,
}

/// The chat of one room: owns the page's state and its socket, and lays out the parts.
#[component]
pub fn ChatRoom(room: String) -> impl IntoView {
    let state = ChatState {
        timeline: RwSignal::new(Timeline::new(&room)),
        connection: RwSignal::new(ConnectionState::Connecting),
        notice: RwSignal::new(None),
        name: RwSignal::new(DEFAULT_NAME.to_owned()),
        me: RwSignal::new(None),
        people: RwSignal::new(Vec::new()),
        unnamed: RwSignal::new(0),
        typing: RwSignal::new(Vec::new()),
        rooms: RwSignal::new(Vec::new()),
        older: StoredValue::new((false, false)),
    };
    let socket = LiveSocket::new();
    let sent = StoredValue::new(0u32);
    // The room's last page, in the server's HTML and carried over to hydration.
    let history = Resource::new(
        {
            let room = room.clone();
            move || room.clone()
        },
        |room| load_history(room, None),
    );
    let older = state.older;

    // The reader's calendar: unknown to the server, read once the page runs in the browser.
    let today = RwSignal::new(Today::None);
    Effect::new(move || {
        today.set(Some(clock::today()));
        let _ = set_interval_with_handle(
            move || {
                let now = Some(clock::today());
                if today.get_untracked() != now {
                    today.set(now);
                }
            },
            NEW_DAY_CHECK,
        );
    });
    // Known once the server has said who the reader is: until then no mention is theirs.
    let my_name = Signal::derive(move || state.me.get().map(|_| state.name.get()));

    // Effects run in the browser only: the server renders the page as "connecting".
    let room_for_socket = room.clone();
    Effect::new(move || {
        state.name.set(me::saved_name());
        match connect(state, room_for_socket.clone()) {
            Ok(live) => socket.set(live),
            Err(error) => state
                .notice
                .set(Some(format!("No se pudo iniciar el chat: {error}"))),
        }
    });

    let deliver = move |client_offset: String, text: String| {
        let Some(live) = socket.get() else {
            return;
        };
        spawn_local(async move {
            let meta = SendMeta {
                client_offset: Some(client_offset.clone()),
            };
            let outcome = live.request::<_, Ack>(NEW_MESSAGE, &(text, meta)).await;
            state.timeline.update(|timeline| match &outcome {
                Ok(Ack::Accepted { id: Some(id), .. }) => {
                    timeline.acknowledged(&client_offset, *id)
                }
                Ok(Ack::Accepted { id: None, .. }) => {
                    timeline.delivery(&client_offset, Delivery::Sent)
                }
                Ok(Ack::Rejected { .. }) | Err(_) => {
                    timeline.delivery(&client_offset, Delivery::Failed)
                }
            });
            state.notice.set(match outcome {
                Ok(Ack::Rejected { message, .. }) => Some(message),
                Err(_) => Some("El servidor no confirmó tu mensaje.".to_owned()),
                Ok(Ack::Accepted { .. }) => None,
            });
        });
    };

    // A fresh client offset per message, edit or deletion: a resend of one is recognised, a
    // later one is not mistaken for it.
    let next_offset = move || {
        let count = sent.get_value();
        sent.set_value(count + 1);
        me::client_offset(count)
    };

    let send = Callback::new(move |text: String| {
        let client_offset = next_offset();
        let person = state.me.get_untracked().unwrap_or_default();
        state.timeline.update(|timeline| {
            timeline.send(&client_offset, &state.name.get_untracked(), &person, &text)
        });
        deliver(client_offset, text);
    });

    let edit = Callback::new(move |(id, text): (i64, String)| {
        let edit = MessageEdit {
            id,
            text,
            client_offset: Some(next_offset()),
        };
        request_change(socket, state.notice, EDIT_MESSAGE, edit);
    });
    let delete = Callback::new(move |id: i64| {
        let deletion = MessageDeletion {
            id,
            client_offset: Some(next_offset()),
        };
        request_change(socket, state.notice, DELETE_MESSAGE, deletion);
    });

    let retry = Callback::new(move |(client_offset, text): (String, String)| {
        state
            .timeline
            .update(|timeline| timeline.delivery(&client_offset, Delivery::Pending));
        deliver(client_offset, text);
    });

    let signal = Callback::new(move |event: &'static str| {
        if let Some(live) = socket.get() {
            live.signal(event);
        }
    });

    let rename = Callback::new(move |wanted: String| match check_name(&wanted) {
        Ok(name) => {
            me::save_name(&name);
            state.name.set(name);
            state.notice.set(None);
            // The name travels in the handshake: a new one needs a new connection.
            if let Some(live) = socket.get() {
                live.reconnect();
            }
        }
        Err(error) => state.notice.set(Some(error.to_string())),
    });

    let room_for_older = room.clone();
    let load_older = Callback::new(move |()| {
        let (busy, exhausted) = older.get_value();
        let Some(before) = state.timeline.with_untracked(Timeline::oldest_id) else {
            return;
        };
        if busy || exhausted {
            return;
        }
        older.set_value((true, false));
        let room = room_for_older.clone();
        spawn_local(async move {
            let page = load_history(room, Some(before)).await;
            let exhausted = page
                .as_ref()
                .is_ok_and(|page| page.messages.len() < HISTORY_PAGE);
            if let Ok(page) = page {
                state.timeline.update(|timeline| timeline.seed(page));
            }
            older.set_value((false, exhausted));
        });
    });

    // Open in the server's HTML (readable without JavaScript); folded away on phones once the
    // page runs, where it would push the conversation off screen.
    let sidebar_open = RwSignal::new(true);
    Effect::new(move || {
        let narrow = web_sys::window()
            .and_then(|window| window.match_media(NARROW_SCREEN).ok().flatten())
            .is_some_and(|query| query.matches());
        if narrow {
            sidebar_open.set(false);
        }
    });

    let title = format!("#{room}");
    let room_for_list = room.clone();
    view! {
        <div class="layout">
            <details class="sidebar" open=move || sidebar_open.get()>
                <summary class="sidebar__toggle">"Salas y personas"</summary>
                <RoomList rooms=state.rooms current=room.clone() />
                <People people=state.people unnamed=state.unnamed />
            </details>
            <main class="chat">
                <header class="chat__bar">
                    <h1 class="chat__title">{title}</h1>
                    <NameField name=state.name on_rename=rename />
                    <NotificationSwitch room=room.clone() />
                    <ConnectionStatus state=state.connection />
                </header>
                <h3 class="chat__heading">"Mensajes:"</h3>
                <Suspense fallback=|| view! { <p class="loading">"Cargando mensajes…"</p> }>
                    {move || {
                        let room = room_for_list.clone();
                        Suspend::new(async move {
                        match history.await {
                            // Seeding before the list is built: the list renders the page both
                            // on the server and in the hydrating browser, so they match.
                            // Nobody's messages are "mine" yet: the server says who the reader
                            // is once the page's socket connects.
                            Ok(page) => state.timeline.update_untracked(|t| t.seed(page)),
                            Err(_) => state.notice.set(Some("No se pudo leer el historial.".to_owned())),
                        }
                        view! {
                            <MessageList
                                room
                                timeline=state.timeline
                                me=state.me
                                my_name
                                today
                                on_retry=retry
                                on_edit=edit
                                on_delete=delete
                                on_top=load_older
                            />
                        }
                    })}}
                </Suspense>
                <TypingIndicator typing=state.typing />
                <Composer room=room on_send=send on_signal=signal notice=state.notice />
            </main>
        </div>
    }
}
