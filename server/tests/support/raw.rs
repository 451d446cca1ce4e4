//! A client that speaks Engine.IO / Socket.IO by hand over a websocket, as an attacker (or a
//! broken client) would: it sends what it likes, and reads only when it wants to.

use std::{net::SocketAddr, time::Duration};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::{tungstenite::Message, MaybeTlsStream, WebSocketStream};

pub struct RawClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl RawClient {
    /// Opens an Engine.IO session over a websocket, and reads its open packet; joins no namespace.
    /// `receive_buffer`: the TCP receive buffer to ask the kernel for (small: a reader that stops
    /// reading is felt by the server at once).
    pub async fn open(addr: SocketAddr, receive_buffer: Option<u32>) -> Self {
        let tcp = TcpSocket::new_v4().unwrap();
        if let Some(bytes) = receive_buffer {
            tcp.set_recv_buffer_size(bytes).unwrap();
        }
        let stream = tcp.connect(addr).await.unwrap();
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        let (socket, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
            .await
            .expect("the websocket handshake");
        let mut client = Self { socket };
        let open = client.next().await.expect("an open packet");
        assert!(open.starts_with('0'), "{open}");
        client
    }

    pub async fn send(&mut self, packet: &str) {
        self.socket
            .send(Message::text(packet))
            .await
            .expect("the server takes the packet");
    }

    /// The next text packet, answering pings; `None` once the server has closed the connection.
    pub async fn next(&mut self) -> Option<String> {
        loop {
            match self.socket.next().await? {
                Ok(Message::Text(text)) if text.as_str() == "2" => {
                    // A server closing the connection may reset it under the pong.
                    if self.socket.send(Message::text("3")).await.is_err() {
                        return None;
                    }
                }
                Ok(Message::Text(text)) => return Some(text.to_string()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Joins the main namespace with `auth` (a JSON object, or empty) and waits for the answer.
    pub async fn join(&mut self, auth: &str) -> String {
        self.send(&format!("40{auth}")).await;
        loop {
            let packet = self
                .next()
                .await
                .expect("an answer to the namespace handshake");
            if packet.starts_with("40") || packet.starts_with("44") {
                return packet;
            }
        }
    }

    /// Whether the server ends the connection within `patience` (whatever else it sends first).
    pub async fn is_closed_within(&mut self, patience: Duration) -> bool {
        tokio::time::timeout(patience, async { while self.next().await.is_some() {} })
            .await
            .is_ok()
    }
}
