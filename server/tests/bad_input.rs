//! Bad input is refused, never relayed, and never costs anybody else their session.

mod support;

use protocol::{Ack, Rejection, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_MESSAGE_CHARS, NEW_MESSAGE};
use rust_socketio::Payload;
use serde_json::json;
use server::Config;
use support::{Address, ChatClient, TestServer, Transport, PATIENCE};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

#[tokio::test]
async fn invalid_messages_get_an_error_and_are_not_relayed() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    for transport in [Transport::Websocket, Transport::Polling] {
        let mut sender = ChatClient::connect(&server, transport).await;
        let mut other = ChatClient::connect(&server, Transport::Websocket).await;
        let cases = [
            (Payload::Text(vec![]), Rejection::Missing),
            (Payload::Text(vec![json!(42)]), Rejection::NotText),
            (Payload::Text(vec![json!(null)]), Rejection::NotText),
            (
                Payload::Text(vec![json!({"text": "hola"})]),
                Rejection::NotText,
            ),
            (Payload::Text(vec![json!(["hola"])]), Rejection::NotText),
            (Payload::Text(vec![json!("")]), Rejection::Empty),
            (Payload::Text(vec![json!(" \n\t ")]), Rejection::Empty),
            (
                Payload::Text(vec![json!("x".repeat(DEFAULT_MAX_MESSAGE_CHARS + 1))]),
                Rejection::TooLong,
            ),
            (
                Payload::Text(vec![json!("hola \u{202E}odnum")]),
                Rejection::BadCharacters,
            ),
            (
                Payload::Text(vec![json!("\u{1b}[2J borrado")]),
                Rejection::BadCharacters,
            ),
        ];
        for (payload, reason) in cases {
            let shown = format!("{payload:?}");
            assert_eq!(
                sender.send_raw(payload).await,
                Ack::rejected(reason),
                "{shown:.60}"
            );
        }

        // Nothing of the above was relayed: the first thing anybody sees is the next valid
        // message, and the sender is still connected to send it.
        assert!(sender.send("sigo aquí").await.is_accepted());
        assert_eq!(other.next_text().await, "sigo aquí");
        assert_eq!(sender.next_text().await, "sigo aquí");
    }
    server.stop().await;
}

#[tokio::test]
async fn text_is_stored_and_relayed_in_one_normal_form() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut sender = ChatClient::connect(&server, Transport::Websocket).await;
    // "ñandú" typed with combining marks, and a line break from a system that writes \r\n.
    assert!(sender.send("n\u{303}andu\u{301}\r\nsí").await.is_accepted());
    assert_eq!(sender.next_text().await, "ñandú\nsí");
    assert_eq!(
        support::page_texts(&server, "/").await,
        ["ñandú\nsí"],
        "the stored text is the relayed one"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_length_cap_counts_characters_and_is_configurable() {
    let history = support::history();
    let default = TestServer::start(&history).await;
    let client = ChatClient::connect(&default, Transport::Websocket).await;
    let at_limit = "ñ".repeat(DEFAULT_MAX_MESSAGE_CHARS);
    assert!(client.send(&at_limit).await.is_accepted());
    default.stop().await;

    let mut config = Config::defaults();
    config.database_url = format!(
        "sqlite://{}?mode=rwc",
        history.path().join("strict.db").display()
    );
    config.max_message_chars = 5;
    let strict = TestServer::start_with(config).await;
    let client = ChatClient::connect(&strict, Transport::Websocket).await;
    assert!(client.send("ñandú").await.is_accepted());
    assert_eq!(
        client.send("ñandús").await,
        Ack::rejected(Rejection::TooLong)
    );
    strict.stop().await;
}

#[tokio::test]
async fn unknown_events_are_ignored() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut sender = ChatClient::connect(&server, Transport::Websocket).await;
    let mut other = ChatClient::connect(&server, Transport::Websocket).await;
    sender
        .socket
        .emit("otra cosa", json!("hola"))
        .await
        .unwrap();
    sender
        .socket
        .emit("nuevo_mensaje", json!("casi"))
        .await
        .unwrap();
    assert!(sender.send("de verdad").await.is_accepted());
    assert_eq!(other.next_text().await, "de verdad");
    assert_eq!(sender.next_text().await, "de verdad");
    server.stop().await;
}

#[tokio::test]
async fn an_oversize_frame_disconnects_only_its_sender() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut bystander = ChatClient::connect(&server, Transport::Websocket).await;
    for transport in [Transport::Websocket, Transport::Polling] {
        for size in [1 << 20, 10 << 20] {
            let flooder = ChatClient::connect(&server, transport).await;
            server.wait_for_clients(2).await;
            // The send itself may or may not report the failure; the disconnect is what counts.
            flooder
                .socket
                .emit(NEW_MESSAGE, json!("x".repeat(size)))
                .await
                .ok();
            server.wait_for_clients(1).await;

            let text = format!("sigo aquí tras {size} bytes por {transport:?}");
            assert!(bystander.send(&text).await.is_accepted());
            assert_eq!(bystander.next_text().await, text);
        }
    }
    server.stop().await;
}

/// A websocket frame that announces 10 MiB is refused from its header: the server hangs up while
/// almost all of it is still unsent, so it never buffered it.
#[tokio::test]
async fn a_huge_websocket_frame_is_refused_from_its_header() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    let upgrade = format!(
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n",
        server.addr
    );
    tcp.write_all(upgrade.as_bytes()).await.unwrap();
    let mut head = vec![0u8; 1024];
    let n = tcp.read(&mut head).await.unwrap();
    assert!(
        String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 101"),
        "websocket upgrade accepted"
    );

    let announced: u64 = 10 << 20;
    let mut frame = vec![0x81, 0x80 | 127];
    frame.extend_from_slice(&announced.to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]); // mask key
    frame.extend(std::iter::repeat_n(b'4', DEFAULT_MAX_FRAME_BYTES + 1));
    // The server may hang up before it has read all of this; that is the point.
    tcp.write_all(&frame).await.ok();

    let closed = tokio::time::timeout(PATIENCE, async {
        let mut sink = vec![0u8; 64 * 1024];
        loop {
            match tcp.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "server closed the connection with 10 MiB unsent"
    );
    server.stop().await;
}

#[tokio::test]
async fn pages_of_other_sites_cannot_open_sessions_or_post() {
    let history = support::history();
    let mut config = support::config_on(&history);
    config.allowed_origins = vec!["https://amigos.example".into()];
    let server = TestServer::start_with(config).await;
    let http = reqwest::Client::new();
    let handshake = format!("{}/socket.io/?EIO=4&transport=polling", server.url());
    let status = |origin: Option<&str>, post: bool| {
        let url = if post {
            format!("{}/api/enviar", server.url())
        } else {
            handshake.clone()
        };
        let request = if post { http.post(url) } else { http.get(url) };
        let request = match origin {
            Some(origin) => request.header(reqwest::header::ORIGIN, origin),
            None => request,
        };
        async move { request.send().await.unwrap().status() }
    };
    let own = server.url();
    assert_eq!(status(Some("http://malvado.example"), false).await, 403);
    assert_eq!(status(Some("null"), false).await, 403);
    assert_eq!(status(Some("http://malvado.example"), true).await, 403);
    assert_eq!(status(Some(own.as_str()), false).await, 200);
    assert_eq!(status(Some("https://amigos.example"), false).await, 200);
    // No Origin: not a browser acting for a visitor (a bot, a test, the official clients).
    assert_eq!(status(None, false).await, 200);

    // The engine answers `/socket.io` as well as `/socket.io/` (the official client's
    // `addTrailingSlash: false`): so does the check, for polling and websocket alike.
    let bare = format!("{}/socket.io?EIO=4&transport=polling", server.url());
    let polled = http
        .get(bare)
        .header(reqwest::header::ORIGIN, "http://malvado.example");
    assert_eq!(polled.send().await.unwrap().status(), 403);
    for path in ["/socket.io/", "/socket.io"] {
        let upgrade = |origin| websocket_upgrade(server.addr, path, origin);
        assert_eq!(upgrade("http://malvado.example").await, 403, "{path}");
        assert_eq!(upgrade(own.as_str()).await, 101, "{path}");
    }
    server.stop().await;
}

/// The status of a websocket handshake for the engine at `path`, sent from a page of `origin`.
async fn websocket_upgrade(addr: std::net::SocketAddr, path: &str, origin: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path}?EIO=4&transport=websocket HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\n\
         Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0; 12];
    tcp.read_exact(&mut head).await.unwrap();
    // "HTTP/1.1 101"
    std::str::from_utf8(&head[9..12]).unwrap().parse().unwrap()
}
