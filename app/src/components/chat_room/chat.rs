//! The chat of one room as a [`Chat`] handle: the state the page shows, as signals, and what the
//! person does to it (send, retry, edit, delete, rename, read older pages). Every field is an
//! arena handle, so the handle is `Copy`: event handlers and callbacks take it by value instead
//! of cloning each signal they touch.

use leptos::{prelude::*, task::spawn_local};

use super::events::EventBookkeeping;
use crate::components::FailedMessage;
use crate::connection::ConnectionState;
use crate::me;
use crate::server_fns::{load_history, HistoryPage};
use crate::socket::Socket;
use crate::timeline::{Delivery, Timeline};
use leptos::server::codee::string::JsonSerdeWasmCodec;
use protocol::{
    check_name, Ack, Member, MessageDeletion, MessageEdit, RoomSummary, SendMeta, DEFAULT_NAME,
    DELETE_MESSAGE, EDIT_MESSAGE, HISTORY_PAGE, NEW_MESSAGE,
};

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

/// What reading an older page found out about the messages before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OlderMessages {
    /// The page was full, or could not be read: there may be more to read.
    MayRemain,
    /// The page was the room's first: nothing older is left to read.
    NoneLeft,
}

/// The room's older pages, read one at a time as the reader scrolls back.
#[derive(Clone, Copy)]
struct OlderPages {
    /// Reads the page before a message id into the timeline.
    read: Action<i64, OlderMessages>,
    /// Whether a page is being read: one at a time, or scrolling would ask for the same page
    /// again and again.
    reading: Memo<bool>,
    /// What the last page read found; `None` before the first, and once the room was skipped
    /// ahead ([`Chat::skipped_ahead`]), when what lies before the oldest shown is unread again.
    found: MappedSignal<Option<OlderMessages>>,
}

impl OlderPages {
    /// The action's closure holds only arena handles: the server builds it too (it renders the
    /// page), may drop it on another thread than it made it on, and a local action's closure
    /// may only be dropped elsewhere when dropping it does nothing.
    fn new(room: StoredValue<String>, timeline: RwSignal<Timeline>) -> Self {
        let read = Action::new_local(move |&before: &i64| async move {
            let page = load_history(room.get_value(), Some(before)).await;
            let found = match &page {
                Ok(page) if page.messages.len() < HISTORY_PAGE => OlderMessages::NoneLeft,
                _ => OlderMessages::MayRemain,
            };
            if let Ok(page) = page {
                timeline.update(|timeline| timeline.seed(page));
            }
            found
        });
        Self {
            read,
            reading: read.pending(),
            found: read.value(),
        }
    }
}

/// The chat of one room: what the page shows, and what the person does to it. The server's
/// events reach it through [`Chat::open_socket`].
#[derive(Clone, Copy)]
pub(super) struct Chat {
    /// The room shown: the page is one room, another room is another page.
    pub(super) room: StoredValue<String>,
    pub(super) timeline: RwSignal<Timeline>,
    pub(super) connection: RwSignal<ConnectionState>,
    /// What the page has to say about the last thing that went wrong, if anything.
    pub(super) notice: RwSignal<Option<String>>,
    pub(super) name: RwSignal<String>,
    /// My public id, once the server has said it ([`protocol::IDENTITY`]).
    pub(super) me: RwSignal<Option<String>>,
    pub(super) people: RwSignal<Vec<Member>>,
    /// People in a crowded room beyond those named in [`Chat::people`].
    pub(super) unnamed: RwSignal<usize>,
    pub(super) typing: RwSignal<Vec<Member>>,
    pub(super) rooms: RwSignal<Vec<RoomSummary>>,
    live: LiveSocket,
    /// How many client offsets this tab has made ([`Chat::next_offset`]).
    offsets_made: StoredValue<u32>,
    older: OlderPages,
    /// What the socket's event handlers remember between events.
    pub(super) bookkeeping: EventBookkeeping,
}

impl Chat {
    /// The chat of `room` as the server renders it: connecting, under the default name, with
    /// nothing shown yet.
    pub(super) fn new(room: String) -> Self {
        let timeline = RwSignal::new(Timeline::new(&room));
        let room = StoredValue::new(room);
        Self {
            room,
            timeline,
            connection: RwSignal::new(ConnectionState::Connecting),
            notice: RwSignal::new(None),
            name: RwSignal::new(DEFAULT_NAME.to_owned()),
            me: RwSignal::new(None),
            people: RwSignal::new(Vec::new()),
            unnamed: RwSignal::new(0),
            typing: RwSignal::new(Vec::new()),
            rooms: RwSignal::new(Vec::new()),
            live: LiveSocket::new(),
            offsets_made: StoredValue::new(0),
            older: OlderPages::new(room, timeline),
            bookkeeping: EventBookkeeping::new(),
        }
    }

    /// The room's last page, in the server's HTML and carried over to hydration, where the
    /// browser's `JSON.parse` reads it (as [`BrowserJson`](crate::server_fns::BrowserJson)
    /// does, and for the same reason).
    pub(super) fn last_page(
        self,
    ) -> Resource<Result<HistoryPage, ServerFnError>, JsonSerdeWasmCodec> {
        let room = self.room;
        Resource::new_serde_wb(move || room.get_value(), |room| load_history(room, None))
    }

    /// Shows the room's last page, as [`Chat::last_page`] read it. Called where the page is
    /// awaited, just before the list is built: the list renders that page both on the server
    /// and in the hydrating browser, so they match, which an effect (run in the browser only,
    /// after hydration) could not do. Nothing reads the timeline yet, so it is written untracked.
    /// Nobody's messages are "mine" yet: the server says who the reader is once the page's
    /// socket connects.
    pub(super) fn show_last_page(self, page: Result<HistoryPage, ServerFnError>) {
        match page {
            Ok(page) => self
                .timeline
                .update_untracked(|timeline| timeline.seed(page)),
            Err(_) => self
                .notice
                .set(Some("No se pudo leer el historial.".to_owned())),
        }
    }

    /// My name, once the server has said who the reader is: until then no mention is theirs.
    pub(super) fn my_name(self) -> Signal<Option<String>> {
        Signal::derive(move || self.me.get().map(|_| self.name.get()))
    }

    /// Takes the saved name, opens the socket and routes the server's events into the chat;
    /// the socket is kept before any handler can run. Runs in the browser only (from an
    /// effect): the server renders the page as "connecting".
    pub(super) fn open_socket(self) {
        self.name.set(me::saved_name());
        match self.connect() {
            Ok(socket) => {
                self.live.set(socket.clone());
                self.route_events(&socket);
            }
            Err(error) => self
                .notice
                .set(Some(format!("No se pudo iniciar el chat: {error}"))),
        }
    }

    /// The socket, once open.
    pub(super) fn socket(self) -> Option<Socket> {
        self.live.get()
    }

    /// A fresh client offset per message, edit or deletion: a resend of one is recognised, a
    /// later one is not mistaken for it.
    fn next_offset(self) -> String {
        let count = self.offsets_made.get_value();
        self.offsets_made.set_value(count + 1);
        me::client_offset(count)
    }

    /// Shows one of my messages at once, as pending, and sends it.
    pub(super) fn send(self, text: String) {
        let client_offset = self.next_offset();
        let person = self.me.get_untracked().unwrap_or_default();
        self.timeline.update(|timeline| {
            timeline.send(&client_offset, &self.name.get_untracked(), &person, &text)
        });
        self.deliver(client_offset, text);
    }

    /// Sends one of my failed messages again.
    pub(super) fn retry(
        self,
        FailedMessage {
            client_offset,
            text,
        }: FailedMessage,
    ) {
        self.timeline
            .update(|timeline| timeline.delivery(&client_offset, Delivery::Pending));
        self.deliver(client_offset, text);
    }

    /// Sends my message and shows what became of it.
    fn deliver(self, client_offset: String, text: String) {
        let Some(live) = self.socket() else {
            return;
        };
        spawn_local(async move {
            let meta = SendMeta {
                client_offset: Some(client_offset.clone()),
            };
            let outcome = live.request::<_, Ack>(NEW_MESSAGE, &(text, meta)).await;
            self.timeline.update(|timeline| match &outcome {
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
            self.notice.set(match outcome {
                Ok(Ack::Rejected { message, .. }) => Some(message),
                Err(_) => Some("El servidor no confirmó tu mensaje.".to_owned()),
                Ok(Ack::Accepted { .. }) => None,
            });
        });
    }

    /// Edits one of my messages.
    pub(super) fn edit(self, id: i64, text: String) {
        let edit = MessageEdit {
            id,
            text,
            client_offset: Some(self.next_offset()),
        };
        self.request_change(EDIT_MESSAGE, edit);
    }

    /// Deletes one of my messages.
    pub(super) fn delete(self, id: i64) {
        let deletion = MessageDeletion {
            id,
            client_offset: Some(self.next_offset()),
        };
        self.request_change(DELETE_MESSAGE, deletion);
    }

    /// Sends an edit or a deletion of one of my messages. The new state comes back to every tab
    /// of the room as [`protocol::MESSAGE_CHANGED`]; only a refusal needs saying here.
    fn request_change<T: serde::Serialize + 'static>(self, event: &'static str, request: T) {
        let Some(live) = self.socket() else {
            return;
        };
        spawn_local(async move {
            let outcome = live.request::<_, Ack>(event, &(request,)).await;
            self.notice.set(match outcome {
                Ok(Ack::Rejected { message, .. }) => Some(message),
                Err(_) => Some("El servidor no confirmó el cambio.".to_owned()),
                Ok(Ack::Accepted { .. }) => None,
            });
        });
    }

    /// Emits a typing signal ([`protocol::TYPING`], [`protocol::STOP_TYPING`]), if the socket
    /// is open.
    pub(super) fn signal(self, event: &'static str) {
        if let Some(live) = self.socket() {
            live.signal(event);
        }
    }

    /// Takes the name the person typed, if it is a valid one, and keeps it in this browser.
    pub(super) fn rename(self, wanted: String) {
        match check_name(&wanted) {
            Ok(name) => {
                me::save_name(&name);
                self.name.set(name);
                self.notice.set(None);
                // The name travels in the handshake: a new one needs a new connection.
                if let Some(live) = self.socket() {
                    live.reconnect();
                }
            }
            Err(error) => self.notice.set(Some(error.to_string())),
        }
    }

    /// Reads the page before the oldest message shown, unless one is being read or the room's
    /// beginning is shown already.
    pub(super) fn load_older(self) {
        let Some(before) = self.timeline.with_untracked(Timeline::oldest_id) else {
            return;
        };
        let older = self.older;
        if older.reading.get_untracked()
            || older.found.get_untracked() == Some(OlderMessages::NoneLeft)
        {
            return;
        }
        older.read.dispatch_local(before);
    }

    /// The server skipped the room ahead ([`protocol::HISTORY_SKIPPED`]): what lies before the
    /// oldest message shown is unread again, however far back the reader had read.
    pub(super) fn skipped_ahead(self) {
        self.older.read.clear();
    }
}
