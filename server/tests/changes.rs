//! Editing and deleting one's own messages (docs/protocol.md, "Editing and deleting"): only the
//! author, as the server knows them, changes a message; the room sees every change once it is
//! stored; a resend never undoes a later change; and a client that was away is brought to the
//! same view as one that stayed.

mod support;

use protocol::{
    Ack, Handshake, MessageChange, Rejection, DELETE_MESSAGE, EDIT_MESSAGE, HISTORY,
    MESSAGE_CHANGED,
};
use rust_socketio::Payload;
use serde_json::{json, Value};
use support::{slow_reader::history_page, ChatClient, TestServer, Transport};

async fn sent(client: &ChatClient, text: &str) -> i64 {
    let ack = client.send(text).await;
    let Ack::Accepted { id: Some(id), .. } = ack else {
        panic!("{text}: {ack:?}");
    };
    id
}

/// Asks for `event` with `request` and returns the acknowledgement.
async fn ask_change(client: &ChatClient, event: &str, request: Value) -> Ack {
    let reply = client.request(event, Payload::Text(vec![request])).await;
    serde_json::from_value(reply.clone()).unwrap_or_else(|e| panic!("ack {reply}: {e}"))
}

fn refused(ack: &Ack) -> Option<Rejection> {
    match ack {
        Ack::Rejected { error, .. } => Some(*error),
        Ack::Accepted { .. } => None,
    }
}

fn revision(ack: &Ack) -> i64 {
    match ack {
        Ack::Accepted { id: Some(id), .. } => *id,
        other => panic!("not stored: {other:?}"),
    }
}

#[tokio::test]
async fn an_author_edits_then_deletes_and_the_whole_room_sees_it() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut ana = ChatClient::connect(&server, Transport::Websocket).await;
    let mut beto = ChatClient::connect(&server, Transport::Polling).await;
    let id = sent(&ana, "hola, mundp").await;
    assert_eq!(beto.next_text().await, "hola, mundp");

    let edited = ask_change(
        &ana,
        EDIT_MESSAGE,
        json!({"id": id, "text": "hola, mundo\r\n", "clientOffset": "e-1"}),
    )
    .await;
    let edited = revision(&edited);
    assert!(edited > id, "a change takes the next offset");
    for client in [&mut ana, &mut beto] {
        let change: MessageChange = client.next_as(MESSAGE_CHANGED).await;
        assert_eq!(
            (change.id, change.revision, change.text.as_deref()),
            (id, edited, Some("hola, mundo\n"))
        );
        assert!(change.edited_at.is_some() && !change.deleted);
    }
    let page = history_page(&server, None).await;
    assert_eq!(page.messages.len(), 1, "a change is no message of its own");
    let shown = &page.messages[0];
    assert_eq!(shown.text, "hola, mundo\n");
    assert_eq!(shown.meta.revision, Some(edited));
    assert!(shown.meta.edited_at.is_some());
    assert!(page.offset >= edited, "the resume offset covers the change");

    let deleted = revision(&ask_change(&ana, DELETE_MESSAGE, json!({"id": id})).await);
    let change: MessageChange = beto.next_as(MESSAGE_CHANGED).await;
    assert_eq!((change.id, change.revision), (id, deleted));
    assert!(change.deleted && change.text.is_none() && change.edited_at.is_none());
    let page = history_page(&server, None).await;
    let shown = &page.messages[0];
    assert!(shown.meta.deleted);
    assert_eq!(shown.text, "", "a deleted message's text is gone");

    // Gone for good: neither edited nor deleted again.
    let again = ask_change(&ana, EDIT_MESSAGE, json!({"id": id, "text": "¿vuelvo?"})).await;
    assert_eq!(refused(&again), Some(Rejection::NotFound));
    let again = ask_change(&ana, DELETE_MESSAGE, json!({"id": id})).await;
    assert_eq!(refused(&again), Some(Rejection::NotFound));
    beto.assert_no(MESSAGE_CHANGED).await;
    server.stop().await;
}

#[tokio::test]
async fn nobody_changes_somebody_elses_message_whatever_they_claim() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let ana = ChatClient::connect(&server, Transport::Websocket).await;
    let mut beto = ChatClient::connect(&server, Transport::Websocket).await;
    let id = sent(&ana, "de Ana").await;
    beto.next_text().await;
    let person = ana.credentials.person.clone();

    for (event, request) in [
        (EDIT_MESSAGE, json!({"id": id, "text": "de Beto"})),
        // What the client says about the author is not looked at.
        (
            EDIT_MESSAGE,
            json!({"id": id, "text": "de Beto", "person": person, "user": "Ana"}),
        ),
        (DELETE_MESSAGE, json!({"id": id, "person": person})),
    ] {
        let ack = ask_change(&beto, event, request.clone()).await;
        assert_eq!(refused(&ack), Some(Rejection::NotYours), "{request}");
    }
    // From another room, the message is not there at all.
    let elsewhere = ChatClient::connect_as(
        &server,
        Transport::Websocket,
        Handshake {
            room: Some("otra".into()),
            ..beto.same_person(Handshake::default())
        },
    )
    .await;
    let ack = ask_change(&elsewhere, DELETE_MESSAGE, json!({"id": id})).await;
    assert_eq!(refused(&ack), Some(Rejection::NotFound));
    // Nor is a message that does not exist, nor one before the first.
    let ack = ask_change(&beto, DELETE_MESSAGE, json!({"id": id + 1000})).await;
    assert_eq!(refused(&ack), Some(Rejection::NotFound));

    // Malformed requests are refused and cost nobody anything.
    for (request, reason) in [
        (json!({"id": 0, "text": "x"}), Rejection::BadMeta),
        (json!({"id": "1", "text": "x"}), Rejection::BadMeta),
        (json!({"id": id, "text": 7}), Rejection::BadMeta),
        (json!({"text": "x"}), Rejection::BadMeta),
        (json!("x"), Rejection::BadMeta),
        (json!({"id": id, "text": "   "}), Rejection::Empty),
        (
            json!({"id": id, "text": "x".repeat(2_001)}),
            Rejection::TooLong,
        ),
        (
            json!({"id": id, "text": "a\u{202E}b"}),
            Rejection::BadCharacters,
        ),
        (
            json!({"id": id, "text": "x", "clientOffset": " "}),
            Rejection::BadMeta,
        ),
    ] {
        let ack = ask_change(&ana, EDIT_MESSAGE, request.clone()).await;
        assert_eq!(refused(&ack), Some(reason), "{request}");
    }
    beto.assert_no(MESSAGE_CHANGED).await;
    let page = history_page(&server, None).await;
    assert_eq!(page.messages[0].text, "de Ana");
    assert_eq!(page.messages[0].meta.revision, None);
    server.stop().await;
}

#[tokio::test]
async fn a_resent_change_is_stored_once_and_never_undoes_a_later_one() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let ana = ChatClient::connect(&server, Transport::Websocket).await;
    let mut beto = ChatClient::connect(&server, Transport::Websocket).await;
    let id = sent(&ana, "uno").await;
    beto.next_text().await;
    let first = json!({"id": id, "text": "dos", "clientOffset": "e-1"});
    let first_revision = revision(&ask_change(&ana, EDIT_MESSAGE, first.clone()).await);
    let second_revision = revision(
        &ask_change(
            &ana,
            EDIT_MESSAGE,
            json!({"id": id, "text": "tres", "clientOffset": "e-2"}),
        )
        .await,
    );
    for _ in 0..2 {
        beto.next(MESSAGE_CHANGED).await;
    }

    // The first edit's ack was lost, say: its resend is acknowledged as before, and relays the
    // message as it is now.
    let again = ask_change(&ana, EDIT_MESSAGE, first).await;
    assert_eq!(revision(&again), first_revision);
    let relayed: MessageChange = beto.next_as(MESSAGE_CHANGED).await;
    assert_eq!(
        (relayed.revision, relayed.text.as_deref()),
        (second_revision, Some("tres"))
    );
    let page = history_page(&server, None).await;
    assert_eq!(page.messages[0].text, "tres");

    // A key names one thing: not a deletion when it named an edit, not another message's
    // change, not a message.
    let as_deletion = ask_change(
        &ana,
        DELETE_MESSAGE,
        json!({"id": id, "clientOffset": "e-1"}),
    )
    .await;
    assert_eq!(refused(&as_deletion), Some(Rejection::BadMeta));
    let reused = ask_change(
        &ana,
        EDIT_MESSAGE,
        json!({"id": sent(&ana, "otro").await, "text": "x", "clientOffset": "e-1"}),
    )
    .await;
    assert_eq!(refused(&reused), Some(Rejection::BadMeta));
    let as_message = ana
        .send_raw(Payload::Text(vec![
            json!("mensaje"),
            json!({"clientOffset": "e-2"}),
        ]))
        .await;
    assert_eq!(refused(&as_message), Some(Rejection::BadMeta));
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_was_away_is_brought_to_the_view_of_one_that_stayed() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let ana = ChatClient::connect(&server, Transport::Websocket).await;
    let (kept, gone) = (sent(&ana, "me quedo").await, sent(&ana, "me voy").await);
    let untouched = sent(&ana, "sin cambios").await;
    // Beto had everything so far, then left.
    let offset = untouched;

    let edited = revision(
        &ask_change(
            &ana,
            EDIT_MESSAGE,
            json!({"id": kept, "text": "me quedo, editado"}),
        )
        .await,
    );
    let deleted = revision(&ask_change(&ana, DELETE_MESSAGE, json!({"id": gone})).await);
    let newer = sent(&ana, "nuevo").await;
    let relaid = revision(
        &ask_change(
            &ana,
            EDIT_MESSAGE,
            json!({"id": newer, "text": "nuevo, editado"}),
        )
        .await,
    );

    for transport in [Transport::Websocket, Transport::Polling] {
        let mut beto = ChatClient::connect_as(
            &server,
            transport,
            Handshake {
                offset: Some(offset),
                ..Handshake::default()
            },
        )
        .await;
        // What came after the offset, as it is now...
        let replayed: Vec<protocol::ChatMessage> = beto.next_as(HISTORY).await;
        assert_eq!(replayed.len(), 1);
        assert_eq!(
            (replayed[0].meta.id, replayed[0].text.as_str()),
            (newer, "nuevo, editado")
        );
        assert_eq!(replayed[0].meta.revision, Some(relaid));
        // ...and the changes to what it holds, oldest first; nothing about the untouched one.
        let first: MessageChange = beto.next_as(MESSAGE_CHANGED).await;
        let second: MessageChange = beto.next_as(MESSAGE_CHANGED).await;
        assert_eq!((first.id, first.revision), (kept, edited));
        assert_eq!(first.text.as_deref(), Some("me quedo, editado"));
        assert_eq!(
            (second.id, second.revision, second.deleted),
            (gone, deleted, true)
        );
        beto.assert_no(MESSAGE_CHANGED).await;
    }

    // Resuming from the newest offset, there is nothing to catch up on.
    let mut current = ChatClient::connect_as(
        &server,
        Transport::Websocket,
        Handshake {
            offset: Some(relaid),
            ..Handshake::default()
        },
    )
    .await;
    current.assert_no(MESSAGE_CHANGED).await;
    server.stop().await;
}

#[tokio::test]
async fn changes_to_too_many_held_messages_make_the_client_read_them_again() {
    let history = support::history();
    let server = TestServer::start_unlimited(support::config_on(&history)).await;
    let ana = ChatClient::connect(&server, Transport::Websocket).await;
    let mut ids = Vec::new();
    for n in 0..=protocol::REPLAY_MAX_CHANGES {
        ids.push(sent(&ana, &format!("m{n}")).await);
    }
    let offset = *ids.last().unwrap();
    for id in &ids {
        let ack = ask_change(&ana, EDIT_MESSAGE, json!({"id": id, "text": "editado"})).await;
        revision(&ack);
    }
    let mut away = ChatClient::connect_as(
        &server,
        Transport::Websocket,
        Handshake {
            offset: Some(offset),
            ..Handshake::default()
        },
    )
    .await;
    // Not 201 changes: the word to read what it holds again, which the pages bring as it is.
    let skipped: protocol::Skipped = away.next_as(protocol::HISTORY_SKIPPED).await;
    assert_eq!((skipped.after, skipped.before), (offset, offset + 1));
    away.assert_no(MESSAGE_CHANGED).await;
    let page = history_page(&server, None).await;
    assert!(page.messages.iter().all(|m| m.text == "editado"));
    server.stop().await;
}
