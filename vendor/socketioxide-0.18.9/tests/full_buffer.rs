//! Tests for `SocketIoBuilder::close_on_full_buffer`: a socket whose buffer is full either has
//! the packet dropped (the default) or its connection closed.
//!
//! `cargo test --features __test_harness,tracing --test full_buffer` (the fixtures need both).

use std::time::Duration;

use socketioxide::{SendError, SocketError, SocketIo, extract::SocketRef, socket::DisconnectReason};
use tokio::sync::mpsc;

mod fixture;

use fixture::{create_polling_connection, send_req};

/// A server whose sockets hold `buffer` packets, and, on connection, emits `emits` packets to
/// the new socket (nobody polls for them) and reports what each emit returned, then the
/// disconnect reason.
async fn emit_into_a_full_buffer(
    close: bool,
    buffer: usize,
    emits: usize,
) -> (Vec<Result<(), SendError>>, Option<DisconnectReason>) {
    let (svc, io) = SocketIo::builder()
        .max_buffer_size(buffer)
        .close_on_full_buffer(close)
        .build_svc();
    let (results_tx, mut results_rx) = mpsc::channel(1);
    let (reason_tx, mut reason_rx) = mpsc::channel(1);
    io.ns("/", async move |socket: SocketRef| {
        socket.on_disconnect(async move |reason: DisconnectReason| {
            reason_tx.try_send(reason).unwrap();
        });
        let results: Vec<_> = (0..emits).map(|n| socket.emit("n", &n)).collect();
        results_tx.try_send(results).unwrap();
    });
    let sid = create_polling_connection(&svc).await;
    let results = tokio::time::timeout(Duration::from_secs(1), results_rx.recv())
        .await
        .expect("the connect handler runs")
        .unwrap();
    let reason = tokio::time::timeout(Duration::from_millis(200), reason_rx.recv())
        .await
        .ok()
        .flatten();
    // The session is still known to the engine only when it was not closed.
    let poll = send_req(
        &svc,
        format!("transport=polling&sid={sid}"),
        http::Method::GET,
        None,
    )
    .await;
    if reason.is_some() {
        assert!(poll.contains("Session ID unknown"), "{poll}");
    }
    (results, reason)
}

#[tokio::test]
async fn by_default_a_full_buffer_drops_the_packet() {
    let (results, reason) = emit_into_a_full_buffer(false, 4, 8).await;
    let full = results
        .iter()
        .filter(|r| matches!(r, Err(SendError::Socket(SocketError::InternalChannelFull))))
        .count();
    assert!(full > 0, "{results:?}");
    // Whatever else may end the session later (the engine's heartbeat cannot get through a full
    // buffer either), it is not closed for the dropped packets.
    assert_ne!(reason, Some(DisconnectReason::BufferFull));
}

#[tokio::test]
async fn with_the_option_a_full_buffer_closes_the_connection() {
    let (results, reason) = emit_into_a_full_buffer(true, 4, 8).await;
    // Every emit before the first that found the buffer full went through; none after it did.
    let first_full = results
        .iter()
        .position(|r| r.is_err())
        .expect("the buffer fills up");
    assert!(results[..first_full].iter().all(Result::is_ok));
    assert!(
        matches!(
            results[first_full],
            Err(SendError::Socket(SocketError::InternalChannelFull))
        ),
        "{results:?}"
    );
    assert!(results[first_full + 1..].iter().all(Result::is_err));
    assert_eq!(reason, Some(DisconnectReason::BufferFull));
}

#[tokio::test]
async fn with_the_option_a_buffer_that_never_fills_keeps_the_connection() {
    let (results, reason) = emit_into_a_full_buffer(true, 64, 8).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(reason, None);
}
