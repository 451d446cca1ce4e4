//! One connection to the chat: rust_socketio's async client over websocket, speaking
//! [`protocol`].
//!
//! Websocket only: rust_socketio's long-polling transport loses large `history` payloads
//! (`server/tests/history.rs`), and a websocket is one request, so it needs no sticky routing
//! behind a load balancer.
//!
//! rust_socketio reconnects by itself; [`Link`] makes each new attempt carry the current
//! handshake (the token the server issued, the name now chosen) and paces the attempts: its
//! exponential backoff gives up after 15 minutes and then retries in a tight loop, which a
//! client kept open all day must not do.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures_util::FutureExt;
use protocol::{
    Ack, ChatMessage, Credentials, Handshake, MessageChange, MessageMeta, Presence, RoomSummary,
    SendMeta, UserEvent, DEFAULT_MAX_FRAME_BYTES, HISTORY, IDENTITY, MESSAGE_CHANGED, NEW_MESSAGE,
    PRESENCE, ROOMS, STOP_TYPING, TYPING, USER_JOINED, USER_LEFT,
};
use rust_socketio::{
    asynchronous::{Client, ClientBuilder, ReconnectSettings},
    Event, Payload, TransportType,
};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::{args::Settings, Failure};

/// How long a handshake, an acknowledgement or a room list may take.
pub const PATIENCE: Duration = Duration::from_secs(10);
/// The least time between two attempts to reconnect.
const RECONNECT_PACE: Duration = Duration::from_secs(1);

/// What the server said (or what happened to the connection), as `sala` uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// The handshake was accepted: first, or again after a reconnection.
    Admitted,
    /// The server refused the handshake, with its reason.
    Refused(String),
    /// The connection is gone; it is being made again.
    Lost,
    Identity(Credentials),
    Message(ChatMessage),
    History(Vec<ChatMessage>),
    /// A message's new state: edited or deleted by its author.
    Changed(MessageChange),
    Presence(Presence),
    Joined(UserEvent),
    Left(UserEvent),
    Typing(UserEvent),
    StopTyping(UserEvent),
}

impl Incoming {
    /// A server event as `sala` understands it; `None` for events it does not use, or whose
    /// payload is not what [`protocol`] says.
    pub fn from_event(event: &str, mut args: Vec<Value>) -> Option<Incoming> {
        let first = || args.first().cloned();
        let decoded = match event {
            IDENTITY => Incoming::Identity(serde_json::from_value(first()?).ok()?),
            NEW_MESSAGE => {
                if args.len() < 2 {
                    return None;
                }
                let meta: MessageMeta = serde_json::from_value(args.remove(1)).ok()?;
                let text = args.remove(0).as_str()?.to_owned();
                Incoming::Message(ChatMessage { text, meta })
            }
            HISTORY => Incoming::History(serde_json::from_value(first()?).ok()?),
            MESSAGE_CHANGED => Incoming::Changed(serde_json::from_value(first()?).ok()?),
            PRESENCE => Incoming::Presence(serde_json::from_value(first()?).ok()?),
            USER_JOINED => Incoming::Joined(serde_json::from_value(first()?).ok()?),
            USER_LEFT => Incoming::Left(serde_json::from_value(first()?).ok()?),
            TYPING => Incoming::Typing(serde_json::from_value(first()?).ok()?),
            STOP_TYPING => Incoming::StopTyping(serde_json::from_value(first()?).ok()?),
            _ => return None,
        };
        Some(decoded)
    }
}

/// The events of a [`Link`], in the order they arrived.
pub type Inbox = mpsc::UnboundedReceiver<Incoming>;

/// A connection to the chat. Cheap to clone: clones share it.
#[derive(Clone)]
pub struct Link {
    client: Client,
    redial: Arc<Mutex<Redial>>,
}

/// What the next reconnection attempt sends, and how the attempts are going.
struct Redial {
    handshake: Handshake,
    connected: bool,
    last_attempt: Option<Instant>,
}

impl Link {
    /// Connects to `url` with `handshake` and waits until the server admits it and says who it
    /// is. With `reconnect`, a lost connection is made again for as long as the link lives.
    pub async fn open(
        url: &str,
        handshake: Handshake,
        reconnect: bool,
    ) -> Result<(Link, Credentials, Inbox), Failure> {
        let (record, mut inbox) = mpsc::unbounded_channel();
        let redial = Arc::new(Mutex::new(Redial {
            handshake: handshake.clone(),
            connected: false,
            last_attempt: None,
        }));
        let auth = serde_json::to_value(&handshake).expect("a handshake is JSON");
        let client = ClientBuilder::new(url)
            .transport_type(TransportType::Websocket)
            .auth(auth)
            .reconnect(reconnect)
            .reconnect_on_disconnect(reconnect)
            .reconnect_delay(200, 5_000)
            .on_any({
                let record = record.clone();
                move |event, payload, _| {
                    if let (Event::Custom(event), Payload::Text(args)) = (event, payload) {
                        if let Some(incoming) = Incoming::from_event(&event, args) {
                            record.send(incoming).ok();
                        }
                    }
                    async {}.boxed()
                }
            })
            .on(Event::Connect, {
                let (record, redial) = (record.clone(), redial.clone());
                move |_, _| {
                    redial.lock().unwrap().connected = true;
                    record.send(Incoming::Admitted).ok();
                    async {}.boxed()
                }
            })
            .on(Event::Close, {
                let (record, redial) = (record.clone(), redial.clone());
                move |_, _| {
                    lost(&redial, &record);
                    async {}.boxed()
                }
            })
            .on(Event::Error, {
                let record = record.clone();
                move |payload, _| {
                    if let Some(reason) = refusal(&payload) {
                        record.send(Incoming::Refused(reason)).ok();
                    }
                    async {}.boxed()
                }
            })
            .on_reconnect({
                let (record, redial) = (record.clone(), redial.clone());
                move || {
                    lost(&redial, &record);
                    let (auth, wait) = {
                        let mut redial = redial.lock().unwrap();
                        let now = Instant::now();
                        let wait = redial
                            .last_attempt
                            .map(|last| RECONNECT_PACE.saturating_sub(now - last))
                            .unwrap_or_default();
                        redial.last_attempt = Some(now + wait);
                        (serde_json::to_value(&redial.handshake), wait)
                    };
                    async move {
                        tokio::time::sleep(wait).await;
                        let mut settings = ReconnectSettings::new();
                        if let Ok(auth) = auth {
                            settings.auth(auth);
                        }
                        settings
                    }
                    .boxed()
                }
            })
            .connect()
            .await
            .map_err(|error| Failure::Unreachable {
                url: url.to_owned(),
                reason: error.to_string(),
            })?;
        let link = Link { client, redial };
        let admitted = tokio::time::timeout(PATIENCE, async {
            loop {
                match inbox.recv().await {
                    Some(Incoming::Admitted) => return Ok(()),
                    Some(Incoming::Refused(reason)) => return Err(Failure::Refused(reason)),
                    Some(_) => {}
                    None => return Err(Failure::Lost),
                }
            }
        });
        let admitted = admitted.await.unwrap_or_else(|_| {
            Err(Failure::Unreachable {
                url: url.to_owned(),
                reason: "el servidor no respondió al saludo".to_owned(),
            })
        });
        if let Err(failure) = admitted {
            link.close().await;
            return Err(failure);
        }
        // The server's first event to an admitted client.
        let credentials = tokio::time::timeout(PATIENCE, async {
            loop {
                match inbox.recv().await? {
                    Incoming::Identity(credentials) => return Some(credentials),
                    _ => continue,
                }
            }
        })
        .await
        .ok()
        .flatten();
        let Some(credentials) = credentials else {
            link.close().await;
            return Err(Failure::Lost);
        };
        link.redial.lock().unwrap().handshake.token = Some(credentials.token.clone());
        Ok((link, credentials, inbox))
    }

    /// Joins `room` at the server `settings` names, as the person the profile remembers there
    /// (somebody new the first time), under the name asked for or else the one last used; the
    /// identity the server gives is remembered for next time.
    pub async fn join(
        settings: &Settings,
        room: &str,
        reconnect: bool,
    ) -> Result<(Link, Credentials, Inbox), Failure> {
        let profile = settings.profile.load();
        let handshake = Handshake {
            name: settings.name.clone().or(profile.name),
            token: profile
                .identities
                .get(&settings.url)
                .map(|known| known.token.clone()),
            room: Some(room.to_owned()),
            offset: None,
        };
        let (link, credentials, inbox) = Link::open(&settings.url, handshake, reconnect).await?;
        let remembered = settings.profile.update(|profile| {
            profile
                .identities
                .insert(settings.url.clone(), credentials.clone());
            if let Some(name) = &settings.name {
                profile.name = Some(name.clone());
            }
        });
        if let Err(error) = remembered {
            link.close().await;
            return Err(Failure::Io(error));
        }
        Ok((link, credentials, inbox))
    }

    /// Sends a message and waits for the server to store it: its id, or why not.
    pub async fn send(&self, text: &str, client_offset: &str) -> Result<i64, Failure> {
        let meta = SendMeta {
            client_offset: Some(client_offset.to_owned()),
        };
        let args = vec![
            Value::String(text.to_owned()),
            serde_json::to_value(meta).expect("metadata is JSON"),
        ];
        // The packet's own framing (`42["nuevo mensaje",…]`) adds a few bytes to its arguments.
        let bytes = serde_json::to_vec(&args).map_or(usize::MAX, |json| json.len()) + 32;
        if bytes > DEFAULT_MAX_FRAME_BYTES {
            return Err(Failure::FrameTooLong {
                bytes,
                limit: DEFAULT_MAX_FRAME_BYTES,
            });
        }
        let reply = self.request(NEW_MESSAGE, args).await?;
        match serde_json::from_value::<Ack>(reply) {
            Ok(Ack::Accepted {
                ok: true,
                id: Some(id),
            }) => Ok(id),
            Ok(Ack::Rejected { error, message }) => Err(Failure::Rejected {
                reason: error,
                message,
            }),
            _ => Err(Failure::NoAck { attempts: 1 }),
        }
    }

    /// The rooms with someone in them, busiest first.
    pub async fn rooms(&self) -> Result<Vec<RoomSummary>, Failure> {
        let reply = self.request(ROOMS, Vec::new()).await?;
        if let Ok(Ack::Rejected { error, message }) = serde_json::from_value::<Ack>(reply.clone()) {
            return Err(Failure::Rejected {
                reason: error,
                message,
            });
        }
        serde_json::from_value(reply).map_err(|_| Failure::NoAck { attempts: 1 })
    }

    /// Tells the room this person is typing (`true`) or stopped (`false`).
    pub async fn typing(&self, typing: bool) {
        let event = if typing { TYPING } else { STOP_TYPING };
        self.client
            .emit(event, Payload::Text(Vec::new()))
            .await
            .ok();
    }

    /// The name later reconnections announce.
    pub fn rename(&self, name: &str) {
        self.redial.lock().unwrap().handshake.name = Some(name.to_owned());
    }

    /// Leaves the chat (the server's `disconnect`, then the connection closes).
    pub async fn close(&self) {
        self.client.disconnect().await.ok();
    }

    /// Emits `event` with `args` and an ack callback; the ack's first argument.
    async fn request(&self, event: &str, args: Vec<Value>) -> Result<Value, Failure> {
        let (answer, answered) = oneshot::channel::<Value>();
        let answer = Arc::new(Mutex::new(Some(answer)));
        self.client
            .emit_with_ack(event, Payload::Text(args), PATIENCE, move |reply, _| {
                if let (Payload::Text(args), Some(answer)) = (reply, answer.lock().unwrap().take())
                {
                    answer.send(Value::Array(args)).ok();
                }
                async {}.boxed()
            })
            .await
            .map_err(|_| Failure::Lost)?;
        let reply = tokio::time::timeout(PATIENCE, answered)
            .await
            .map_err(|_| Failure::NoAck { attempts: 1 })?
            .map_err(|_| Failure::NoAck { attempts: 1 })?;
        Ok(first_argument(reply))
    }
}

/// An ack's first argument: rust_socketio hands the ack's whole argument list over as the
/// first (and only) value of its payload.
fn first_argument(reply: Value) -> Value {
    let Value::Array(mut payload) = reply else {
        return reply;
    };
    let first = if payload.is_empty() {
        Value::Null
    } else {
        payload.remove(0)
    };
    match first {
        Value::Array(mut args) if !args.is_empty() => args.remove(0),
        other => other,
    }
}

/// Says once that a connection that was up is gone.
fn lost(redial: &Mutex<Redial>, record: &mpsc::UnboundedSender<Incoming>) {
    let mut redial = redial.lock().unwrap();
    if std::mem::replace(&mut redial.connected, false) {
        record.send(Incoming::Lost).ok();
    }
}

/// The server's reason, when an error rust_socketio reports is a refused handshake
/// (`connect_error`); rust_socketio passes it on as text around the packet's JSON data.
fn refusal(payload: &Payload) -> Option<String> {
    let Payload::Text(args) = payload else {
        return None;
    };
    let text = args.first()?.as_str()?;
    let data = text.strip_prefix("Received an ConnectError frame: ")?;
    Some(
        serde_json::from_str::<Value>(data)
            .ok()
            .and_then(|data| data.get("message")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| data.to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn relayed_messages_are_decoded_with_their_metadata() {
        let incoming = Incoming::from_event(
            NEW_MESSAGE,
            vec![
                json!("hola"),
                json!({"id": 7, "user": "Ana", "person": "p", "room": "general", "at": "2026-12-03T10:00:00Z"}),
            ],
        );
        let Some(Incoming::Message(message)) = incoming else {
            panic!("{incoming:?}");
        };
        assert_eq!((message.text.as_str(), message.meta.id), ("hola", 7));
    }

    #[test]
    fn events_out_of_shape_are_ignored_not_guessed_at() {
        assert_eq!(Incoming::from_event(NEW_MESSAGE, vec![json!("hola")]), None);
        assert_eq!(
            Incoming::from_event(NEW_MESSAGE, vec![json!(1), json!({"id": 1})]),
            None
        );
        assert_eq!(Incoming::from_event(PRESENCE, vec![json!("x")]), None);
        assert_eq!(Incoming::from_event("otro", vec![json!({})]), None);
    }

    #[test]
    fn a_refused_handshake_gives_the_servers_reason() {
        let payload = Payload::Text(vec![json!(
            "Received an ConnectError frame: {\"message\":\"Demasiadas conexiones\"}"
        )]);
        assert_eq!(refusal(&payload).as_deref(), Some("Demasiadas conexiones"));
        let network = Payload::Text(vec![json!("Network error")]);
        assert_eq!(refusal(&network), None);
    }

    #[test]
    fn an_acks_first_argument_is_found_however_it_is_wrapped() {
        assert_eq!(first_argument(json!([[{"ok": true}]])), json!({"ok": true}));
        let rooms = json!([{"name": "general", "online": 2}]);
        assert_eq!(first_argument(json!([[rooms.clone()]])), rooms);
        assert_eq!(first_argument(json!([{"ok": true}])), json!({"ok": true}));
    }
}
