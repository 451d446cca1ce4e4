//! The store stops taking writes: messages are refused with `unavailable` — never acknowledged
//! and then lost — nothing is relayed, `/readyz` says so, and service resumes by itself once
//! writes go through.

mod support;

use protocol::{Ack, Rejection, NEW_MESSAGE};
use rust_socketio::Payload;
use serde_json::json;
use serde_json::Value;
use server::Config;
use sqlx::{Connection, SqliteConnection};
use support::{
    cluster::{self, Database},
    get, page_texts, readiness, ChatClient, TestServer, Transport,
};

/// A message the page would send, with its client offset (resent as is after a refusal).
fn message(text: &str) -> Payload {
    Payload::Text(vec![
        json!(text),
        json!({ "clientOffset": format!("u-store-{text}") }),
    ])
}

fn ready() -> (u16, Value) {
    (200, json!({"store": "ok", "adapter": "ok"}))
}

fn store_unavailable() -> (u16, Value) {
    (503, json!({"store": "unavailable", "adapter": "ok"}))
}

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
    assert_eq!(
        sender.send_raw(message("durante")).await,
        Ack::rejected(Rejection::Unavailable)
    );
    reader.assert_no(NEW_MESSAGE).await;
    let (_, metrics) = get(&server, "/metrics").await;
    assert!(
        metrics.contains(r#"chat_rejections_total{reason="unavailable"} 1"#),
        "{metrics}"
    );

    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    // The page resends a refused message with the same client offset: stored and relayed once.
    assert!(sender.send_raw(message("durante")).await.is_accepted());
    assert_eq!(reader.next_text().await, "durante");
    reader.assert_no(NEW_MESSAGE).await;
    assert_eq!(page_texts(&server, "/").await, ["antes", "durante"]);
    server.stop().await;
}

/// The same with the history in PostgreSQL, whose server goes away: open connections are closed
/// and new ones refused.
#[tokio::test]
async fn while_postgres_is_unreachable_messages_are_refused_and_the_node_is_not_ready() {
    if cluster::skipped() {
        return;
    }
    let database = Database::create().await;
    let mut config = Config::defaults();
    config.database_url = database.url.clone();
    let server = TestServer::start_unlimited(config).await;
    let sender = ChatClient::connect(&server, Transport::Websocket).await;
    let mut reader = ChatClient::connect(&server, Transport::Polling).await;
    assert!(sender.send_raw(message("antes")).await.is_accepted());
    assert_eq!(reader.next_text().await, "antes");
    assert_eq!(readiness(&server).await, ready());

    database.set_reachable(false).await;
    assert_eq!(
        sender.send_raw(message("durante")).await,
        Ack::rejected(Rejection::Unavailable)
    );
    reader.assert_no(NEW_MESSAGE).await;
    assert_eq!(readiness(&server).await, store_unavailable());

    database.set_reachable(true).await;
    assert!(sender.send_raw(message("durante")).await.is_accepted());
    assert_eq!(reader.next_text().await, "durante");
    let ack = sender.send_raw(message("luego")).await;
    assert!(ack.is_accepted(), "{ack:?}");
    assert_eq!(reader.next_text().await, "luego");
    reader.assert_no(NEW_MESSAGE).await;
    assert_eq!(readiness(&server).await, ready());
    assert_eq!(
        page_texts(&server, "/").await,
        ["antes", "durante", "luego"]
    );
    server.stop().await;
}
