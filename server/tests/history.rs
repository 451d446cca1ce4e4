//! Server delivery and client delivery: replay from an offset, and a resend stored once.

mod support;

use app::protocol::{Ack, ChatMessage, Handshake, HISTORY, NEW_MESSAGE};
use rust_socketio::Payload;
use serde_json::json;
use support::{ChatClient, TestServer, Transport};

fn resuming_from(offset: i64) -> Handshake {
    Handshake {
        offset: Some(offset),
        ..Handshake::default()
    }
}

/// Reads `history` batches until `count` messages have arrived.
async fn replayed(client: &mut ChatClient, count: usize) -> Vec<ChatMessage> {
    let mut messages = Vec::new();
    while messages.len() < count {
        messages.extend(client.next_as::<Vec<ChatMessage>>(HISTORY).await);
    }
    messages
}

fn texts(messages: &[ChatMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.text.as_str()).collect()
}

#[tokio::test]
async fn a_reconnecting_client_gets_what_it_missed_in_order() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut ana = ChatClient::connect(&server, Transport::Websocket).await;
    ana.send("antes").await;
    let seen = ana.next_message().await.meta.id;

    // Ana drops; Beto keeps talking.
    ana.socket.disconnect().await.unwrap();
    let beto = ChatClient::connect(&server, Transport::Polling).await;
    for n in 1..=3 {
        assert!(beto
            .send(&format!("mientras tanto {n}"))
            .await
            .is_accepted());
    }

    let mut ana = ChatClient::connect_as(&server, Transport::Websocket, resuming_from(seen)).await;
    let missed = replayed(&mut ana, 3).await;
    assert_eq!(
        texts(&missed),
        ["mientras tanto 1", "mientras tanto 2", "mientras tanto 3"]
    );
    assert!(missed.windows(2).all(|w| w[0].meta.id < w[1].meta.id));
    ana.assert_no(HISTORY).await;

    // A client that sends no offset (the seed's) gets no replay.
    let mut seed = ChatClient::connect(&server, Transport::Websocket).await;
    seed.assert_no(HISTORY).await;
    server.stop().await;
}

#[tokio::test]
async fn history_survives_a_server_restart() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let ana = ChatClient::connect(&server, Transport::Websocket).await;
    let mut ids = Vec::new();
    for n in 1..=3 {
        let Ack::Accepted { id: Some(id), .. } = ana.send(&format!("guardado {n}")).await else {
            panic!("stored");
        };
        ids.push(id);
    }
    server.stop().await;

    let server = TestServer::start(&history).await;
    let mut ana =
        ChatClient::connect_as(&server, Transport::Websocket, resuming_from(ids[0])).await;
    let missed = replayed(&mut ana, 2).await;
    assert_eq!(texts(&missed), ["guardado 2", "guardado 3"]);
    let Ack::Accepted { id: Some(next), .. } = ana.send("después").await else {
        panic!("stored");
    };
    assert!(next > ids[2], "offsets keep growing across restarts");
    server.stop().await;
}

#[tokio::test]
async fn a_long_absence_is_replayed_in_batches() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let writer = ChatClient::connect(&server, Transport::Websocket).await;
    // Bursts stay under the per-sender queue (a flood is refused); each ends with an ack'd one.
    for n in 0..1_200 {
        let text = format!("m{n}");
        if n % 200 == 199 {
            assert!(writer.send(&text).await.is_accepted());
        } else {
            writer.socket.emit(NEW_MESSAGE, json!(text)).await.unwrap();
        }
    }
    assert!(writer.send("último").await.is_accepted());

    // Over websocket: rust_socketio's long-polling loses some of the large `history` payloads
    // (the official client gets them all over polling; see end2end/tests/interop.spec.ts).
    let mut reader = ChatClient::connect_as(&server, Transport::Websocket, resuming_from(0)).await;
    let missed = replayed(&mut reader, 1_201).await;
    assert_eq!(missed.len(), 1_201);
    assert_eq!(missed[0].text, "m0");
    assert_eq!(missed[1_199].text, "m1199");
    assert_eq!(missed[1_200].text, "último");
    server.stop().await;
}

#[tokio::test]
async fn a_resent_message_is_stored_once_and_acknowledged_and_relayed_with_its_first_id() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut ana = ChatClient::connect(&server, Transport::Websocket).await;
    let mut beto = ChatClient::connect(&server, Transport::Websocket).await;
    let with_offset = || {
        Payload::Text(vec![
            json!("una sola vez"),
            json!({"clientOffset": "ana-1"}),
        ])
    };

    let first = ana.send_raw(with_offset()).await;
    let again = ana.send_raw(with_offset()).await;
    assert!(first.is_accepted());
    assert_eq!(first, again, "the resend is acknowledged with the same id");

    let relayed = beto.next_message().await;
    assert_eq!(relayed.text, "una sola vez");
    assert_eq!(relayed.meta.user, "Anónimo");
    assert_eq!(relayed.meta.person, ana.credentials.person);
    // Relayed again, the same message: a client keeping messages by id shows it once.
    assert_eq!(beto.next_message().await, relayed);
    beto.assert_no(NEW_MESSAGE).await;
    // The sender's own copies carry its key, so that its page can match them.
    for _ in 0..2 {
        let own = ana.next_message().await;
        assert_eq!(own.meta.id, relayed.meta.id);
        assert_eq!(own.meta.client_offset.as_deref(), Some("ana-1"));
    }

    let mut later = ChatClient::connect_as(&server, Transport::Websocket, resuming_from(0)).await;
    assert_eq!(texts(&replayed(&mut later, 1).await), ["una sola vez"]);
    later.assert_no(HISTORY).await;
    server.stop().await;
}
