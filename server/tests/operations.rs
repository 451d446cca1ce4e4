//! What an operator reads: `/healthz`, `/readyz`, `/metrics`.

mod support;

use protocol::{Ack, Rejection};
use reqwest::StatusCode;
use serde_json::json;
use support::{get, readiness, ChatClient, TestServer, Transport};

/// The value of the sample `name` (with its labels, as exposed) in a text exposition.
fn sample(exposition: &str, name: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix(' ')?;
        value.parse().ok()
    })
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    assert_eq!(
        get(&server, "/healthz").await,
        (StatusCode::OK, "ok".into())
    );
    assert_eq!(
        readiness(&server).await,
        (200, json!({"store": "ok", "adapter": "ok"}))
    );
    server.stop().await;
}

#[tokio::test]
async fn metrics_count_connections_messages_and_rejections() {
    let history = support::history();
    let server = TestServer::start(&history).await;
    let ana = ChatClient::connect(&server, Transport::Websocket).await;
    let beto = ChatClient::connect(&server, Transport::Polling).await;
    assert!(ana.send("hola").await.is_accepted());
    assert!(beto.send("qué tal").await.is_accepted());
    assert_eq!(
        ana.send("   ").await,
        Ack::rejected(Rejection::Empty),
        "a blank message is refused"
    );
    assert_eq!(
        ana.send(&"x".repeat(5000)).await,
        Ack::rejected(Rejection::TooLong)
    );

    let (status, metrics) = get(&server, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let expected = [
        ("chat_connections", 2.0),
        ("chat_messages_in_total", 4.0),
        ("chat_messages_out_total", 2.0),
        (r#"chat_rejections_total{reason="empty"}"#, 1.0),
        (r#"chat_rejections_total{reason="too_long"}"#, 1.0),
        ("chat_broadcast_seconds_count", 2.0),
        ("chat_store_seconds_count", 2.0),
    ];
    for (name, value) in expected {
        assert_eq!(sample(&metrics, name), Some(value), "{name} in:\n{metrics}");
    }
    assert!(metrics.trim_end().ends_with("# EOF"), "{metrics}");

    beto.socket.disconnect().await.unwrap();
    let gauge = tokio::time::timeout(support::PATIENCE, async {
        loop {
            let (_, metrics) = get(&server, "/metrics").await;
            if sample(&metrics, "chat_connections") == Some(1.0) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(gauge.is_ok(), "the connections gauge follows a departure");
    drop(ana);
    server.stop().await;
}
