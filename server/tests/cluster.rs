//! Several server processes sharing Redis (socketioxide's adapter) and PostgreSQL: what one node
//! relays, stores or knows about people, every node does. See `support::cluster` for what these
//! tests need; failover and a Redis restart are tested through nginx in `end2end/`.

mod support;

use std::collections::HashSet;

use futures_util::future::join_all;
use protocol::{
    ChatMessage, Handshake, MessageChange, Presence, RoomSummary, UserEvent, DELETE_MESSAGE,
    EDIT_MESSAGE, HISTORY, MESSAGE_CHANGED, PRESENCE, ROOMS, TYPING, USER_JOINED, USER_LEFT,
};
use rust_socketio::Payload;
use serde_json::json;
use support::{
    cluster::{self, Cluster, Node},
    page_texts,
    proxy::SilentProxy,
    readiness, Address, ChatClient, TestServer, Transport,
};

/// Somebody new called `name`.
fn person(name: &str, room: &str, offset: Option<i64>) -> Handshake {
    Handshake {
        name: Some(name.into()),
        token: None,
        room: Some(room.into()),
        offset,
    }
}

fn names(presence: &Presence) -> Vec<&str> {
    presence.users.iter().map(|m| m.name.as_str()).collect()
}

/// Connects as `name` and waits for the presence list, which comes once the socket is in its
/// room on every node's view.
async fn enter(node: &impl Address, transport: Transport, name: &str) -> (ChatClient, Presence) {
    let mut client = ChatClient::connect_as(node, transport, person(name, "general", None)).await;
    let presence = client.next_as::<Presence>(PRESENCE).await;
    (client, presence)
}

async fn send(client: &ChatClient, text: &str, client_offset: &str) {
    let ack = client
        .send_raw(Payload::Text(vec![
            json!(text),
            json!({ "clientOffset": client_offset }),
        ]))
        .await;
    assert!(ack.is_accepted(), "{text}: {ack:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_cross_nodes_in_every_direction_in_order() {
    if cluster::skipped() {
        return;
    }
    let cluster = Cluster::start(3).await;
    let transports = [
        Transport::Websocket,
        Transport::Polling,
        Transport::Websocket,
    ];
    let mut clients = Vec::new();
    for (n, (node, transport)) in cluster.nodes.iter().zip(transports).enumerate() {
        clients.push(enter(node, transport, &format!("n{n}")).await.0);
    }

    const EACH: usize = 40;
    join_all(clients.iter().enumerate().map(|(n, client)| async move {
        for k in 0..EACH {
            send(client, &format!("{n}:{k}"), &format!("u-n{n}-{k}")).await;
        }
    }))
    .await;

    for (reader, client) in clients.iter_mut().enumerate() {
        let mut received: Vec<ChatMessage> = Vec::new();
        while received.len() < EACH * 3 {
            received.push(client.next_message().await);
        }
        let ids: Vec<i64> = received.iter().map(|m| m.meta.id).collect();
        assert!(
            ids.windows(2).all(|pair| pair[0] < pair[1]),
            "reader {reader}: every node relays a room's offsets in increasing order: {ids:?}"
        );
        for sender in 0..3 {
            let from: Vec<&str> = received
                .iter()
                .filter_map(|m| m.text.strip_prefix(&format!("{sender}:")))
                .collect();
            let expected: Vec<String> = (0..EACH).map(|k| k.to_string()).collect();
            assert_eq!(from, expected, "reader {reader}, sender {sender}");
        }
    }
}

/// The page's form, posted without JavaScript, goes through the same delivery as a socket's
/// message: to the room on every node, not only on the node that took the post.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_plain_form_post_reaches_the_room_on_every_node() {
    if cluster::skipped() {
        return;
    }
    let cluster = Cluster::start(2).await;
    let [first, second] = &cluster.nodes[..] else {
        unreachable!()
    };
    let (mut listener, _) = enter(second, Transport::Websocket, "Ana").await;

    let response = reqwest::Client::new()
        .post(format!("{}/api/enviar", first.url()))
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body("room=general&text=desde+el+formulario")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());

    let relayed = listener.next_message().await;
    assert_eq!(relayed.text, "desde el formulario");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn presence_typing_and_rooms_cross_nodes_and_count_people_once() {
    if cluster::skipped() {
        return;
    }
    let cluster = Cluster::start(3).await;
    let [first, second, third] = &cluster.nodes[..] else {
        unreachable!()
    };
    let (mut ana, alone) = enter(first, Transport::Websocket, "Ana").await;
    assert_eq!(names(&alone), ["Ana"]);

    let (bea, seen) = enter(second, Transport::Polling, "Bea").await;
    assert_eq!(
        names(&seen),
        ["Ana", "Bea"],
        "Bea on node 2 sees Ana on node 1"
    );
    let joined: UserEvent = ana.next_as(USER_JOINED).await;
    assert_eq!(
        (joined.user.as_str(), &joined.person),
        ("Bea", &bea.credentials.person)
    );

    // Bea's second tab, on a third node, with the token node 2 issued: the same person (the
    // nodes share the secret through the database), no second "joined".
    let second_tab = bea.same_person(person("Bea", "general", None));
    let mut bea_again = ChatClient::connect_as(third, Transport::Websocket, second_tab).await;
    assert_eq!(bea_again.credentials, bea.credentials);
    let seen: Presence = bea_again.next_as(PRESENCE).await;
    assert_eq!(names(&seen), ["Ana", "Bea"]);
    ana.assert_no(USER_JOINED).await;

    bea_again.socket.emit(TYPING, json!(null)).await.unwrap();
    let typing: UserEvent = ana.next_as(TYPING).await;
    assert_eq!(typing.user, "Bea");

    let rooms = ana.request(ROOMS, Payload::Text(vec![])).await;
    let rooms: Vec<RoomSummary> = serde_json::from_value(rooms).unwrap();
    assert_eq!(
        rooms,
        [RoomSummary {
            name: "general".into(),
            online: 2
        }],
        "two people, three tabs, three nodes"
    );

    bea.socket.disconnect().await.unwrap();
    ana.assert_no(USER_LEFT).await;
    bea_again.socket.disconnect().await.unwrap();
    let left: UserEvent = ana.next_as(USER_LEFT).await;
    assert_eq!(left.user, "Bea", "left after her last tab, on another node");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn history_and_offsets_agree_whichever_node_serves_them() {
    if cluster::skipped() {
        return;
    }
    let cluster = Cluster::start(3).await;
    let mut writers = Vec::new();
    for (n, node) in cluster.nodes.iter().enumerate() {
        writers.push(enter(node, Transport::Websocket, &format!("w{n}")).await.0);
    }
    for k in 0..12 {
        send(&writers[k % 3], &format!("m{k}"), &format!("h-{k}")).await;
    }
    // Every writer hears all twelve: they are all stored and relayed.
    for writer in &mut writers {
        for _ in 0..12 {
            writer.next_message().await;
        }
    }
    let expected: Vec<String> = (0..12).map(|k| format!("m{k}")).collect();
    for node in &cluster.nodes {
        assert_eq!(
            page_texts(node, "/").await,
            expected,
            "page from {}",
            node.url()
        );
    }

    let mut replays = HashSet::new();
    for node in &cluster.nodes {
        let mut late = ChatClient::connect_as(
            node,
            Transport::Websocket,
            person("Late", "general", Some(0)),
        )
        .await;
        let replayed: Vec<ChatMessage> = late.next_as(HISTORY).await;
        let replayed: Vec<(i64, String)> =
            replayed.into_iter().map(|m| (m.meta.id, m.text)).collect();
        assert_eq!(replayed.len(), 12);
        replays.insert(replayed);
    }
    assert_eq!(
        replays.len(),
        1,
        "every node replays the same ids: {replays:?}"
    );

    let mut database = cluster.database.connect().await;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(&mut database)
        .await
        .unwrap();
    assert_eq!(stored, 12);
}

/// An edit and a deletion made through one node reach the room on every node, once stored, and
/// a client resuming on any node is replayed them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn edits_and_deletions_cross_nodes_and_are_replayed_by_any() {
    if cluster::skipped() {
        return;
    }
    let cluster = Cluster::start(3).await;
    let (ana, _) = enter(&cluster.nodes[0], Transport::Websocket, "Ana").await;
    let (mut beto, _) = enter(&cluster.nodes[1], Transport::Polling, "Beto").await;
    let (mut caro, _) = enter(&cluster.nodes[2], Transport::Websocket, "Caro").await;
    send(&ana, "hola, mundp", "k-1").await;
    send(&ana, "me arrepiento", "k-2").await;
    let first = beto.next_message().await.meta.id;
    let second = beto.next_message().await.meta.id;
    for _ in 0..2 {
        caro.next_message().await;
    }
    let ask = async |event: &str, request: serde_json::Value| {
        let reply = ana.request(event, Payload::Text(vec![request])).await;
        let ack: protocol::Ack = serde_json::from_value(reply).unwrap();
        assert!(ack.is_accepted(), "{event}: {ack:?}");
    };
    ask(
        EDIT_MESSAGE,
        json!({"id": first, "text": "hola, mundo", "clientOffset": "e-1"}),
    )
    .await;
    ask(DELETE_MESSAGE, json!({"id": second, "clientOffset": "d-1"})).await;
    // Nobody else may: a node checks the author as the store knows them.
    let reply = beto
        .request(DELETE_MESSAGE, Payload::Text(vec![json!({"id": first})]))
        .await;
    assert_eq!(reply["error"], "not_yours");

    for client in [&mut beto, &mut caro] {
        let edited: MessageChange = client.next_as(MESSAGE_CHANGED).await;
        let deleted: MessageChange = client.next_as(MESSAGE_CHANGED).await;
        assert_eq!(
            (edited.id, edited.text.as_deref()),
            (first, Some("hola, mundo"))
        );
        assert!(deleted.id == second && deleted.deleted && edited.revision < deleted.revision);
    }
    for node in &cluster.nodes {
        let mut late = ChatClient::connect_as(
            node,
            Transport::Websocket,
            person("Late", "general", Some(second)),
        )
        .await;
        let edited: MessageChange = late.next_as(MESSAGE_CHANGED).await;
        let deleted: MessageChange = late.next_as(MESSAGE_CHANGED).await;
        assert_eq!(
            (edited.id, deleted.id),
            (first, second),
            "from {}",
            node.url()
        );
    }
}

/// A node that loses Redis says so on `/readyz` and keeps relaying to its own clients; once
/// Redis is back it is ready again and the other nodes get what they missed, replayed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_without_redis_is_unready_relays_locally_then_catches_up() {
    if cluster::skipped() {
        return;
    }
    let mut cluster = Cluster::start(2).await;
    let [first, second] = &cluster.nodes[..] else {
        unreachable!()
    };
    let (ana, _) = enter(first, Transport::Websocket, "Ana").await;
    let (mut bea, _) = enter(first, Transport::Polling, "Bea").await;
    let (mut carla, _) = enter(second, Transport::Websocket, "Carla").await;
    let ready = (200, json!({"store": "ok", "adapter": "ok"}));
    assert_eq!(readiness(first).await, ready);

    cluster
        .redis
        .crash_then_restart(async || {
            let unready = (503, json!({"store": "ok", "adapter": "unavailable"}));
            eventually(async || readiness(first).await == unready).await;
            send(&ana, "sin redis", "u-ana-1").await;
            assert_eq!(bea.next_text().await, "sin redis", "same node, live");
        })
        .await;
    eventually(async || readiness(first).await == ready && readiness(second).await == ready).await;
    let replayed: Vec<ChatMessage> = carla.next_as(HISTORY).await;
    assert!(
        replayed.iter().any(|message| message.text == "sin redis"),
        "{replayed:?}"
    );
    send(&ana, "con redis", "u-ana-2").await;
    assert_eq!(carla.next_text().await, "con redis", "across nodes, live");
}

/// Waits until `condition` holds, polling.
async fn eventually(condition: impl AsyncFn() -> bool) {
    let waited = tokio::time::timeout(support::PATIENCE, async {
        while !condition().await {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "condition not met in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_whose_redis_goes_silent_catches_the_others_up_once_it_answers_again() {
    if cluster::skipped() {
        return;
    }
    let cluster = Cluster::start(1).await;
    // Node A reaches Redis through a proxy that will stop forwarding without closing anything:
    // a partition, a hung Redis, a half-open connection. No error ever comes from the connection.
    let redis: std::net::SocketAddr = format!("127.0.0.1:{}", cluster.redis.port).parse().unwrap();
    let proxy = SilentProxy::start(redis).await;
    let node_a = Node::start(&cluster.database.url, &proxy.url("redis"));
    let (ana, _) = enter(&node_a, Transport::Websocket, "Ana").await;
    let (mut beto, _) = enter(&cluster.nodes[0], Transport::Websocket, "Beto").await;
    send(&ana, "antes", "k-0").await;
    assert_eq!(beto.next_text().await, "antes");

    proxy.stall();
    // Stored and acknowledged: node A's broadcasts fail (time out) meanwhile.
    for k in 1..=3 {
        send(&ana, &format!("durante {k}"), &format!("k-{k}")).await;
    }
    proxy.resume();

    // Beto, on the other node, ends with every one of them: live or replayed by node A once
    // its link is back, each once by id.
    let mut texts = std::collections::BTreeMap::new();
    let everything = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while texts.len() < 3 {
            let received = beto.next_any().await;
            let messages: Vec<ChatMessage> = match received.event.as_str() {
                HISTORY => serde_json::from_value(received.args[0].clone()).unwrap(),
                protocol::NEW_MESSAGE => vec![ChatMessage {
                    text: received.args[0].as_str().unwrap().to_owned(),
                    meta: serde_json::from_value(received.args[1].clone()).unwrap(),
                }],
                _ => continue,
            };
            for message in messages.into_iter().filter(|m| m.text != "antes") {
                texts.insert(message.meta.id, message.text);
            }
        }
    })
    .await;
    assert!(everything.is_ok(), "Beto got {texts:?}");
    assert_eq!(
        texts.into_values().collect::<Vec<_>>(),
        ["durante 1", "durante 2", "durante 3"]
    );
}

/// A node frozen in the middle of a room's turn (here a session of the test's own, holding the
/// room's lock and never letting go) and a burst in that room from many people: that room's
/// messages wait for their turn one connection at a time, and are refused `unavailable` when
/// they waited too long; every other room, the history pages and readiness go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_room_whose_turn_never_comes_holds_up_nobody_else() {
    if cluster::skipped() {
        return;
    }
    let database = cluster::Database::create().await;
    let mut config = server::Config::defaults();
    config.database_url = database.url.clone();
    let server = TestServer::start_unlimited(config).await;
    let mut frozen = database.connect().await;
    sqlx::query("SELECT 1 AS taken FROM (SELECT pg_advisory_lock(hashtext($1))) AS turn")
        .bind("congelada")
        .execute(&mut frozen)
        .await
        .unwrap();

    // More people than the node has connections, each sending one message to the frozen room.
    let mut stuck = Vec::new();
    for n in 0..12 {
        let client = ChatClient::connect_as(
            &server,
            Transport::Websocket,
            person(&format!("p{n}"), "congelada", None),
        )
        .await;
        client
            .socket
            .emit(
                protocol::NEW_MESSAGE,
                Payload::Text(vec![json!("atascado"), json!({"clientOffset": "k-1"})]),
            )
            .await
            .unwrap();
        stuck.push(client);
    }
    // Everybody else is served meanwhile.
    let other = ChatClient::connect(&server, Transport::Websocket).await;
    for n in 0..3 {
        let ack = other.send(&format!("libre {n}")).await;
        assert!(ack.is_accepted(), "{ack:?}");
    }
    assert_eq!(readiness(&server).await.0, 200);
    assert_eq!(
        page_texts(&server, "/").await,
        ["libre 0", "libre 1", "libre 2"]
    );

    // The frozen node comes back: the room's turn comes again.
    drop(frozen);
    let ack = stuck[0].send("después").await;
    assert!(ack.is_accepted(), "{ack:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_on_another_node_that_stops_reading_ends_with_every_message_once_in_order() {
    if cluster::skipped() {
        return;
    }
    // The burst reaches the reader's node through Redis: its node, not the sender's, finds the
    // reader's buffer full.
    let cluster = Cluster::start(2).await;
    support::slow_reader::stops_reading_during_a_burst(&cluster.nodes[0], &cluster.nodes[1]).await;
}
