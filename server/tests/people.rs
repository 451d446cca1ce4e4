//! Names, presence, typing and rooms.

mod support;

use std::{collections::HashMap, net::IpAddr};

use protocol::{
    Handshake, HandshakeError, Presence, RoomSummary, UserEvent, PRESENCE, PRESENCE_NAMES, ROOMS,
    STOP_TYPING, TYPING, USER_JOINED, USER_LEFT,
};
use rust_socketio::Payload;
use support::{raw::RawClient, ChatClient, TestServer, Transport};

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

/// A server that takes a client's address from `X-Forwarded-For`, as behind nginx, so that
/// clients on loopback can come from many addresses.
async fn behind_a_proxy(history: &tempfile::TempDir) -> TestServer {
    let mut config = support::config_on(history);
    config.trust_forwarded_for = true;
    TestServer::start_unlimited(config).await
}

/// The `n`th of many addresses.
fn address(n: usize) -> IpAddr {
    IpAddr::from([10, 1, (n / 256) as u8, (n % 256) as u8])
}

/// Connects as somebody new called `name` in `general`, from `from`.
async fn enter_from(server: &TestServer, from: IpAddr, name: &str) -> ChatClient {
    ChatClient::connect_from(server, from, person(name, None, "general")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowded_room_names_the_first_hundred_and_stops_announcing() {
    let history = support::history();
    let server = behind_a_proxy(&history).await;
    // A crowd is many people from many addresses.
    let mut first = enter_from(&server, address(0), "P000").await;
    let mut crowd = Vec::new();
    for n in 1..=PRESENCE_NAMES {
        let mut person = enter_from(&server, address(n), &format!("P{n:03}")).await;
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

    let mut newcomer = enter_from(&server, address(PRESENCE_NAMES + 1), "Zoe").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_with_a_hundred_identities_neither_silences_a_room_nor_hides_its_people() {
    let history = support::history();
    let server = behind_a_proxy(&history).await;
    let mut ana = enter_from(&server, address(1), "Ana").await;
    ana.next_as::<Presence>(PRESENCE).await;
    // Fresh identities cost nothing: one machine takes more than a presence list holds, under
    // names that sort before everybody else's.
    let mut bots = Vec::new();
    for n in 0..=PRESENCE_NAMES {
        let mut bot = enter_from(&server, address(666), &format!("Aaa{n:03}")).await;
        bot.next_as::<Presence>(PRESENCE).await;
        bots.push(bot);
    }

    let mut beto = enter_from(&server, address(2), "Beto").await;
    let presence: Presence = beto.next_as(PRESENCE).await;
    assert_eq!(presence.online, PRESENCE_NAMES + 3, "everyone is counted");
    assert_eq!(presence.users.len(), PRESENCE_NAMES);
    let listed = names(&presence);
    assert!(
        listed.contains(&"Ana") && listed.contains(&"Beto"),
        "the people of other addresses are named: {listed:?}"
    );
    // Ana still hears who comes and goes (the bots' arrivals too: one address's handshake rate
    // bounds them).
    let arrival = loop {
        let notice: UserEvent = ana.next_as(USER_JOINED).await;
        if !notice.user.starts_with("Aaa") {
            break notice;
        }
    };
    assert_eq!(arrival, notice(&beto, "Beto", "general"));
    let departed = notice(&beto, "Beto", "general");
    beto.socket.disconnect().await.unwrap();
    assert_eq!(ana.next_as::<UserEvent>(USER_LEFT).await, departed);
    drop(bots);
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

/// Clients that close their connection as soon as they ask to join, before the server has
/// welcomed them, leave nobody behind: the room hears of each one's arrival and departure, in
/// that order, or of neither, and a newcomer finds only the people who are there. (socketioxide
/// runs the connect handler in a task of its own, which may start after the connection closed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gone_as_it_joins_leaves_no_ghost() {
    const GONE: usize = 60;
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut ana = enter(&server, Transport::Websocket, "Ana", "general").await;
    ana.next_as::<Presence>(PRESENCE).await;
    for _ in 0..GONE {
        let mut gone = RawClient::open(server.addr, None).await;
        gone.send(r#"40{"name":"Fantasma","room":"general"}"#).await;
        // Dropped: the connection closes without waiting for any answer.
    }
    server.wait_for_clients(1).await;

    let mut beto = enter(&server, Transport::Websocket, "Beto", "general").await;
    let presence: Presence = beto.next_as(PRESENCE).await;
    assert_eq!(
        (names(&presence), presence.online),
        (vec!["Ana", "Beto"], 2)
    );
    // Everything the room heard of them came before Beto's arrival.
    let mut heard: HashMap<String, Vec<String>> = HashMap::new();
    loop {
        let received = ana.next_any().await;
        if ![USER_JOINED, USER_LEFT].contains(&received.event.as_str()) {
            continue;
        }
        let notice: UserEvent = serde_json::from_value(received.args[0].clone()).unwrap();
        if notice.user == "Beto" {
            break;
        }
        heard.entry(notice.person).or_default().push(received.event);
    }
    for (person, events) in &heard {
        assert_eq!(
            events,
            &[USER_JOINED, USER_LEFT],
            "what the room heard of {person}"
        );
    }
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
