//! Shared test fixtures: the real server on an ephemeral port and real Socket.IO clients.

#![allow(dead_code)] // each test binary uses its own subset of the helpers

pub mod cluster;
pub mod proxy;
pub mod raw;
pub mod slow_reader;

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::FutureExt;
use protocol::{Ack, ChatMessage, Credentials, Handshake, MessageMeta, IDENTITY, NEW_MESSAGE};
use rust_socketio::{
    asynchronous::{Client, ClientBuilder},
    Event, Payload, TransportType,
};
use serde_json::Value;
use server::{Config, Io};
use tempfile::TempDir;
use tokio::{
    net::TcpListener,
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

/// How long a test waits for something that should happen at once on loopback.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The real server, in-process, on 127.0.0.1 and a free port.
pub struct TestServer {
    pub addr: SocketAddr,
    /// The server's Socket.IO handle, to look at what it sees (who is connected).
    pub io: Io,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

/// The production defaults, with the history in `history`.
pub fn config_on(history: &TempDir) -> Config {
    let mut config = Config::defaults();
    config.database_url = format!(
        "sqlite://{}?mode=rwc",
        history.path().join("chat.db").display()
    );
    config
}

/// `config` with every per-connection and per-address limit off.
fn without_flood_control(mut config: Config) -> Config {
    config.message_burst = 0;
    config.address_message_burst = 0;
    config.max_connections_per_address = 0;
    config.address_handshake_burst = 0;
    config.address_request_burst = 0;
    config
}

/// A folder for a server's SQLite history; several servers started on it share the history.
pub fn history() -> TempDir {
    tempfile::tempdir().unwrap()
}

impl TestServer {
    /// A server with an empty history of its own, which lives as long as `history`, and no
    /// flood control: tests send hundreds of messages as fast as they can, from one address.
    pub async fn start(history: &TempDir) -> Self {
        Self::start_unlimited(config_on(history)).await
    }

    /// A server on `config` without flood control.
    pub async fn start_unlimited(config: Config) -> Self {
        Self::start_with(without_flood_control(config)).await
    }

    pub async fn start_with(config: Config) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve_on(listener, config).await
    }

    /// Stops this server and starts another, without flood control, on its address and
    /// `history`: a restart, as clients connected to it see one.
    pub async fn restart(self, history: &TempDir) -> Self {
        let addr = self.addr;
        self.stop().await;
        let listener = TcpListener::bind(addr)
            .await
            .expect("the address is free again");
        Self::serve_on(listener, without_flood_control(config_on(history))).await
    }

    async fn serve_on(listener: TcpListener, config: Config) -> Self {
        let addr = listener.local_addr().unwrap();
        let built = server::build(&config).await.expect("server builds");
        let io = built.io.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(listener, built, async {
            stopped.await.ok();
        }));
        Self {
            addr,
            io,
            stop: Some(stop),
            task,
        }
    }

    /// Waits until exactly `n` clients are connected.
    pub async fn wait_for_clients(&self, n: usize) {
        let counted = tokio::time::timeout(PATIENCE, async {
            while self.io.connections() != n {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(
            counted.is_ok(),
            "expected {n} clients, the server has {}",
            self.io.connections()
        );
    }

    pub async fn stop(mut self) {
        self.stop.take().unwrap().send(()).ok();
        tokio::time::timeout(PATIENCE, &mut self.task)
            .await
            .expect("server stops in time")
            .unwrap()
            .unwrap();
    }
}

/// Something clients connect to: an in-process server or a node of a cluster.
pub trait Address {
    fn addr(&self) -> SocketAddr;

    fn url(&self) -> String {
        format!("http://{}", self.addr())
    }
}

impl Address for TestServer {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// GETs `path`: the status and the body.
pub async fn get(server: &impl Address, path: &str) -> (reqwest::StatusCode, String) {
    let response = reqwest::get(format!("{}{path}", server.url()))
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// `/readyz`: the status and each dependency's state.
pub async fn readiness(server: &impl Address) -> (u16, Value) {
    let (status, body) = get(server, "/readyz").await;
    (status.as_u16(), serde_json::from_str(&body).unwrap())
}

/// The texts of the messages a room's page is rendered with, oldest first.
pub async fn page_texts(server: &impl Address, path: &str) -> Vec<String> {
    let html = reqwest::get(format!("{}{path}", server.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page = scraper::Html::parse_document(&html);
    let texts = scraper::Selector::parse("#listado-msjs .message__text").unwrap();
    page.select(&texts).map(|e| e.text().collect()).collect()
}

/// Which Engine.IO transport a client uses (rust_socketio's own enum is neither Copy nor Debug).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Websocket,
    Polling,
    /// Polling first, then the upgrade to websocket, as browsers do.
    Upgrade,
}

impl From<Transport> for TransportType {
    fn from(transport: Transport) -> Self {
        match transport {
            Transport::Websocket => TransportType::Websocket,
            Transport::Polling => TransportType::Polling,
            Transport::Upgrade => TransportType::Any,
        }
    }
}

/// One event a client received: its name and arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub event: String,
    pub args: Vec<Value>,
}

/// Recorded in a reconnecting client's inbox each time it is admitted again (no event of the
/// chat has this name).
pub const RECONNECTED: &str = "(reconnected)";

/// A rust_socketio client that records every event it receives, in order.
pub struct ChatClient {
    pub socket: Client,
    /// Who the server said this client is, when it was admitted.
    pub credentials: Credentials,
    inbox: mpsc::UnboundedReceiver<Received>,
}

impl ChatClient {
    /// Connects without a handshake, as the seed's page does.
    pub async fn connect(server: &impl Address, transport: Transport) -> Self {
        Self::connect_as(server, transport, Handshake::default()).await
    }

    pub async fn connect_as(server: &impl Address, transport: Transport, auth: Handshake) -> Self {
        Self::try_connect(server, transport, auth)
            .await
            .expect("server admits the client")
    }

    /// Connects and waits to be admitted; the error is the server's `connect_error` text (or,
    /// refused before a session was opened, the HTTP error).
    pub async fn try_connect(
        server: &impl Address,
        transport: Transport,
        auth: Handshake,
    ) -> Result<Self, String> {
        Self::open(server, transport, auth, false, None).await
    }

    /// Connects over websocket as if from `from`, by the header a reverse proxy adds: the server
    /// must trust it (`trust_forwarded_for`).
    pub async fn connect_from(server: &impl Address, from: IpAddr, auth: Handshake) -> Self {
        Self::open(server, Transport::Websocket, auth, false, Some(from))
            .await
            .expect("server admits the client")
    }

    /// A client that, like the browser's, reconnects when the connection is lost.
    pub async fn connect_reconnecting(server: &impl Address, transport: Transport) -> Self {
        Self::open(server, transport, Handshake::default(), true, None)
            .await
            .expect("server admits the client")
    }

    async fn open(
        server: &impl Address,
        transport: Transport,
        auth: Handshake,
        reconnect: bool,
        from: Option<IpAddr>,
    ) -> Result<Self, String> {
        let (record, inbox) = mpsc::unbounded_channel();
        let (admitted, is_admitted) = oneshot::channel::<Result<(), String>>();
        let admitted = Arc::new(Mutex::new(Some(admitted)));
        let refused = admitted.clone();
        let reconnected = record.clone();
        let mut builder = ClientBuilder::new(server.url());
        if let Some(from) = from {
            builder = builder.opening_header("X-Forwarded-For", from.to_string());
        }
        let socket = builder
            .transport_type(transport.into())
            .reconnect(reconnect)
            .reconnect_delay(50, 500)
            .auth(serde_json::to_value(auth).unwrap())
            .on_any(move |event, payload, _| {
                if let (Event::Custom(event), Payload::Text(args)) = (event, payload) {
                    record.send(Received { event, args }).ok();
                }
                async {}.boxed()
            })
            // Broadcasts only reach sockets the server has admitted to the namespace, so tests
            // wait for the server's CONNECT packet before they send anything.
            .on(Event::Connect, move |_, _| {
                match admitted.lock().unwrap().take() {
                    Some(admitted) => admitted.send(Ok(())).ok(),
                    None => reconnected
                        .send(Received {
                            event: RECONNECTED.into(),
                            args: Vec::new(),
                        })
                        .ok(),
                };
                async {}.boxed()
            })
            .on(Event::Error, move |payload, _| {
                if let (Some(refused), Payload::Text(args)) =
                    (refused.lock().unwrap().take(), payload)
                {
                    refused
                        .send(Err(args.iter().map(Value::to_string).collect()))
                        .ok();
                }
                async {}.boxed()
            })
            .connect()
            .await
            // Refused before the engine (too many sessions held open): said in the status line.
            .map_err(|error| format!("no session: {error}"))?;
        let admitted = tokio::time::timeout(PATIENCE, is_admitted)
            .await
            .expect("server answers the handshake in time")
            .unwrap();
        if let Err(refused) = admitted {
            // As the official client does: a refused client closes its session.
            socket.disconnect().await.ok();
            return Err(refused);
        }
        let mut client = Self {
            socket,
            credentials: Credentials {
                person: String::new(),
                token: String::new(),
            },
            inbox,
        };
        // The server's first event to an admitted client.
        let first = client.next_any().await;
        assert_eq!(first.event, IDENTITY, "the first event: {first:?}");
        client.credentials = serde_json::from_value(first.args[0].clone())
            .expect("credentials have the documented shape");
        Ok(client)
    }

    /// A handshake as this client's person again (another tab of theirs).
    pub fn same_person(&self, mut auth: Handshake) -> Handshake {
        auth.token = Some(self.credentials.token.clone());
        auth
    }

    /// Whether a reconnecting client is admitted again within `PATIENCE` (whatever else arrives
    /// meanwhile).
    pub async fn wait_reconnected(&mut self) -> bool {
        tokio::time::timeout(PATIENCE, async {
            while let Some(received) = self.inbox.recv().await {
                if received.event == RECONNECTED {
                    return;
                }
            }
        })
        .await
        .is_ok()
    }

    /// Sends a chat message (a JSON string) and returns the server's acknowledgement.
    pub async fn send(&self, text: &str) -> Ack {
        self.send_raw(Payload::Text(vec![Value::String(text.to_owned())]))
            .await
    }

    /// Sends `"nuevo mensaje"` with arbitrary arguments and returns the acknowledgement.
    pub async fn send_raw(&self, payload: Payload) -> Ack {
        let reply = self.request(NEW_MESSAGE, payload).await;
        serde_json::from_value(reply.clone())
            .unwrap_or_else(|e| panic!("ack {reply} has not the documented shape: {e}"))
    }

    /// Emits `event` with an ack callback and returns the ack's first argument.
    pub async fn request(&self, event: &str, payload: Payload) -> Value {
        let (tx, rx) = oneshot::channel::<Value>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        self.socket
            .emit_with_ack(event, payload, PATIENCE, move |reply, _| {
                if let (Payload::Text(mut args), Some(tx)) = (reply, tx.lock().unwrap().take()) {
                    tx.send(args.remove(0)).ok();
                }
                async {}.boxed()
            })
            .await
            .expect("emit succeeds");
        let reply = tokio::time::timeout(PATIENCE, rx)
            .await
            .expect("ack arrives in time")
            .expect("ack callback ran");
        // rust_socketio hands an ack's whole argument list over as one JSON array.
        match reply {
            Value::Array(mut args) if !args.is_empty() => args.remove(0),
            other => other,
        }
    }

    /// The next event received, whatever it is.
    pub async fn next_any(&mut self) -> Received {
        tokio::time::timeout(PATIENCE, self.inbox.recv())
            .await
            .expect("an event arrives in time")
            .expect("client is alive")
    }

    /// The arguments of the next `event`, skipping events of other names.
    pub async fn next(&mut self, event: &str) -> Vec<Value> {
        loop {
            let received = self.next_any().await;
            if received.event == event {
                return received.args;
            }
        }
    }

    /// The first argument of the next `event`, decoded.
    pub async fn next_as<T: serde::de::DeserializeOwned>(&mut self, event: &str) -> T {
        let mut args = self.next(event).await;
        serde_json::from_value(args.remove(0)).expect("payload has the documented shape")
    }

    /// The text of the next message.
    pub async fn next_text(&mut self) -> String {
        self.next_message().await.text
    }

    /// The next relayed message, text and metadata.
    pub async fn next_message(&mut self) -> ChatMessage {
        let mut args = self.next(NEW_MESSAGE).await;
        let text = args.remove(0).as_str().expect("text message").to_owned();
        let meta: MessageMeta = serde_json::from_value(args.remove(0)).expect("message metadata");
        ChatMessage { text, meta }
    }

    /// Asserts that nothing of `event` arrives for a while.
    pub async fn assert_no(&mut self, event: &str) {
        let quiet = tokio::time::timeout(Duration::from_millis(300), async {
            loop {
                if self
                    .inbox
                    .recv()
                    .await
                    .is_none_or(|received| received.event == event)
                {
                    return;
                }
            }
        })
        .await;
        assert!(quiet.is_err(), "unexpected {event}");
    }
}
