//! Names, presence, typing and rooms.

mod support;

use protocol::{
    Handshake, HandshakeError, Presence, RoomSummary, UserEvent, PRESENCE, PRESENCE_NAMES, ROOMS,
    STOP_TYPING, TYPING, USER_JOINED, USER_LEFT,
};
use rust_socketio::Payload;
use support::{ChatClient, TestServer, Transport};

fn person(name: &str, token: Option<&str>, room: &str) -> Handshake {
    Handshake {
        name: Some(name.into()),
        token: token.map(Into::into),
        room: Some(room.into()),
        offset: None,
    }
}

/// Connects as somebody new called `name` in `room`.
async fn enter(server: &TestServer, transport: Transport, name: &str, room: &str) -> ChatClient {
    ChatClient::connect_as(server, transport, person(name, None, room)).await
}

/// What the room hears of `client`'s person, named `user`, in `room`.
fn notice(client: &ChatClient, user: &str, room: &str) -> UserEvent {
    UserEvent {
        user: user.into(),
        person: client.credentials.person.clone(),
        room: room.into(),
    }
}

fn names(presence: &Presence) -> Vec<&str> {
    presence.users.iter().map(|m| m.name.as_str()).collect()
}

#[tokio::test]
async fn messages_carry_the_senders_name() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut ana = enter(&server, Transport::Websocket, "Ana", "general").await;
    assert!(ana.send("hola").await.is_accepted());
    let message = ana.next_message().await;
    assert_eq!(message.meta.user, "Ana");
    assert_eq!(message.meta.room, "general");
    server.stop().await;
}

#[tokio::test]
async fn bad_names_and_rooms_are_refused_at_the_handshake() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    for (auth, error) in [
        (person("", None, "general"), HandshakeError::BadName),
        (
            person(&"x".repeat(33), None, "general"),
            HandshakeError::BadName,
        ),
        (person("a\u{1}b", None, "general"), HandshakeError::BadName),
        (
            person("\u{202E}anA", None, "general"),
            HandshakeError::BadName,
        ),
        (person("Ana", None, "Sala Mayor"), HandshakeError::BadRoom),
        (person("Ana", None, "../etc"), HandshakeError::BadRoom),
        (
            person("Ana", Some("no valid"), "general"),
            HandshakeError::BadToken,
        ),
    ] {
        let refused = ChatClient::try_connect(&server, Transport::Websocket, auth.clone())
            .await
            .err()
            .unwrap_or_else(|| panic!("{auth:?} admitted"));
        assert!(
            refused.contains(&error.to_string()),
            "{refused} for {auth:?}"
        );
    }
    server.wait_for_clients(0).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowded_room_names_the_first_hundred_and_stops_announcing() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut first = enter(&server, Transport::Websocket, "P000", "general").await;
    let mut crowd = Vec::new();
    for n in 1..=PRESENCE_NAMES {
        let mut person = enter(
            &server,
            Transport::Websocket,
            &format!("P{n:03}"),
            "general",
        )
        .await;
        // An arrival's presence list comes after its announcement: waiting for it admits the
        // crowd one by one, so which arrival tipped the room over is not a race.
        person.next_as::<Presence>(PRESENCE).await;
        crowd.push(person);
    }
    // Arrivals are announced while the room has at most PRESENCE_NAMES people: to the first
    // person, PRESENCE_NAMES - 1 of them, in order; the one after is not.
    for n in 1..PRESENCE_NAMES {
        assert_eq!(
            first.next_as::<UserEvent>(USER_JOINED).await.user,
            format!("P{n:03}")
        );
    }
    first.assert_no(USER_JOINED).await;

    let mut newcomer = enter(&server, Transport::Websocket, "Zoe", "general").await;
    let presence: Presence = newcomer.next_as(PRESENCE).await;
    assert_eq!(presence.users.len(), PRESENCE_NAMES);
    assert_eq!(presence.online, PRESENCE_NAMES + 2);
    assert_eq!(
        presence.users[0].name, "P000",
        "the first names in reading order"
    );

    // Leaving a crowded room is not announced either.
    crowd.pop().unwrap().socket.disconnect().await.unwrap();
    first.assert_no(USER_LEFT).await;
    server.stop().await;
}

#[tokio::test]
async fn presence_counts_a_person_once_however_many_tabs() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut beto = enter(&server, Transport::Websocket, "Beto", "general").await;
    let alone: Presence = beto.next_as(PRESENCE).await;
    assert_eq!(
        (alone.room.as_str(), names(&alone), alone.online),
        ("general", vec!["Beto"], 1)
    );
    assert_eq!(alone.users[0].person, beto.credentials.person);

    let mut ana_tab1 = enter(&server, Transport::Websocket, "Ana", "general").await;
    assert_eq!(
        beto.next_as::<UserEvent>(USER_JOINED).await,
        notice(&ana_tab1, "Ana", "general")
    );
    assert_eq!(
        names(&ana_tab1.next_as::<Presence>(PRESENCE).await),
        ["Ana", "Beto"]
    );

    // A second tab of Ana's (her token): nobody hears of it, and she still counts once.
    let second_tab = ana_tab1.same_person(person("Ana", None, "general"));
    let mut ana_tab2 = ChatClient::connect_as(&server, Transport::Polling, second_tab).await;
    assert_eq!(ana_tab2.credentials, ana_tab1.credentials);
    assert_eq!(
        names(&ana_tab2.next_as::<Presence>(PRESENCE).await),
        ["Ana", "Beto"]
    );
    beto.assert_no(USER_JOINED).await;

    ana_tab1.socket.disconnect().await.unwrap();
    beto.assert_no(USER_LEFT).await;
    ana_tab2.socket.disconnect().await.unwrap();
    assert_eq!(
        beto.next_as::<UserEvent>(USER_LEFT).await,
        notice(&ana_tab1, "Ana", "general")
    );
    server.stop().await;
}

#[tokio::test]
async fn typing_reaches_the_rest_of_the_room_only() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut ana = enter(&server, Transport::Websocket, "Ana", "general").await;
    let mut beto = enter(&server, Transport::Websocket, "Beto", "general").await;
    let mut other = enter(&server, Transport::Websocket, "Caro", "rust").await;

    ana.socket
        .emit(TYPING, Payload::Text(vec![]))
        .await
        .unwrap();
    assert_eq!(
        beto.next_as::<UserEvent>(TYPING).await,
        notice(&ana, "Ana", "general")
    );
    ana.socket
        .emit(STOP_TYPING, Payload::Text(vec![]))
        .await
        .unwrap();
    assert_eq!(
        beto.next_as::<UserEvent>(STOP_TYPING).await,
        notice(&ana, "Ana", "general")
    );
    ana.assert_no(TYPING).await;
    other.assert_no(TYPING).await;
    server.stop().await;
}

#[tokio::test]
async fn rooms_are_isolated_and_listed() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut ana = enter(&server, Transport::Websocket, "Ana", "general").await;
    let mut beto = enter(&server, Transport::Websocket, "Beto", "rust").await;
    let caro = enter(&server, Transport::Polling, "Caro", "rust").await;

    assert!(beto.send("solo en rust").await.is_accepted());
    assert_eq!(beto.next_message().await.meta.room, "rust");
    ana.assert_no(protocol::NEW_MESSAGE).await;
    assert!(ana.send("solo en general").await.is_accepted());
    assert_eq!(ana.next_text().await, "solo en general");
    beto.assert_no(protocol::NEW_MESSAGE).await;

    let reply = caro.request(ROOMS, Payload::Text(vec![])).await;
    let rooms: Vec<RoomSummary> = serde_json::from_value(reply).unwrap();
    assert_eq!(
        rooms,
        [
            RoomSummary {
                name: "rust".into(),
                online: 2
            },
            RoomSummary {
                name: "general".into(),
                online: 1
            },
        ]
    );
    server.stop().await;
}
