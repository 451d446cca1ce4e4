//! The socket's packet channel carries boxed packets (`socket::Packets`): everything emitted still
//! comes out whole and in order, a packet together with its binary attachments.

use std::collections::VecDeque;

use bytes::Bytes;
use engineioxide::{Packet, Socket, sid::Sid};
use tokio::sync::mpsc::error::TrySendError;

#[tokio::test]
async fn emitted_packets_come_out_whole_and_in_order() {
    let (socket, mut rx) = Socket::<()>::new_dummy_piped(Sid::new(), Box::new(|_, _| {}), 8);
    socket.emit("one").unwrap();
    socket.emit_binary(Bytes::from_static(b"two")).unwrap();
    socket
        .reserve()
        .unwrap()
        .emit_many("three".into(), VecDeque::from([Bytes::from_static(b"3a")]));
    socket.emit("four").unwrap();

    let mut received = Vec::new();
    for _ in 0..5 {
        received.push(rx.recv().await.unwrap());
    }
    assert_eq!(
        received,
        [
            Packet::Message("one".into()),
            Packet::Binary(Bytes::from_static(b"two")),
            Packet::Message("three".into()),
            Packet::Binary(Bytes::from_static(b"3a")),
            Packet::Message("four".into()),
        ]
    );
}

#[tokio::test]
async fn a_full_channel_gives_the_refused_message_back() {
    // Nobody reads `_rx`: the socket's channel and the pipe behind it fill up.
    let (socket, _rx) = Socket::<()>::new_dummy_piped(Sid::new(), Box::new(|_, _| {}), 1);
    for n in 0..10 {
        let text = format!("message {n}");
        match socket.emit(text.clone()) {
            Ok(()) => tokio::task::yield_now().await,
            Err(TrySendError::Full(refused)) => return assert_eq!(refused.as_str(), text),
            Err(error) => panic!("full, not {error:?}"),
        }
    }
    panic!("a channel of one never filled up");
}
