//! Opens the page's socket and routes every server event into the page's state: messages,
//! replays, presence, typing, the room list, and being turned away.

use std::collections::HashMap;
use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};

use super::ChatState;
use crate::connection::ConnectionState;
use crate::me;
use crate::server_fns::load_history;
use crate::socket::{pause, Socket, SocketError};
use crate::timeline::Timeline;
use crate::{notifications, rich_text};
use protocol::{
    ChatMessage, Credentials, Handshake, Member, MessageChange, MessageMeta, Presence, RoomSummary,
    Skipped, UserEvent, HISTORY, HISTORY_SKIPPED, IDENTITY, MESSAGE_CHANGED, NEW_MESSAGE, PRESENCE,
    PRESENCE_NAMES, ROOMS, STOP_TYPING, TYPING, TYPING_FADES_AFTER, USER_JOINED, USER_LEFT,
};

/// How often the list of rooms is refreshed.
const ROOMS_EVERY: Duration = Duration::from_secs(15);
/// After someone arrives or leaves, how long the page waits before it asks for the room list
/// again: however many come and go meanwhile, it asks once.
const ROOMS_AFTER_CHANGE: Duration = Duration::from_secs(2);
/// How long the page waits for the room list, and how often it asks before giving up until the
/// next time: the question goes outside the message queue, so the client drops it when its
/// transport is busy (just after connecting, it is upgrading to a websocket).
const ROOMS_WAIT: Duration = Duration::from_secs(1);
const ROOMS_ATTEMPTS: usize = 3;
/// Before asking again: the moment an upgrade takes.
const ROOMS_AGAIN_AFTER: Duration = Duration::from_millis(200);
/// How long the page waits before connecting again when the server turned it away: the
/// server's default cool-down after a flood.
const COME_BACK_AFTER: Duration = Duration::from_secs(10);
/// What the page says when the server cut it off (it gives no reason then: only floods do it).
const CUT_OFF: &str =
    "Te hemos desconectado por enviar demasiados mensajes seguidos: vuelves en unos segundos.";

/// A notification for a new live message of somebody else, if the reader wants one now
/// ([`notifications::should_notify`]). Replays are not notified: they are what the reader missed
/// while offline, not news.
fn notify(state: ChatState, message: &ChatMessage) {
    let meta = &message.meta;
    if state
        .me
        .with_untracked(|me| me.as_deref() != Some(meta.person.as_str()))
    {
        let mentions_me = state
            .name
            .with_untracked(|name| rich_text::mentions(&message.text, name));
        let wanted = notifications::should_notify(
            notifications::permission(),
            notifications::tab_hidden(),
            notifications::room_off(&meta.room),
            mentions_me,
        );
        if wanted {
            notifications::show(
                &notifications::notification_title(&meta.user, &meta.room, mentions_me),
                &notifications::notification_body(&message.text),
                &meta.room,
            );
        }
    }
}

/// Opens the socket and routes every server event into the page's state.
pub(super) fn connect(
    state: ChatState,
    room: String,
) -> Result<Socket, crate::socket::SocketError> {
    let timeline = state.timeline;
    let name = state.name;
    let this_room = room.clone();
    // A notice about another room is none of this page's business, whoever sent it.
    let here = room.clone();
    let elsewhere = move |event: &UserEvent| event.room != here;
    let presence_room = room.clone();
    let message_room = room.clone();
    let skipped_room = room.clone();
    // Read at every (re)connection: another tab may have been given the browser's identity since.
    let socket = Socket::connect(move || Handshake {
        name: Some(name.get_untracked()),
        token: me::saved_token(),
        room: Some(room.clone()),
        offset: timeline.with_untracked(Timeline::last_id),
    })?;

    let rooms_socket = socket.clone();
    let refresh_rooms = move || {
        let (socket, room_name) = (rooms_socket.clone(), this_room.clone());
        spawn_local(async move {
            // Asked outside the message queue: a slow answer must never hold up a message.
            let mut answer = socket
                .ask::<_, Vec<RoomSummary>>(ROOMS, &(), ROOMS_WAIT)
                .await;
            for _ in 1..ROOMS_ATTEMPTS {
                if !matches!(answer, Err(SocketError::NoAck)) {
                    break;
                }
                pause(ROOMS_AGAIN_AFTER).await;
                answer = socket.ask(ROOMS, &(), ROOMS_WAIT).await;
            }
            if let Ok(rooms) = answer {
                // A crowded room announces nobody: its count is kept current from here.
                let named = state.people.with(Vec::len);
                if let Some(here) = rooms.iter().find(|summary| summary.name == room_name) {
                    if named >= PRESENCE_NAMES {
                        state.unnamed.set(here.online.saturating_sub(named));
                    }
                }
                state.rooms.set(rooms);
            }
        });
    };
    let on_connect = refresh_rooms.clone();
    let rooms_soon = {
        let (refresh, scheduled) = (refresh_rooms.clone(), StoredValue::new(false));
        move || {
            if !scheduled.get_value() {
                scheduled.set_value(true);
                let refresh = refresh.clone();
                set_timeout(
                    move || {
                        scheduled.set_value(false);
                        refresh();
                    },
                    ROOMS_AFTER_CHANGE,
                );
            }
        }
    };
    let (rooms_on_join, rooms_on_leave) = (rooms_soon.clone(), rooms_soon);
    socket.on_state(move |now| {
        state.connection.set(now);
        if now == ConnectionState::Connected {
            on_connect();
        }
    });
    set_interval(refresh_rooms, ROOMS_EVERY);

    // Turned away (too many tabs from one address, a flood's cool-down, cut off for flooding):
    // say why, and come back after the server's default cool-down.
    let again = socket.clone();
    socket.on_turned_away(move |reason| {
        let reason = reason.unwrap_or_else(|| CUT_OFF.to_owned());
        state.notice.set(Some(reason.clone()));
        let again = again.clone();
        set_timeout(
            move || {
                // The notice goes with the new try, unless another replaced it meanwhile.
                state.notice.update(|notice| {
                    if notice.as_deref() == Some(reason.as_str()) {
                        *notice = None;
                    }
                });
                again.try_again();
            },
            COME_BACK_AFTER,
        );
    });

    socket.on(IDENTITY, move |credentials: Credentials| {
        me::save_credentials(&credentials);
        state.me.set(Some(credentials.person));
    });

    // Keyed by person: two people may share a name.
    let typing_since = StoredValue::new(HashMap::<String, f64>::new());
    let stop_typing = move |person: &str| {
        state
            .typing
            .update(|typing| typing.retain(|other| other.person != person));
    };

    socket.on_pair(
        NEW_MESSAGE,
        move |text: String, meta: Option<MessageMeta>| {
            if let Some(meta) = meta {
                stop_typing(&meta.person);
                let message = ChatMessage { text, meta };
                let fresh = message.meta.room == message_room
                    && !timeline.with_untracked(|timeline| timeline.holds(message.meta.id));
                if fresh {
                    notify(state, &message);
                }
                timeline.update(|timeline| timeline.receive(message));
            }
        },
    );
    socket.on(MESSAGE_CHANGED, move |change: MessageChange| {
        timeline.update(|timeline| timeline.apply(change));
    });
    socket.on(HISTORY, move |batch: Vec<ChatMessage>| {
        timeline.update(|timeline| batch.into_iter().for_each(|m| timeline.receive(m)));
    });
    // Away for long: the replay brings the newest, and scrolling back the rest.
    socket.on(HISTORY_SKIPPED, move |skipped: Skipped| {
        timeline.update(|timeline| timeline.skip_to(skipped.before));
        state.older.set_value((false, false));
        // Nothing of the room left to show (what was held is to be read again, and the replay
        // brings nothing newer): the newest page, as the page first opened with.
        if timeline.with_untracked(Timeline::oldest_id).is_none() {
            let room = skipped_room.clone();
            spawn_local(async move {
                if let Ok(page) = load_history(room, None).await {
                    timeline.update(|timeline| timeline.seed(page));
                }
            });
        }
    });
    socket.on(PRESENCE, move |presence: Presence| {
        if presence.room != presence_room {
            return;
        }
        state
            .unnamed
            .set(presence.online.saturating_sub(presence.users.len()));
        state.people.set(presence.users)
    });
    // The server announces people, not tabs: each arrival is a new person, even with a name
    // somebody else has.
    let (elsewhere_left, elsewhere_typing, elsewhere_stopped) =
        (elsewhere.clone(), elsewhere.clone(), elsewhere.clone());
    socket.on(USER_JOINED, move |event: UserEvent| {
        if elsewhere(&event) {
            return;
        }
        state.people.update(|people| {
            if !people.iter().any(|member| member.person == event.person) {
                people.push(Member {
                    person: event.person.clone(),
                    name: event.user.clone(),
                });
                people.sort_by_key(|member| member.name.to_lowercase());
            }
        });
        timeline.update(|timeline| timeline.notice(format!("{} se ha unido", event.user)));
        rooms_on_join();
    });
    socket.on(USER_LEFT, move |event: UserEvent| {
        if elsewhere_left(&event) {
            return;
        }
        state
            .people
            .update(|people| people.retain(|member| member.person != event.person));
        stop_typing(&event.person);
        timeline.update(|timeline| timeline.notice(format!("{} ha salido", event.user)));
        rooms_on_leave();
    });
    socket.on(TYPING, move |event: UserEvent| {
        if elsewhere_typing(&event) {
            return;
        }
        let now = js_sys::Date::now();
        let person = event.person.clone();
        typing_since.update_value(|since| {
            since.insert(person.clone(), now);
        });
        state.typing.update(|typing| {
            if !typing.iter().any(|member| member.person == event.person) {
                typing.push(Member {
                    person: event.person,
                    name: event.user,
                });
            }
        });
        set_timeout(
            move || {
                let superseded = typing_since.with_value(|since| since.get(&person) != Some(&now));
                if !superseded {
                    stop_typing(&person);
                }
            },
            TYPING_FADES_AFTER,
        );
    });
    socket.on(STOP_TYPING, move |event: UserEvent| {
        if !elsewhere_stopped(&event) {
            stop_typing(&event.person)
        }
    });
    Ok(socket)
}
