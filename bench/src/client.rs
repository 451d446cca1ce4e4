//! Just enough of Engine.IO v4 / Socket.IO v5 to chat, over a websocket or HTTP long-polling,
//! at a few kilobytes per connection: a full client (rust_socketio) costs threads and buffers
//! that 20,000 connections from one core cannot afford. Packets, as the protocol specs define
//! them: `0{…}` open, `2`/`3` ping/pong, `40{auth}` connect to `/`, `40{"sid"…}` connected,
//! `44{…}` refused, `42[event, args…]` an event; a polling body joins packets with `\x1e`.

use std::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use protocol::NEW_MESSAGE;
use tokio::{
    net::{TcpSocket, TcpStream},
    sync::mpsc,
    task::JoinHandle,
};
use tokio_tungstenite::{
    client_async_with_config,
    tungstenite::{protocol::WebSocketConfig, Message, Utf8Bytes},
    WebSocketStream,
};

/// Plain TCP: the generator only ever talks to servers on loopback.
pub type Stream = WebSocketStream<TcpStream>;

/// What separates packets in a polling body.
const SEPARATOR: char = '\x1e';

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Websocket,
    Polling,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("websocket: {0}")]
    Websocket(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("polling: {0}")]
    Polling(#[from] reqwest::Error),
    #[error("the server closed the connection during the handshake")]
    Closed,
    #[error("unexpected packet during the handshake: {0:?}")]
    Unexpected(String),
    #[error("the server refused the namespace connection: {0}")]
    Refused(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("not a server address: {0}")]
    Address(String),
    #[error("tcp: {0}")]
    Tcp(#[from] std::io::Error),
}

/// How clients reach the server.
#[derive(Clone)]
pub struct Connector {
    pub transport: Transport,
    /// Where connections leave from (the system's choice if none).
    local: Option<IpAddr>,
    /// Shared by every polling client: its pool holds each client's long poll and its posts.
    http: reqwest::Client,
}

/// The `n`th client address of a part of a run: 127.`part`.x.y, which reaches a server on
/// loopback and is another address to its per-address limits.
pub fn loopback_address(part: u8, n: usize) -> IpAddr {
    IpAddr::V4(std::net::Ipv4Addr::new(
        127,
        part,
        (n / 250) as u8,
        (n % 250 + 1) as u8,
    ))
}

impl Connector {
    pub fn new(transport: Transport) -> Self {
        Self::from_address(transport, None)
    }

    /// Clients whose connections leave from `local`: any of 127.0.0.0/8 reaches a server on
    /// loopback, and to the server each is another client address (its per-address limits).
    pub fn from_address(transport: Transport, local: Option<IpAddr>) -> Self {
        let http = reqwest::Client::builder()
            .local_address(local)
            .build()
            .expect("a plain HTTP client builds");
        Self {
            transport,
            local,
            http,
        }
    }

    /// Opens `base` (`http://host:port`) and joins the main namespace with `auth` (a JSON
    /// object, or empty for none).
    pub async fn connect(
        &self,
        base: &str,
        auth: &str,
        timeout: Duration,
    ) -> Result<Client, ClientError> {
        let handshake = async {
            match self.transport {
                Transport::Websocket => websocket(base, auth, self.local).await,
                Transport::Polling => Polling::handshake(self.http.clone(), base, auth).await,
            }
        };
        tokio::time::timeout(timeout, handshake)
            .await
            .map_err(|_| ClientError::Timeout(timeout))?
    }
}

/// A connected Socket.IO client on the main namespace.
pub enum Client {
    Websocket(Box<Stream>),
    Polling(Polling),
}

/// What a received packet was.
pub enum Incoming<'a> {
    Ping,
    /// The text of a `"nuevo mensaje"` event.
    Message(&'a str),
    Other,
}

impl Client {
    /// The next packet from the server; `None` once the connection is gone. Cancel-safe: a
    /// polling client's long poll runs in a task of its own.
    pub async fn next_packet(&mut self) -> Option<Utf8Bytes> {
        match self {
            Client::Websocket(stream) => loop {
                match stream.next().await? {
                    Ok(Message::Text(text)) => return Some(text),
                    Ok(Message::Close(_)) | Err(_) => return None,
                    Ok(_) => continue,
                }
            },
            Client::Polling(polling) => polling.incoming.recv().await,
        }
    }

    /// Sends a chat message whose text is `text` (JSON-safe: no quotes, backslashes or control
    /// characters), without asking for an acknowledgement, as the seed's page does.
    pub async fn send(&mut self, text: &str) -> Result<(), ClientError> {
        self.send_packet(format!("42[\"{NEW_MESSAGE}\",\"{text}\"]"))
            .await
    }

    /// Sends a chat message asking for an acknowledgement numbered `ack` (the server's answer
    /// comes back as a `43{ack}[…]` packet).
    pub async fn send_with_ack(&mut self, text: &str, ack: u64) -> Result<(), ClientError> {
        self.send_packet(format!("42{ack}[\"{NEW_MESSAGE}\",\"{text}\"]"))
            .await
    }

    pub async fn pong(&mut self) -> Result<(), ClientError> {
        self.send_packet("3".to_owned()).await
    }

    async fn send_packet(&mut self, packet: String) -> Result<(), ClientError> {
        match self {
            Client::Websocket(stream) => stream.send(Message::text(packet)).await?,
            Client::Polling(polling) => post(&polling.http, &polling.url, packet).await?,
        }
        Ok(())
    }
}

async fn websocket(base: &str, auth: &str, local: Option<IpAddr>) -> Result<Client, ClientError> {
    let host = base
        .strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .ok_or_else(|| ClientError::Address(base.to_owned()))?;
    let server = tokio::net::lookup_host(host)
        .await?
        .next()
        .ok_or_else(|| ClientError::Address(base.to_owned()))?;
    let socket = match server {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(local) = local {
        socket.bind(SocketAddr::new(local, 0))?;
    }
    let tcp = socket.connect(server).await?;
    tcp.set_nodelay(true)?;
    let url = format!("ws://{host}/socket.io/?EIO=4&transport=websocket");
    // Small buffers: most connections are idle, and every byte counts 20,000 times. The read
    // buffer also costs time: tungstenite zero-fills all of it before every read, and at its
    // default (128 KiB) that made the generator, not the server, the bottleneck of a crowd's
    // connects (docs/BENCHMARKS.md, the third run of 2026-12-07).
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(1 << 20));
    let (mut stream, _) = client_async_with_config(url, tcp, Some(config)).await?;
    let open = next_text(&mut stream).await?;
    if !open.starts_with('0') {
        return Err(ClientError::Unexpected(open));
    }
    stream.send(Message::text(format!("40{auth}"))).await?;
    loop {
        let packet = next_text(&mut stream).await?;
        if connected(&packet)? {
            return Ok(Client::Websocket(Box::new(stream)));
        }
        stream.send(Message::text("3")).await?;
    }
}

/// Whether `packet`, received while waiting for the namespace's answer, is it; an error if the
/// server refused or sent something else than a ping.
fn connected(packet: &str) -> Result<bool, ClientError> {
    if packet.starts_with("40") {
        return Ok(true);
    }
    if let Some(error) = packet.strip_prefix("44") {
        return Err(ClientError::Refused(error.to_owned()));
    }
    if packet.starts_with('2') {
        return Ok(false);
    }
    Err(ClientError::Unexpected(packet.to_owned()))
}

/// A long-polling session: one request always waiting for the server's packets (in its own
/// task, so that a caller giving up on a read never drops a response half taken), and posts
/// one at a time, as engine.io requires.
pub struct Polling {
    http: reqwest::Client,
    /// The session's URL (with its `sid`).
    url: String,
    incoming: mpsc::UnboundedReceiver<Utf8Bytes>,
    poll: JoinHandle<()>,
}

impl Polling {
    async fn handshake(
        http: reqwest::Client,
        base: &str,
        auth: &str,
    ) -> Result<Client, ClientError> {
        let open = get(&http, &format!("{base}/socket.io/?EIO=4&transport=polling")).await?;
        let sid = open
            .strip_prefix('0')
            .and_then(|open| serde_json::from_str::<serde_json::Value>(open).ok())
            .and_then(|open| open.get("sid")?.as_str().map(str::to_owned))
            .ok_or_else(|| ClientError::Unexpected(open.clone()))?;
        let url = format!("{base}/socket.io/?EIO=4&transport=polling&sid={sid}");
        post(&http, &url, format!("40{auth}")).await?;
        let (to_caller, incoming) = mpsc::unbounded_channel();
        'answer: loop {
            let body = get(&http, &url).await?;
            let mut packets = body.split(SEPARATOR);
            while let Some(packet) = packets.next() {
                if connected(packet)? {
                    // What came in the same body after the answer is the session's first news.
                    for packet in packets {
                        to_caller.send(packet.to_owned().into()).ok();
                    }
                    break 'answer;
                }
                post(&http, &url, "3".to_owned()).await?;
            }
        }
        let poll = tokio::task::spawn_local(long_poll(http.clone(), url.clone(), to_caller));
        Ok(Client::Polling(Self {
            http,
            url,
            incoming,
            poll,
        }))
    }
}

impl Drop for Polling {
    fn drop(&mut self) {
        self.poll.abort();
    }
}

/// Polls until the session ends (an error status, a close packet) or nobody listens.
async fn long_poll(
    http: reqwest::Client,
    url: String,
    to_caller: mpsc::UnboundedSender<Utf8Bytes>,
) {
    while let Ok(body) = get(&http, &url).await {
        for packet in body.split(SEPARATOR) {
            if packet == "1" || to_caller.send(packet.to_owned().into()).is_err() {
                return;
            }
        }
    }
}

async fn post(http: &reqwest::Client, url: &str, packet: String) -> Result<(), ClientError> {
    http.post(url)
        .body(packet)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

async fn get(http: &reqwest::Client, url: &str) -> Result<String, ClientError> {
    Ok(http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?)
}

/// Reads a text frame's packet without a JSON parser: the bench's own texts need no escaping, so
/// the message text is what lies between the event name's quotes and the next quote.
pub fn classify(packet: &str) -> Incoming<'_> {
    if packet == "2" {
        return Incoming::Ping;
    }
    let text = packet
        .strip_prefix("42[\"")
        .and_then(|rest| rest.strip_prefix(NEW_MESSAGE))
        .and_then(|rest| rest.strip_prefix("\",\""));
    match text {
        Some(rest) => match rest.find('"') {
            Some(end) => Incoming::Message(&rest[..end]),
            None => Incoming::Other,
        },
        None => Incoming::Other,
    }
}

async fn next_text(stream: &mut Stream) -> Result<String, ClientError> {
    loop {
        match stream.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text.as_str().to_owned()),
            Some(Ok(Message::Close(_))) | None => return Err(ClientError::Closed),
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(error.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_are_told_apart() {
        assert!(matches!(classify("2"), Incoming::Ping));
        let event = format!(r#"42["{NEW_MESSAGE}","0003:00000012:hola",{{"id":7}}]"#);
        assert!(matches!(
            classify(&event),
            Incoming::Message("0003:00000012:hola")
        ));
        let presence = format!(r#"42["{}",{{}}]"#, protocol::PRESENCE);
        assert!(matches!(classify(&presence), Incoming::Other));
        assert!(matches!(classify("3"), Incoming::Other));
    }
}
