//! Connecting many clients at once, a few handshakes in flight at a time, and counting how that
//! went.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use futures_util::{stream, StreamExt};
use hdrhistogram::Histogram;

use crate::{
    client::{Client, ClientError, Connector},
    report::Connects,
};

/// Clients to connect: `count` of them, spread over `urls` and `connectors` in turn.
pub struct Crowd<'a> {
    pub count: usize,
    pub urls: &'a [String],
    pub connectors: &'a [Connector],
    /// The `auth` of every handshake (JSON object, or empty).
    pub auth: &'a str,
    pub timeout: Duration,
    /// Handshakes in flight at once.
    pub concurrency: usize,
}

/// Connects the crowd, handing each client to `start` (with its index) as soon as it is in;
/// returns what `start` made of those that made it.
pub async fn connect_all<T>(
    crowd: Crowd<'_>,
    mut start: impl FnMut(usize, Client) -> T,
) -> (Vec<T>, Connects) {
    let mut times = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).expect("static bounds");
    let (mut refused, mut failures) = (BTreeMap::<String, usize>::new(), Vec::new());
    let attempts = (0..crowd.count).map(|index| {
        let url = &crowd.urls[index % crowd.urls.len()];
        let connector = &crowd.connectors[index % crowd.connectors.len()];
        let (auth, timeout) = (crowd.auth, crowd.timeout);
        async move {
            let begun = Instant::now();
            let result = connector.connect(url, auth, timeout).await;
            (index, begun.elapsed(), result)
        }
    });
    let mut results = stream::iter(attempts).buffer_unordered(crowd.concurrency.max(1));
    let mut started = Vec::with_capacity(crowd.count);
    while let Some((index, took, result)) = results.next().await {
        match result {
            Ok(client) => {
                times.saturating_record(took.as_micros().max(1) as u64);
                started.push(start(index, client));
            }
            Err(ClientError::Refused(reason)) => *refused.entry(reason).or_default() += 1,
            Err(error) => failures.push(error.to_string()),
        }
    }
    let connects = Connects::new(crowd.count, &times, refused, failures);
    (started, connects)
}
