//! The chat page's one component, [`ChatRoom`]: the layout of the parts. The state they show
//! and what the person does to it are a [`Chat`] handle ([`chat`]); what the server sends is
//! routed into it by [`events`].

mod chat;
mod events;

use std::time::Duration;

use leptos::prelude::*;

use super::{
    Composer, ConnectionStatus, MessageList, NameField, NotificationSwitch, People, RoomList,
    TypingIndicator,
};
use crate::clock::{self, Today};
use chat::Chat;

/// How often the page checks whether the reader's day has changed (a chat stays open past
/// midnight: «Hoy» must become «Ayer»).
const NEW_DAY_CHECK: Duration = Duration::from_secs(60);

/// Where the sidebar stops fitting beside the chat (as in style/main.css).
const NARROW_SCREEN: &str = "(max-width: 799px)";

/// The reader's calendar: unknown to the server, read once the page runs in the browser, and
/// checked again every [`NEW_DAY_CHECK`].
fn readers_today() -> RwSignal<Today> {
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
    today
}

/// Whether the sidebar is open: open in the server's HTML (readable without JavaScript); folded
/// away on phones ([`NARROW_SCREEN`]) once the page runs, where it would push the conversation
/// off screen.
fn sidebar_open_unless_narrow() -> RwSignal<bool> {
    let open = RwSignal::new(true);
    Effect::new(move || {
        let narrow = web_sys::window()
            .and_then(|window| window.match_media(NARROW_SCREEN).ok().flatten())
            .is_some_and(|query| query.matches());
        if narrow {
            open.set(false);
        }
    });
    open
}

/// The chat of one room: makes its [`Chat`], opens its socket once the page runs, and lays out
/// the parts.
#[component]
pub fn ChatRoom(room: String) -> impl IntoView {
    let chat = Chat::new(room.clone());
    let history = chat.last_page();
    let today = readers_today();
    let my_name = chat.my_name();
    // Effects run in the browser only: the server renders the page as "connecting".
    Effect::new(move || chat.open_socket());
    let sidebar_open = sidebar_open_unless_narrow();

    let on_retry = Callback::new(move |failed| chat.retry(failed));
    let on_edit = Callback::new(move |(id, text): (i64, String)| chat.edit(id, text));
    let on_delete = Callback::new(move |id| chat.delete(id));
    let on_top = Callback::new(move |()| chat.load_older());

    let title = format!("#{room}");
    view! {
        <div class="layout">
            <details class="sidebar" open=move || sidebar_open.get()>
                <summary class="sidebar__toggle">"Salas y personas"</summary>
                <RoomList rooms=chat.rooms current=room.clone() />
                <People people=chat.people unnamed=chat.unnamed />
            </details>
            <main class="chat">
                <header class="chat__bar">
                    <h1 class="chat__title">{title}</h1>
                    <NameField name=chat.name on_rename=Callback::new(move |wanted| chat.rename(wanted)) />
                    <NotificationSwitch room=room.clone() />
                    <ConnectionStatus state=chat.connection />
                </header>
                <h3 class="chat__heading">"Mensajes:"</h3>
                <Suspense fallback=|| view! { <p class="loading">"Cargando mensajes…"</p> }>
                    {move || Suspend::new(async move {
                        chat.show_last_page(history.await);
                        view! {
                            <MessageList
                                room=chat.room.get_value()
                                timeline=chat.timeline
                                me=chat.me
                                my_name
                                today
                                on_retry
                                on_edit
                                on_delete
                                on_top
                            />
                        }
                    })}
                </Suspense>
                <TypingIndicator typing=chat.typing />
                <Composer
                    room
                    on_send=Callback::new(move |text| chat.send(text))
                    on_signal=Callback::new(move |event| chat.signal(event))
                    notice=chat.notice
                />
            </main>
        </div>
    }
}
