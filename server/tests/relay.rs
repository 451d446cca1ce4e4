//! The seed's behaviour: every message goes to everybody, the sender included, in order.

mod support;

use support::{ChatClient, TestServer, Transport};

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
