//! The store stops taking writes: messages are refused with `unavailable` — never acknowledged
//! and then lost — nothing is relayed, and service resumes by itself once writes go through.

mod support;

use app::protocol::{Ack, Rejection, NEW_MESSAGE};
use rust_socketio::Payload;
use serde_json::json;
use sqlx::{Connection, SqliteConnection};
use support::{page_texts, Address, ChatClient, TestServer, Transport};

#[tokio::test]
async fn while_the_store_takes_no_writes_messages_are_refused_then_accepted_again() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let sender = ChatClient::connect(&server, Transport::Websocket).await;
    let mut reader = ChatClient::connect(&server, Transport::Polling).await;
    assert!(sender.send("antes").await.is_accepted());
    assert_eq!(reader.next_text().await, "antes");

    // Another process holds the database's write lock, as a stuck maintenance job would.
    let database = history.path().join("chat.db");
    let mut blocker = SqliteConnection::connect(&format!("sqlite://{}", database.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut blocker)
        .await
        .unwrap();
    let message = || {
        Payload::Text(vec![
            json!("durante"),
            json!({"clientOffset": "u-store-durante"}),
        ])
    };
    assert_eq!(
        sender.send_raw(message()).await,
        Ack::rejected(Rejection::Unavailable)
    );
    reader.assert_no(NEW_MESSAGE).await;
    let metrics = reqwest::get(format!("{}/metrics", server.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"chat_rejections_total{reason="unavailable"} 1"#),
        "{metrics}"
    );

    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    // The page resends a refused message with the same client offset: stored and relayed once.
    assert!(sender.send_raw(message()).await.is_accepted());
    assert_eq!(reader.next_text().await, "durante");
    reader.assert_no(NEW_MESSAGE).await;
    assert_eq!(page_texts(&server, "/").await, ["antes", "durante"]);
    server.stop().await;
}
