//! A reader that stops reading during a burst, on the node that relays it or on another node of
//! a cluster, and the helpers it shares with the replay tests.

use std::collections::BTreeMap;

use protocol::{
    Ack, ChatMessage, Handshake, HistoryPage, Skipped, HISTORY, HISTORY_PAGE_PATH, HISTORY_SKIPPED,
    NEW_MESSAGE,
};
use serde_json::json;

use super::{raw::RawClient, Address, ChatClient, Transport, PATIENCE};

/// Sends `count` messages of `text(n)` as fast as the writer can (an ack every 200, so the server
/// keeps up); returns the last one's id.
pub async fn fill(writer: &ChatClient, count: usize, text: impl Fn(usize) -> String) -> i64 {
    let mut last = 0;
    for n in 0..count {
        if n % 200 == 199 || n + 1 == count {
            last = stored(writer, &text(n)).await;
        } else {
            writer
                .socket
                .emit(NEW_MESSAGE, json!(text(n)))
                .await
                .unwrap();
        }
    }
    last
}

/// Sends `text` and waits for its acknowledgement; returns its id.
async fn stored(writer: &ChatClient, text: &str) -> i64 {
    let Ack::Accepted { id: Some(id), .. } = writer.send(text).await else {
        panic!("stored");
    };
    id
}

/// How long a reader waits for the next packet before it takes what it has as all it was sent.
const QUIET: std::time::Duration = std::time::Duration::from_secs(2);

/// A page of the room `general`'s history, through the page's server function.
pub async fn history_page(server: &impl Address, before: Option<i64>) -> HistoryPage {
    let mut form = vec![("room", "general".to_owned())];
    if let Some(before) = before {
        form.push(("before", before.to_string()));
    }
    let body = reqwest::Client::new()
        .post(format!("{}{HISTORY_PAGE_PATH}", server.url()))
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

/// The id and text of a `"nuevo mensaje"` packet as it comes off the wire (`42[…]`).
fn relayed(packet: &str) -> Option<(i64, String)> {
    let args: Vec<serde_json::Value> = serde_json::from_str(packet.strip_prefix("42")?).ok()?;
    if args.first()?.as_str()? != NEW_MESSAGE {
        return None;
    }
    Some((
        args.get(2)?["id"].as_i64()?,
        args.get(1)?.as_str()?.to_owned(),
    ))
}

/// Keeps a message by id, as clients do, and fails the test if it arrives a second time.
fn keep_once(seen: &mut BTreeMap<i64, String>, (id, text): (i64, String)) {
    assert!(
        seen.insert(id, text).is_none(),
        "message {id} arrived twice"
    );
}

/// A writer on `writer_node` sends a burst of 6 MB to the room while a reader on `reader_node`
/// with a small receive buffer reads nothing: more than the kernel's buffers and its packet
/// buffer hold. The reader reads again, and once it has drained what it was sent, one more
/// message is sent. The reader must be closed, having received a gapless start of the burst in
/// order (not the burst with its middle dropped and the last message after it); come back from
/// the last message it has; and end with every message, once.
pub async fn stops_reading_during_a_burst(writer_node: &impl Address, reader_node: &impl Address) {
    let writer = ChatClient::connect(writer_node, Transport::Websocket).await;
    let mut reader = RawClient::open(reader_node.addr(), Some(4096)).await;
    assert!(reader.join(r#"{"offset":0}"#).await.starts_with("40"));
    const BURST: usize = 6_000;
    let text = |n: usize| format!("{n:05} {}", "x".repeat(1_000));
    fill(&writer, BURST, text).await;

    // Reading again: what it was sent, until the server closes the connection.
    let mut received = Vec::new();
    let mut last = None;
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match tokio::time::timeout(QUIET, reader.next()).await {
                Ok(Some(packet)) => received.extend(relayed(&packet)),
                Ok(None) => break,
                // Drained and still open: a message after the burst would reach it.
                Err(_) if last.is_none() => last = Some(stored(&writer, &text(BURST)).await),
                Err(_) => {}
            }
        }
    })
    .await
    .is_ok();
    assert!(
        closed,
        "the server closed the reader that could not keep up"
    );
    let last = match last {
        Some(last) => last,
        None => stored(&writer, &text(BURST)).await,
    };
    // Closed at the first message it could not take: what it has is the burst's beginning,
    // in order, without a gap, nothing twice — so resuming from its last message loses nothing.
    assert!(received.len() < BURST, "it did miss the end of the burst");
    for (n, (_, got)) in received.iter().enumerate() {
        assert_eq!(
            *got,
            text(n),
            "message {n} of the burst as the reader got it"
        );
    }
    assert!(received.windows(2).all(|pair| pair[0].0 < pair[1].0));
    let mut seen = BTreeMap::new();
    for message in received {
        keep_once(&mut seen, message);
    }

    // It comes back from what it has, as every client resumes: the replay, and the history
    // pages for what the replay leaves out.
    let offset = seen.keys().max().copied().unwrap_or(0);
    let resuming = Handshake {
        offset: Some(offset),
        ..Handshake::default()
    };
    let mut back = ChatClient::connect_as(reader_node, Transport::Websocket, resuming).await;
    let mut skipped = None;
    while !seen.contains_key(&last) {
        let received = back.next_any().await;
        match received.event.as_str() {
            HISTORY_SKIPPED => skipped = serde_json::from_value(received.args[0].clone()).ok(),
            HISTORY => {
                let batch: Vec<ChatMessage> =
                    serde_json::from_value(received.args[0].clone()).unwrap();
                for message in batch {
                    keep_once(&mut seen, (message.meta.id, message.text));
                }
            }
            _ => {}
        }
    }
    if let Some(Skipped { after, before }) = skipped {
        let mut below = before;
        while below > after + 1 {
            let page = history_page(reader_node, Some(below)).await;
            let Some(first) = page.messages.first() else {
                break;
            };
            below = first.meta.id;
            for message in page.messages.into_iter().filter(|m| m.meta.id > after) {
                keep_once(&mut seen, (message.meta.id, message.text));
            }
        }
    }
    let texts: Vec<String> = seen.into_values().collect();
    assert_eq!(texts.len(), BURST + 1);
    assert!(texts.iter().enumerate().all(|(n, t)| *t == text(n)));
}
