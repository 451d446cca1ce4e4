//! Flood control on every path a client can reach: a connection over its rate is refused with
//! `too_fast`, then cut off if it goes on, and its address may not connect again for a while; an
//! address holds a bounded number of connections and opens them at a bounded rate; typing, room
//! lists, history pages and form posts have limits of their own; everyone else is served
//! meanwhile.

mod support;

use protocol::{
    Ack, Handshake, HandshakeError, Rejection, NEW_MESSAGE, ROOMS, TYPING, USER_JOINED,
};
use rust_socketio::Payload;
use serde_json::json;
use support::{config_on, raw::RawClient, Address, ChatClient, TestServer, Transport};

#[tokio::test]
async fn a_fast_sender_is_refused_then_cut_off_while_others_are_served() {
    let history = support::history();
    let mut config = config_on(&history);
    config.message_burst = 5;
    config.messages_per_second = 0.01;
    config.flood_disconnect_after = 10;
    config.flood_cooldown_seconds = 1.0;
    let server = TestServer::start_with(config).await;
    let flooder = ChatClient::connect(&server, Transport::Websocket).await;
    let mut reader = ChatClient::connect(&server, Transport::Polling).await;

    for n in 0..5 {
        assert!(flooder.send(&format!("ráfaga {n}")).await.is_accepted());
    }
    // Refused 1 to 9 are answered; the 10th costs the connection.
    for _ in 1..10 {
        assert_eq!(
            flooder.send("demasiado").await,
            Ack::rejected(Rejection::TooFast)
        );
    }
    // Another connection from the same address has a bucket of its own.
    assert!(reader.send("yo también").await.is_accepted());
    flooder
        .socket
        .emit(NEW_MESSAGE, Payload::Text(vec![json!("la gota")]))
        .await
        .unwrap();
    server.wait_for_clients(1).await;

    let mut texts = Vec::new();
    for _ in 0..6 {
        texts.push(reader.next_message().await.text);
    }
    assert_eq!(
        texts,
        [
            "ráfaga 0",
            "ráfaga 1",
            "ráfaga 2",
            "ráfaga 3",
            "ráfaga 4",
            "yo también"
        ],
        "only accepted messages are relayed"
    );
    reader.assert_no(NEW_MESSAGE).await;

    // The flooder's address may not connect again before its cool-down is over (its other
    // connection stays); then it may.
    let refused = ChatClient::try_connect(&server, Transport::Websocket, Handshake::default())
        .await
        .err()
        .expect("no new connection while the address cools down");
    assert!(
        refused.contains(&HandshakeError::CoolingDown.to_string()),
        "{refused}"
    );
    assert!(reader.send("sigo aquí").await.is_accepted());
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let back = ChatClient::connect(&server, Transport::Websocket).await;
    assert!(back.send("vuelvo con calma").await.is_accepted());
    server.stop().await;
}

#[tokio::test]
async fn an_address_holds_a_bounded_number_of_connections() {
    let history = support::history();
    let mut config = config_on(&history);
    config.max_connections_per_address = 2;
    let server = TestServer::start_with(config).await;
    let first = ChatClient::connect(&server, Transport::Websocket).await;
    let _second = ChatClient::connect(&server, Transport::Polling).await;
    let refused = ChatClient::try_connect(&server, Transport::Websocket, Handshake::default())
        .await
        .err()
        .expect("a third connection from the same address is refused");
    assert!(
        refused.contains(&HandshakeError::TooManyConnections.to_string()),
        "{refused}"
    );

    first.socket.disconnect().await.unwrap();
    server.wait_for_clients(1).await;
    let again = tokio::time::timeout(support::PATIENCE, async {
        loop {
            match ChatClient::try_connect(&server, Transport::Websocket, Handshake::default()).await
            {
                Ok(client) => return client,
                // The first connection's count is released as its socket goes.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    })
    .await;
    assert!(again.is_ok(), "a place freed by a departure is taken again");
    server.stop().await;
}

/// A server whose only limits are the ones `set` puts (the others off), history in `history`.
async fn limited(history: &tempfile::TempDir, set: impl FnOnce(&mut server::Config)) -> TestServer {
    let mut config = config_on(history);
    config.message_burst = 0;
    config.address_message_burst = 0;
    config.max_connections_per_address = 0;
    config.address_handshake_burst = 0;
    config.address_request_burst = 0;
    set(&mut config);
    TestServer::start_with(config).await
}

/// POSTs the no-JavaScript form: the status.
async fn post_form(server: &TestServer, text: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/api/enviar", server.url()))
        .form(&[("room", "general"), ("text", text)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn form_posts_take_the_addresss_message_bucket_and_cool_it_down() {
    let history = support::history();
    let server = limited(&history, |config| {
        config.address_message_burst = 5;
        config.address_messages_per_second = 0.01;
        config.flood_disconnect_after = 10;
        config.flood_cooldown_seconds = 60.0;
    })
    .await;
    let mut reader = ChatClient::connect(&server, Transport::Websocket).await;
    let mut statuses = Vec::new();
    for n in 0..300 {
        statuses.push(post_form(&server, &format!("post {n}")).await);
    }
    // Accepted: the form redirects back to the room.
    let accepted = statuses.iter().filter(|s| (200..400).contains(*s)).count();
    assert_eq!(accepted, 5, "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    for n in 0..5 {
        assert_eq!(reader.next_text().await, format!("post {n}"));
    }
    reader.assert_no(NEW_MESSAGE).await;
    // Ten refusals in a row cooled the address down: no new connection either.
    let refused = ChatClient::try_connect(&server, Transport::Websocket, Handshake::default())
        .await
        .err()
        .expect("the address cools down");
    assert!(
        refused.contains(&HandshakeError::CoolingDown.to_string()),
        "{refused}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_form_post_larger_than_any_message_is_refused_unread() {
    let history = support::history();
    let server = limited(&history, |_| {}).await;
    let huge = "x".repeat(64 * 1024);
    assert_eq!(post_form(&server, &huge).await, 413);
    assert!((200..400).contains(&post_form(&server, "cabe").await));
    server.stop().await;
}

#[tokio::test]
async fn typing_reaches_the_room_once_per_two_seconds_and_a_typing_flood_is_cut_off() {
    let history = support::history();
    let server = limited(&history, |config| config.message_burst = 20).await;
    let flooder = ChatClient::connect(&server, Transport::Websocket).await;
    let mut reader = ChatClient::connect(&server, Transport::Websocket).await;
    for _ in 0..2_000 {
        if flooder.socket.emit(TYPING, json!(null)).await.is_err() {
            break;
        }
    }
    server.wait_for_clients(1).await;
    let mut typings = 0;
    while let Ok(received) =
        tokio::time::timeout(std::time::Duration::from_millis(500), reader.next_any()).await
    {
        typings += usize::from(received.event == TYPING);
    }
    assert_eq!(typings, 1, "one typing went out; the flooder was cut off");
    // Its address cools down.
    let refused = ChatClient::try_connect(&server, Transport::Websocket, Handshake::default())
        .await
        .err()
        .expect("the address cools down");
    assert!(refused.contains(&HandshakeError::CoolingDown.to_string()));
    // Who was there is served all the same.
    assert!(reader.send("sigo aquí").await.is_accepted());
    server.stop().await;
}

#[tokio::test]
async fn handshakes_are_rate_limited_and_churning_cools_the_address_down() {
    let history = support::history();
    let server = limited(&history, |config| {
        config.address_handshake_burst = 5;
        config.address_handshakes_per_second = 0.01;
        config.flood_disconnect_after = 3;
        config.flood_cooldown_seconds = 60.0;
    })
    .await;
    let mut observer = ChatClient::connect(&server, Transport::Websocket).await;
    // Four more connect and leave: each a join and a leave for everyone in the room.
    for _ in 0..4 {
        let churner = ChatClient::connect(&server, Transport::Websocket).await;
        churner.socket.disconnect().await.unwrap();
    }
    let refusals = [
        HandshakeError::TooManyHandshakes,
        HandshakeError::TooManyHandshakes,
        HandshakeError::TooManyHandshakes,
        // Three refusals in a row: the address cools down.
        HandshakeError::CoolingDown,
    ];
    for expected in refusals {
        let refused = ChatClient::try_connect(&server, Transport::Websocket, Handshake::default())
            .await
            .err()
            .unwrap_or_else(|| panic!("admitted, {expected:?} expected"));
        assert!(refused.contains(&expected.to_string()), "{refused}");
    }
    let mut joins = 0;
    while let Ok(received) =
        tokio::time::timeout(std::time::Duration::from_millis(500), observer.next_any()).await
    {
        joins += usize::from(received.event == USER_JOINED);
    }
    assert_eq!(joins, 4, "only the admitted churners were announced");
    server.stop().await;
}

#[tokio::test]
async fn room_lists_and_history_pages_are_limited_per_address_and_answered_when_refused() {
    let history = support::history();
    let server = limited(&history, |config| {
        config.address_request_burst = 3;
        config.address_requests_per_second = 0.01;
    })
    .await;
    let client = ChatClient::connect(&server, Transport::Websocket).await;
    for _ in 0..2 {
        let rooms = client.request(ROOMS, Payload::Text(vec![])).await;
        assert!(rooms.is_array(), "{rooms}");
    }
    let page = reqwest::Client::new()
        .post(format!("{}{}", server.url(), protocol::HISTORY_PAGE_PATH))
        .form(&[("room", "general")]);
    assert_eq!(
        page.try_clone().unwrap().send().await.unwrap().status(),
        200
    );
    // The address's three reads are used up: the socket's request is answered with the reason
    // (a page waiting for it would wait forever), the page's with 429.
    let refused = client.request(ROOMS, Payload::Text(vec![])).await;
    assert_eq!(
        serde_json::from_value::<Ack>(refused).unwrap(),
        Ack::rejected(Rejection::TooFast)
    );
    assert_eq!(page.send().await.unwrap().status(), 429);
    server.stop().await;
}

#[tokio::test]
async fn room_pages_are_reads_limited_per_address_and_static_files_are_not() {
    let history = support::history();
    let server = limited(&history, |config| {
        config.address_request_burst = 3;
        config.address_requests_per_second = 0.01;
    })
    .await;
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let request = http.get(format!("{}{path}", server.url()));
        async move { request.send().await.unwrap() }
    };
    // Each room page reads its room's history: a reload loop is as costly as history pages.
    assert_eq!(get("/").await.status(), 200);
    assert_eq!(get("/sala/otra").await.status(), 200);
    let history_page = http
        .post(format!("{}{}", server.url(), protocol::HISTORY_PAGE_PATH))
        .form(&[("room", "general")]);
    assert_eq!(history_page.send().await.unwrap().status(), 200);
    let refused = get("/sala/general").await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(
        refused.text().await.unwrap(),
        Rejection::TooFast.to_string()
    );
    // A file of the site reads nothing and is not counted.
    assert_eq!(get("/no-such-file.css").await.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn bare_engine_sessions_count_against_their_address() {
    let history = support::history();
    let server = limited(&history, |config| config.max_connections_per_address = 3).await;
    // Three Engine.IO sessions that never join the namespace (the engine would keep each for
    // its connect timeout) and never leave.
    let mut bare = Vec::new();
    for _ in 0..3 {
        bare.push(RawClient::open(server.addr, None).await);
    }
    let refused = ChatClient::try_connect(&server, Transport::Websocket, Handshake::default())
        .await
        .err()
        .expect("the address's places are taken");
    assert!(
        refused.contains(&HandshakeError::TooManyConnections.to_string()),
        "{refused}"
    );
    // One goes: its place is free again.
    drop(bare.pop());
    let again = tokio::time::timeout(support::PATIENCE, async {
        loop {
            match ChatClient::try_connect(&server, Transport::Websocket, Handshake::default()).await
            {
                Ok(client) => return client,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    })
    .await;
    assert!(
        again.is_ok(),
        "a place freed by a closed session is taken again"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_session_that_leaves_the_namespace_is_closed() {
    let history = support::history();
    let server = limited(&history, |_| {}).await;
    let mut client = RawClient::open(server.addr, None).await;
    assert!(client.join("").await.starts_with("40"));
    client.send("41").await;
    assert!(
        client.is_closed_within(support::PATIENCE).await,
        "its Engine.IO session ends with it"
    );

    // A long-polling session that leaves: its next request is refused.
    let http = reqwest::Client::new();
    let engine = format!("{}/socket.io/?EIO=4&transport=polling", server.url());
    let open = http
        .get(&engine)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sid = serde_json::from_str::<serde_json::Value>(&open[1..]).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let session = format!("{engine}&sid={sid}");
    let post = |body: &'static str| http.post(&session).body(body).send();
    assert_eq!(post("40").await.unwrap().status(), 200);
    let joined = http
        .get(&session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Packets of a poll are separated by U+001E.
    assert!(
        joined.split('\u{1e}').any(|p| p.starts_with("40")),
        "{joined}"
    );
    assert_eq!(post("41").await.unwrap().status(), 200);
    let after = tokio::time::timeout(support::PATIENCE, async {
        loop {
            // A poll the session answers waits for something to send: not for long here.
            let poll = http
                .get(&session)
                .timeout(std::time::Duration::from_millis(500));
            if poll.send().await.is_ok_and(|answer| answer.status() == 400) {
                return;
            }
        }
    })
    .await;
    assert!(after.is_ok(), "its session refuses its requests");
    server.stop().await;
}
