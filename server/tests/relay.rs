//! The seed's behaviour: every message goes to everybody, the sender included, in order.

mod support;

use support::{raw::RawClient, ChatClient, TestServer, Transport};

#[tokio::test]
async fn every_client_gets_every_message_sender_included() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut clients = vec![
        ChatClient::connect(&server, Transport::Websocket).await,
        ChatClient::connect(&server, Transport::Polling).await,
        ChatClient::connect(&server, Transport::Upgrade).await,
    ];

    for sender in 0..clients.len() {
        let text = format!("hola desde el cliente {sender}");
        assert!(clients[sender].send(&text).await.is_accepted());
        for client in &mut clients {
            assert_eq!(client.next_text().await, text);
        }
    }
    server.stop().await;
}

// Several worker threads, as in production: a current-thread runtime would hide reordering.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_senders_order_is_kept() {
    const PER_SENDER: usize = 200;
    let history = support::history();
    let server = TestServer::start(&history).await;
    let mut watcher = ChatClient::connect(&server, Transport::Websocket).await;
    let ana = ChatClient::connect(&server, Transport::Websocket).await;
    let bea = ChatClient::connect(&server, Transport::Polling).await;

    // Fire without waiting for acks, so the server really has many messages of one sender in
    // flight at once.
    let burst = |client: &ChatClient, name: &'static str| {
        let socket = client.socket.clone();
        async move {
            for n in 0..PER_SENDER {
                socket
                    .emit(
                        protocol::NEW_MESSAGE,
                        serde_json::json!(format!("{name} {n}")),
                    )
                    .await
                    .unwrap();
            }
        }
    };
    tokio::join!(burst(&ana, "ana"), burst(&bea, "bea"));

    let mut next = [0usize; 2];
    for _ in 0..2 * PER_SENDER {
        let text = watcher.next_text().await;
        let (name, n) = text.split_once(' ').unwrap();
        let slot = usize::from(name == "bea");
        assert_eq!(
            n.parse::<usize>().unwrap(),
            next[slot],
            "{name}'s messages out of order"
        );
        next[slot] += 1;
    }
    assert_eq!(next, [PER_SENDER, PER_SENDER]);
    server.stop().await;
}

/// A message a client sends the instant the server says it is connected is handled like any
/// other: the server is ready for it before it says so. (socketioxide sends `CONNECT` and then
/// runs the connect handler in a task of its own: handlers registered there could come after
/// the client's first event, which was then dropped, never acknowledged. A rare race, under
/// load: it failed a CI run once, after a restart, and this test on an idle machine does not
/// lose it; the handlers are now registered before `CONNECT` by construction.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_as_soon_as_connected_is_acknowledged() {
    const CLIENTS: usize = 100;
    let history = support::history();
    let server = TestServer::start(&history).await;
    let clients = (0..CLIENTS).map(|n| {
        let addr = server.addr;
        tokio::spawn(async move {
            let mut client = RawClient::open(addr, None).await;
            let connected = client.join("").await;
            assert!(connected.starts_with("40{"), "{connected}");
            client
                .send(&format!(r#"42{n}["nuevo mensaje","primero {n}"]"#))
                .await;
            let ack = format!("43{n}[");
            let acknowledged = tokio::time::timeout(support::PATIENCE, async {
                while let Some(packet) = client.next().await {
                    if packet.starts_with(&ack) {
                        return true;
                    }
                }
                false
            })
            .await;
            matches!(acknowledged, Ok(true))
        })
    });
    let mut unacknowledged = 0;
    for client in clients.collect::<Vec<_>>() {
        if !client.await.unwrap() {
            unacknowledged += 1;
        }
    }
    assert_eq!(
        unacknowledged, 0,
        "first messages never acknowledged, of {CLIENTS}"
    );
    server.stop().await;
}
