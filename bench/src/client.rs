//! Just enough of Engine.IO v4 / Socket.IO v5 over a websocket to chat, at a few kilobytes per
//! connection: a full client (rust_socketio) costs threads and buffers that 20,000 connections
//! from one core cannot afford. Packets, as the protocol specs define them:
//! `0{…}` open, `2`/`3` ping/pong, `40{auth}` connect to `/`, `40{"sid"…}` connected,
//! `44{…}` refused, `42[event, args…]` an event.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    connect_async_with_config,
    tungstenite::{protocol::WebSocketConfig, Message},
    MaybeTlsStream, WebSocketStream,
};

pub type Stream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The event a chat message travels as, both ways (the seed's name).
pub const NEW_MESSAGE: &str = "nuevo mensaje";

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("websocket: {0}")]
    Websocket(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("the server closed the connection during the handshake")]
    Closed,
    #[error("unexpected packet during the handshake: {0:?}")]
    Unexpected(String),
    #[error("the server refused the namespace connection: {0}")]
    Refused(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// A connected Socket.IO client on the main namespace.
pub struct Client {
    pub stream: Stream,
}

/// What a received text frame was.
pub enum Incoming<'a> {
    Ping,
    /// The text of a `"nuevo mensaje"` event.
    Message(&'a str),
    Other,
}

impl Client {
    /// Opens `base` (`http://host:port`) over websocket and joins the main namespace with
    /// `auth` (a JSON object, or empty for none).
    pub async fn connect(base: &str, auth: &str, timeout: Duration) -> Result<Self, ClientError> {
        tokio::time::timeout(timeout, Self::handshake(base, auth))
            .await
            .map_err(|_| ClientError::Timeout(timeout))?
    }

    async fn handshake(base: &str, auth: &str) -> Result<Self, ClientError> {
        let url = format!(
            "{}/socket.io/?EIO=4&transport=websocket",
            base.replacen("http", "ws", 1)
        );
        // Small buffers: most connections are idle, and every byte counts 20,000 times.
        let config = WebSocketConfig::default()
            .write_buffer_size(0)
            .max_message_size(Some(1 << 20));
        let (mut stream, _) = connect_async_with_config(url, Some(config), true).await?;
        let open = next_text(&mut stream).await?;
        if !open.starts_with('0') {
            return Err(ClientError::Unexpected(open));
        }
        stream.send(Message::text(format!("40{auth}"))).await?;
        loop {
            let packet = next_text(&mut stream).await?;
            if packet.starts_with("40") {
                return Ok(Self { stream });
            }
            if let Some(error) = packet.strip_prefix("44") {
                return Err(ClientError::Refused(error.to_owned()));
            }
            // Anything else (an early event) before the namespace answer is not expected.
            if !packet.starts_with('2') {
                return Err(ClientError::Unexpected(packet));
            }
            stream.send(Message::text("3")).await?;
        }
    }

    /// Sends a chat message whose text is `text` (JSON-safe: no quotes, backslashes or control
    /// characters), without asking for an acknowledgement, as the seed's page does.
    pub async fn send(&mut self, text: &str) -> Result<(), ClientError> {
        let packet = format!("42[\"{NEW_MESSAGE}\",\"{text}\"]");
        self.stream.send(Message::text(packet)).await?;
        Ok(())
    }

    pub async fn pong(&mut self) -> Result<(), ClientError> {
        self.stream.send(Message::text("3")).await?;
        Ok(())
    }
}

/// Reads a text frame's packet without a JSON parser: the bench's own texts need no escaping, so
/// the message text is what lies between the event name's quotes and the next quote.
pub fn classify(packet: &str) -> Incoming<'_> {
    if packet == "2" {
        return Incoming::Ping;
    }
    const PREFIX: &str = concat!("42[\"", "nuevo mensaje", "\",\"");
    match packet.strip_prefix(PREFIX) {
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
        let event = r#"42["nuevo mensaje","0003:00000012:hola",{"id":7}]"#;
        assert!(matches!(
            classify(event),
            Incoming::Message("0003:00000012:hola")
        ));
        assert!(matches!(classify(r#"42["presence",{}]"#), Incoming::Other));
        assert!(matches!(classify("3"), Incoming::Other));
    }
}
