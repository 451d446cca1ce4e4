//! Opens the page's socket and routes every server event into the [`Chat`]: messages, replays,
//! changes, presence, typing, the room list, and being turned away.

use std::collections::HashMap;
use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};

use super::chat::Chat;
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
const COME_BACK_AFTER: Duration = protocol::DEFAULT_FLOOD_COOLDOWN;
/// What the page says when the server cut it off (it gives no reason then: only floods do it).
const CUT_OFF: &str =
    "Te hemos desconectado por enviar demasiados mensajes seguidos: vuelves en unos segundos.";

/// What the event handlers remember between one event and the next.
#[derive(Clone, Copy)]
pub(super) struct EventBookkeeping {
    /// When each person typing last said so, keyed by person: two people may share a name.
    typing_since: StoredValue<HashMap<String, f64>>,
    /// Whether a refresh of the room list is due already ([`Chat::refresh_rooms_soon`]).
    rooms_refresh_due: StoredValue<bool>,
}

impl EventBookkeeping {
    pub(super) fn new() -> Self {
        Self {
            typing_since: StoredValue::new(HashMap::new()),
            rooms_refresh_due: StoredValue::new(false),
        }
    }
}

impl Chat {
    /// Opens the socket, with the handshake the chat's state makes at each (re)connection.
    pub(super) fn connect(self) -> Result<Socket, SocketError> {
        let (name, timeline, room) = (self.name, self.timeline, self.room);
        // Read at every (re)connection: another tab may have been given the browser's identity
        // since.
        Socket::connect(move || Handshake {
            name: Some(name.get_untracked()),
            token: me::saved_token(),
            room: Some(room.get_value()),
            offset: timeline.with_untracked(Timeline::last_id),
        })
    }

    /// Routes every server event on `socket` into the chat's state. The handlers reach the
    /// socket itself through [`Chat::socket`].
    pub(super) fn route_events(self, socket: &Socket) {
        let timeline = self.timeline;
        socket.on_state(move |now| {
            self.connection.set(now);
            if now == ConnectionState::Connected {
                self.refresh_rooms();
            }
        });
        set_interval(move || self.refresh_rooms(), ROOMS_EVERY);
        socket.on_turned_away(move |reason| self.on_turned_away(reason));
        socket.on(IDENTITY, move |credentials: Credentials| {
            me::save_credentials(&credentials);
            self.me.set(Some(credentials.person));
        });
        socket.on_pair(NEW_MESSAGE, move |text, meta| {
            self.on_new_message(text, meta)
        });
        socket.on(MESSAGE_CHANGED, move |change: MessageChange| {
            timeline.update(|timeline| timeline.apply(change));
        });
        socket.on(HISTORY, move |batch: Vec<ChatMessage>| {
            timeline.update(|timeline| batch.into_iter().for_each(|m| timeline.receive(m)));
        });
        socket.on(HISTORY_SKIPPED, move |skipped| {
            self.on_history_skipped(skipped)
        });
        socket.on(PRESENCE, move |presence| self.on_presence(presence));
        socket.on(USER_JOINED, move |event| self.on_user_joined(event));
        socket.on(USER_LEFT, move |event| self.on_user_left(event));
        socket.on(TYPING, move |event| self.on_typing(event));
        socket.on(STOP_TYPING, move |event: UserEvent| {
            if !self.elsewhere(&event) {
                self.stop_typing(&event.person)
            }
        });
    }

    /// Whether `event` is about another room: none of this page's business, whoever sent it.
    fn elsewhere(self, event: &UserEvent) -> bool {
        self.room.with_value(|room| event.room != *room)
    }

    /// Asks for the list of rooms, and keeps this room's count current in a crowded room.
    fn refresh_rooms(self) {
        let Some(socket) = self.socket() else {
            return;
        };
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
                let named = self.people.with(Vec::len);
                let online_here = self.room.with_value(|room| {
                    let here = rooms.iter().find(|summary| summary.name == *room);
                    here.map(|summary| summary.online)
                });
                if let Some(online) = online_here {
                    if named >= PRESENCE_NAMES {
                        self.unnamed.set(online.saturating_sub(named));
                    }
                }
                self.rooms.set(rooms);
            }
        });
    }

    /// Refreshes the room list after a moment, once however many ask meanwhile.
    fn refresh_rooms_soon(self) {
        let due = self.bookkeeping.rooms_refresh_due;
        if !due.get_value() {
            due.set_value(true);
            set_timeout(
                move || {
                    due.set_value(false);
                    self.refresh_rooms();
                },
                ROOMS_AFTER_CHANGE,
            );
        }
    }

    /// Turned away (too many tabs from one address, a flood's cool-down, cut off for flooding):
    /// says why, and comes back after the server's default cool-down.
    fn on_turned_away(self, reason: Option<String>) {
        let reason = reason.unwrap_or_else(|| CUT_OFF.to_owned());
        self.notice.set(Some(reason.clone()));
        set_timeout(
            move || {
                // The notice goes with the new try, unless another replaced it meanwhile.
                self.notice.update(|notice| {
                    if notice.as_deref() == Some(reason.as_str()) {
                        *notice = None;
                    }
                });
                if let Some(socket) = self.socket() {
                    socket.try_again();
                }
            },
            COME_BACK_AFTER,
        );
    }

    fn on_new_message(self, text: String, meta: Option<MessageMeta>) {
        let Some(meta) = meta else {
            return;
        };
        self.stop_typing(&meta.person);
        let message = ChatMessage { text, meta };
        let fresh = self.room.with_value(|room| message.meta.room == *room)
            && !self
                .timeline
                .with_untracked(|timeline| timeline.holds(message.meta.id));
        if fresh {
            self.notify(&message);
        }
        self.timeline.update(|timeline| timeline.receive(message));
    }

    /// A notification for a new live message of somebody else, if the reader wants one now
    /// ([`notifications::should_notify`]). Replays are not notified: they are what the reader
    /// missed while offline, not news.
    fn notify(self, message: &ChatMessage) {
        let meta = &message.meta;
        if self
            .me
            .with_untracked(|me| me.as_deref() != Some(meta.person.as_str()))
        {
            let mentions_me = self
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

    /// Away for long: the replay brings the newest, and scrolling back the rest.
    fn on_history_skipped(self, skipped: Skipped) {
        let timeline = self.timeline;
        timeline.update(|timeline| timeline.skip_to(skipped.before));
        self.skipped_ahead();
        // Nothing of the room left to show (what was held is to be read again, and the replay
        // brings nothing newer): the newest page, as the page first opened with.
        if timeline.with_untracked(Timeline::oldest_id).is_none() {
            let room = self.room.get_value();
            spawn_local(async move {
                if let Ok(page) = load_history(room, None).await {
                    timeline.update(|timeline| timeline.seed(page));
                }
            });
        }
    }

    fn on_presence(self, presence: Presence) {
        if self.room.with_value(|room| presence.room != *room) {
            return;
        }
        self.unnamed
            .set(presence.online.saturating_sub(presence.users.len()));
        self.people.set(presence.users)
    }

    /// The server announces people, not tabs: each arrival is a new person, even with a name
    /// somebody else has.
    fn on_user_joined(self, event: UserEvent) {
        if self.elsewhere(&event) {
            return;
        }
        self.people.update(|people| {
            if !people.iter().any(|member| member.person == event.person) {
                people.push(Member {
                    person: event.person.clone(),
                    name: event.user.clone(),
                });
                people.sort_by_key(|member| member.name.to_lowercase());
            }
        });
        self.timeline
            .update(|timeline| timeline.notice(format!("{} se ha unido", event.user)));
        self.refresh_rooms_soon();
    }

    fn on_user_left(self, event: UserEvent) {
        if self.elsewhere(&event) {
            return;
        }
        self.people
            .update(|people| people.retain(|member| member.person != event.person));
        self.stop_typing(&event.person);
        self.timeline
            .update(|timeline| timeline.notice(format!("{} ha salido", event.user)));
        self.refresh_rooms_soon();
    }

    /// Someone is typing: shown until they stop, send, leave, or say nothing more for
    /// [`TYPING_FADES_AFTER`].
    fn on_typing(self, event: UserEvent) {
        if self.elsewhere(&event) {
            return;
        }
        let typing_since = self.bookkeeping.typing_since;
        let now = js_sys::Date::now();
        let person = event.person.clone();
        typing_since.update_value(|since| {
            since.insert(person.clone(), now);
        });
        self.typing.update(|typing| {
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
                    self.stop_typing(&person);
                }
            },
            TYPING_FADES_AFTER,
        );
    }

    fn stop_typing(self, person: &str) {
        self.typing
            .update(|typing| typing.retain(|other| other.person != person));
    }
}
