//! Server-issued identities and the exactly-once keys that belong to them: nobody can take
//! another person's id, silence their message by taking its client offset first, or bring it
//! into another room by resending its key (docs/protocol.md, "Identity" and "Exactly once").

mod support;

use protocol::{Ack, ChatMessage, Handshake, HISTORY, NEW_MESSAGE};
use rust_socketio::Payload;
use serde_json::{json, Value};
use support::{ChatClient, TestServer, Transport};

fn in_room(room: &str) -> Handshake {
    Handshake {
        room: Some(room.into()),
        ..Handshake::default()
    }
}

/// Sends `text` under `client_offset` and returns the stored id.
async fn send_keyed(client: &ChatClient, text: &str, client_offset: &str) -> i64 {
    let ack = client
        .send_raw(Payload::Text(vec![
            json!(text),
            json!({ "clientOffset": client_offset }),
        ]))
        .await;
    let Ack::Accepted { id: Some(id), .. } = ack else {
        panic!("{text}: {ack:?}");
    };
    id
}

#[tokio::test]
async fn every_client_gets_an_identity_and_its_token_brings_the_same_person_back() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let ana = ChatClient::connect(&server, Transport::Websocket).await;
    let beto = ChatClient::connect(&server, Transport::Polling).await;
    let (person, token) = (&ana.credentials.person, &ana.credentials.token);
    assert!(!person.is_empty() && !token.is_empty());
    assert!(
        !token.contains(person.as_str()),
        "the public id gives nothing of the token away"
    );
    assert_ne!(
        beto.credentials.person, *person,
        "somebody else is somebody else"
    );

    let again = ChatClient::connect_as(
        &server,
        Transport::Websocket,
        ana.same_person(Handshake::default()),
    )
    .await;
    assert_eq!(again.credentials, ana.credentials);
    server.stop().await;
}

#[tokio::test]
async fn nobody_can_pass_for_another_person() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut ana = ChatClient::connect(&server, Transport::Websocket).await;
    let victim = ana.credentials.person.clone();

    // Her public id as a token, an altered token, and the old client-chosen `userId`: each is
    // somebody new, never Ana.
    let mut altered = ana.credentials.token.clone().into_bytes();
    altered[0] = if altered[0] == b'A' { b'B' } else { b'A' };
    let attempts = [
        json!({ "token": victim }),
        json!({ "token": String::from_utf8(altered).unwrap() }),
        json!({ "userId": victim }),
    ];
    for auth in attempts {
        let auth: Handshake = serde_json::from_value(auth).unwrap();
        let mallory = ChatClient::connect_as(&server, Transport::Websocket, auth.clone()).await;
        assert_ne!(mallory.credentials.person, victim, "{auth:?}");
        mallory.send("soy Ana").await;
        let relayed = ana.next_message().await;
        assert_eq!(relayed.text, "soy Ana");
        assert_ne!(
            relayed.meta.person, victim,
            "shown as somebody else's, not hers"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn taking_a_persons_next_client_offset_first_does_not_silence_them() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let ana = ChatClient::connect(&server, Transport::Websocket).await;
    let mallory = ChatClient::connect(&server, Transport::Websocket).await;
    let mut beto = ChatClient::connect(&server, Transport::Websocket).await;

    let squatted = send_keyed(&mallory, "texto falso", "k-7").await;
    let real = send_keyed(&ana, "lo que Ana dijo", "k-7").await;
    assert_ne!(real, squatted, "Ana's message is a message of its own");

    let first = beto.next_message().await;
    let second = beto.next_message().await;
    assert_eq!(
        (first.text.as_str(), &first.meta.person),
        ("texto falso", &mallory.credentials.person)
    );
    assert_eq!(
        (second.text.as_str(), &second.meta.person),
        ("lo que Ana dijo", &ana.credentials.person)
    );
    server.stop().await;
}

#[tokio::test]
async fn a_harvested_client_offset_brings_nothing_into_another_room() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let ana = ChatClient::connect(&server, Transport::Websocket).await;
    let mallory = ChatClient::connect_as(&server, Transport::Websocket, in_room("otra")).await;
    let mut reader = ChatClient::connect_as(&server, Transport::Websocket, in_room("otra")).await;
    let anas = send_keyed(&ana, "sólo para general", "k-1").await;

    // Mallory resends Ana's key into her own room: her own new message, never Ana's.
    let resent = send_keyed(&mallory, "otra cosa", "k-1").await;
    assert_ne!(resent, anas);
    let seen = reader.next_message().await;
    assert_eq!(seen.text, "otra cosa");
    assert_eq!(seen.meta.person, mallory.credentials.person);
    assert_eq!(seen.meta.room, "otra");
    reader.assert_no(NEW_MESSAGE).await;
    server.stop().await;
}

#[tokio::test]
async fn two_bots_counting_from_one_do_not_overwrite_each_other() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let uno = ChatClient::connect(&server, Transport::Websocket).await;
    let dos = ChatClient::connect(&server, Transport::Polling).await;
    let mut reader = ChatClient::connect(&server, Transport::Websocket).await;
    for n in 1..=3 {
        send_keyed(&uno, &format!("uno {n}"), &n.to_string()).await;
        send_keyed(&dos, &format!("dos {n}"), &n.to_string()).await;
    }
    // And a resend of a bot's own key is still a resend: relayed again with its first id, which
    // a client keeping messages by id shows once.
    let again = send_keyed(&uno, "uno 1", "1").await;
    let mut ids = std::collections::BTreeMap::new();
    for _ in 0..7 {
        let message = reader.next_message().await;
        ids.entry(message.meta.id).or_insert(message.text);
    }
    assert_eq!(ids.keys().next(), Some(&again));
    let texts: Vec<String> = ids.into_values().collect();
    assert_eq!(
        texts,
        ["uno 1", "dos 1", "uno 2", "dos 2", "uno 3", "dos 3"]
    );
    reader.assert_no(NEW_MESSAGE).await;
    server.stop().await;
}

#[tokio::test]
async fn a_client_offset_is_shown_to_its_author_only() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut ana = ChatClient::connect(&server, Transport::Websocket).await;
    let mut beto = ChatClient::connect(&server, Transport::Websocket).await;
    send_keyed(&ana, "mi clave es mía", "clave-secreta").await;

    assert_eq!(
        ana.next_message().await.meta.client_offset.as_deref(),
        Some("clave-secreta")
    );
    assert_eq!(beto.next_message().await.meta.client_offset, None);

    // Replayed: to Ana's person with her key, to anybody else without.
    let replay = |auth: Handshake| Handshake {
        offset: Some(0),
        ..auth
    };
    let mut ana_later = ChatClient::connect_as(
        &server,
        Transport::Websocket,
        replay(ana.same_person(Handshake::default())),
    )
    .await;
    let mut other =
        ChatClient::connect_as(&server, Transport::Websocket, replay(Handshake::default())).await;
    let mine: Vec<ChatMessage> = ana_later.next_as(HISTORY).await;
    let theirs: Vec<ChatMessage> = other.next_as(HISTORY).await;
    assert_eq!(mine[0].meta.client_offset.as_deref(), Some("clave-secreta"));
    assert_eq!(theirs[0].meta.client_offset, None);

    // The history pages (the page's server function) show nobody's.
    let page = reqwest::Client::new()
        .post(format!(
            "http://{}{}",
            server.addr,
            protocol::HISTORY_PAGE_PATH
        ))
        .form(&[("room", "general")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page: Value = serde_json::from_str(&page).unwrap();
    let listed = &page["messages"][0];
    assert_eq!(listed["text"], "mi clave es mía");
    assert_eq!(listed["person"], json!(ana.credentials.person));
    assert!(listed.get("clientOffset").is_none(), "{page}");
    server.stop().await;
}
