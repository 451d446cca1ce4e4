//! Flood control: a connection over its rate is refused with `too_fast`, then cut off if it goes
//! on, and its address may not connect again for a while; an address holds a bounded number of connections; everyone else is served meanwhile.

mod support;

use app::protocol::{Ack, Handshake, HandshakeError, Rejection, NEW_MESSAGE};
use rust_socketio::Payload;
use serde_json::json;
use support::{config_on, ChatClient, TestServer, Transport};

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
