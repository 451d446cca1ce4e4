//! Shared test fixtures: the real server on an ephemeral port and real Socket.IO clients.

#![allow(dead_code)] // each test binary uses its own subset of the helpers

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::protocol::{Ack, NEW_MESSAGE};
use futures_util::FutureExt;
use rust_socketio::{
    asynchronous::{Client, ClientBuilder},
    Event, Payload, TransportType,
};
use serde_json::Value;
use server::Config;
use socketioxide::SocketIo;
use tokio::{
    net::TcpListener,
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

/// How long a test waits for something that should happen at once on loopback.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The real server, in-process, on 127.0.0.1 and a free port.
pub struct TestServer {
    pub addr: SocketAddr,
    /// The server's Socket.IO handle, to look at what it sees (who is connected).
    pub io: SocketIo,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Config::defaults()).await
    }

    pub async fn start_with(config: Config) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = server::app(&config).expect("server builds");
        let io = app.io.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(listener, app, async {
            stopped.await.ok();
        }));
        Self {
            addr,
            io,
            stop: Some(stop),
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits until exactly `n` clients are connected.
    pub async fn wait_for_clients(&self, n: usize) {
        let counted = tokio::time::timeout(PATIENCE, async {
            while self.io.sockets().len() != n {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(
            counted.is_ok(),
            "expected {n} clients, the server has {}",
            self.io.sockets().len()
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

/// A rust_socketio client that records the `"nuevo mensaje"` events it receives.
pub struct ChatClient {
    pub socket: Client,
    /// Each received event's arguments, in order.
    inbox: mpsc::UnboundedReceiver<Vec<Value>>,
}

impl ChatClient {
    pub async fn connect(server: &TestServer, transport: Transport) -> Self {
        let (on_message, inbox) = mpsc::unbounded_channel();
        let (connected, is_connected) = oneshot::channel::<()>();
        let connected = Mutex::new(Some(connected));
        let socket = ClientBuilder::new(server.url())
            .transport_type(transport.into())
            .reconnect(false)
            .on(NEW_MESSAGE, move |payload, _| {
                if let Payload::Text(args) = payload {
                    on_message.send(args).ok();
                }
                async {}.boxed()
            })
            // Broadcasts only reach sockets the server has admitted to the namespace, so tests
            // wait for the server's CONNECT packet before they send anything.
            .on(Event::Connect, move |_, _| {
                if let Some(connected) = connected.lock().unwrap().take() {
                    connected.send(()).ok();
                }
                async {}.boxed()
            })
            .connect()
            .await
            .expect("client connects");
        tokio::time::timeout(PATIENCE, is_connected)
            .await
            .expect("server admits the client in time")
            .unwrap();
        Self { socket, inbox }
    }

    /// Sends a chat message (a JSON string) and returns the server's acknowledgement.
    pub async fn send(&self, text: &str) -> Ack {
        self.send_raw(Payload::Text(vec![Value::String(text.to_owned())]))
            .await
    }

    /// Sends `"nuevo mensaje"` with arbitrary arguments and returns the acknowledgement.
    pub async fn send_raw(&self, payload: Payload) -> Ack {
        let (tx, rx) = oneshot::channel::<Value>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        self.socket
            .emit_with_ack(NEW_MESSAGE, payload, PATIENCE, move |reply, _| {
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
        let reply = match reply {
            Value::Array(mut args) if !args.is_empty() => args.remove(0),
            other => other,
        };
        serde_json::from_value(reply.clone())
            .unwrap_or_else(|e| panic!("ack {reply} has not the documented shape: {e}"))
    }

    /// The arguments of the next `"nuevo mensaje"`.
    pub async fn next(&mut self) -> Vec<Value> {
        tokio::time::timeout(PATIENCE, self.inbox.recv())
            .await
            .expect("a message arrives in time")
            .expect("client is alive")
    }

    /// The text of the next message.
    pub async fn next_text(&mut self) -> String {
        let args = self.next().await;
        args[0].as_str().expect("text message").to_owned()
    }
}
