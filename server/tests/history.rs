//! Server delivery and client delivery: replay from an offset, and a resend stored once.

mod support;

use protocol::{
    Ack, ChatMessage, Handshake, Skipped, UserEvent, HISTORY, HISTORY_PAGE, HISTORY_SKIPPED,
    NEW_MESSAGE, REPLAY_MAX_BYTES, REPLAY_MAX_MESSAGES, USER_JOINED, USER_LEFT,
};
use rust_socketio::Payload;
use serde_json::json;
use support::{
    raw::RawClient,
    slow_reader::{fill, history_page},
    ChatClient, TestServer, Transport,
};

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

/// Sends `count` messages `text(n)` from `writer`, in bursts that stay under the per-sender queue
/// (a flood is refused), each ending with an acknowledged one; returns the last one's id.
#[tokio::test]
async fn a_long_absence_replays_the_newest_and_says_what_it_left_out() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let writer = ChatClient::connect(&server, Transport::Websocket).await;
    fill(&writer, 1_200, |n| format!("m{n}")).await;

    // Over websocket: rust_socketio's long-polling loses some of the large `history` payloads
    // (the official client gets them all over polling; see end2end/tests/interop.spec.ts).
    let mut reader = ChatClient::connect_as(&server, Transport::Websocket, resuming_from(0)).await;
    let skipped: Skipped = reader.next_as(HISTORY_SKIPPED).await;
    let replay = replayed(&mut reader, REPLAY_MAX_MESSAGES).await;
    reader.assert_no(HISTORY).await;
    assert_eq!(replay.len(), REPLAY_MAX_MESSAGES);
    assert_eq!(replay[0].text, "m1000", "the newest {REPLAY_MAX_MESSAGES}");
    assert_eq!(replay.last().unwrap().text, "m1199");
    assert_eq!(
        skipped,
        Skipped {
            after: 0,
            before: replay[0].meta.id
        }
    );
    // What was left out is in the history pages, for the client to read at its own pace.
    let page = history_page(&server, Some(skipped.before)).await;
    assert_eq!(page.messages.len(), HISTORY_PAGE);
    assert_eq!(page.messages.last().unwrap().text, "m999");

    // Close enough to be whole: no gap, no notice.
    let mut near = ChatClient::connect_as(
        &server,
        Transport::Websocket,
        resuming_from(replay[REPLAY_MAX_MESSAGES - 10].meta.id),
    )
    .await;
    let tail = replayed(&mut near, 9).await;
    assert_eq!(tail.last().unwrap().text, "m1199");
    near.assert_no(HISTORY_SKIPPED).await;
    server.stop().await;
}

#[tokio::test]
async fn a_replay_stops_at_its_size_in_bytes() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let writer = ChatClient::connect(&server, Transport::Websocket).await;
    let long = |n: usize| format!("{n:04}{}", "x".repeat(1_996));
    fill(&writer, 300, long).await;

    let mut reader = ChatClient::connect_as(&server, Transport::Websocket, resuming_from(0)).await;
    let skipped: Skipped = reader.next_as(HISTORY_SKIPPED).await;
    let mut replay = Vec::new();
    while replay
        .last()
        .is_none_or(|m: &ChatMessage| m.text != long(299))
    {
        replay.extend(reader.next_as::<Vec<ChatMessage>>(HISTORY).await);
    }
    reader.assert_no(HISTORY).await;
    let bytes: usize = replay
        .iter()
        .map(|m| serde_json::to_vec(m).unwrap().len())
        .sum();
    assert!(bytes <= REPLAY_MAX_BYTES, "{bytes} bytes replayed");
    assert!(replay.len() < 300 && replay.len() > 100, "{}", replay.len());
    assert_eq!(skipped.before, replay[0].meta.id);
    server.stop().await;
}

/// A page of the room's history through the page's server function.

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
    ana.assert_no(NEW_MESSAGE).await;

    let mut later = ChatClient::connect_as(&server, Transport::Websocket, resuming_from(0)).await;
    assert_eq!(texts(&replayed(&mut later, 1).await), ["una sola vez"]);
    later.assert_no(HISTORY).await;
    server.stop().await;
}

#[tokio::test]
async fn a_reader_that_stops_reading_during_a_burst_ends_with_every_message_once_in_order() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    support::slow_reader::stops_reading_during_a_burst(&server, &server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_reader_that_never_reads_again_leaves_and_frees_its_place() {
    let history = support::history();
    let mut config = support::config_on(&history);
    config.stalled_reader_seconds = 2.0;
    let server = TestServer::start_unlimited(config).await;
    let mut writer = ChatClient::connect(&server, Transport::Websocket).await;
    let mut reader = RawClient::open(server.addr, Some(4096)).await;
    assert!(reader.join("{}").await.starts_with("40"));
    writer.next_as::<UserEvent>(USER_JOINED).await;
    // More than its buffers hold, and it never reads again: its connection's writer is stuck
    // on a shut receive window until the kernel gives up on it.
    fill(&writer, 6_000, |n| format!("{n:05} {}", "x".repeat(1_000))).await;
    writer.next_as::<UserEvent>(USER_LEFT).await;
    server.wait_for_clients(1).await;
    drop(reader);
    server.stop().await;
}
