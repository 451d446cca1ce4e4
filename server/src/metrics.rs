//! What the server counts, for Prometheus (`GET /metrics`, text exposition format).
//!
//! One registry per server (not a process-wide one), so tests that start several servers in one
//! process each read their own figures.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use protocol::Rejection;

#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Mutex<Registry>,
    connections: Gauge,
    messages_in: Counter,
    messages_out: Counter,
    rejections: Family<Reason, Counter>,
    flood_disconnects: Counter,
    slow_readers_closed: Counter,
    broadcast: Histogram,
    store: Histogram,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: String,
}

/// Bucket bounds in seconds, from 100 µs to about 3 s: a store write or a broadcast on one
/// machine takes from well under a millisecond to, when something is wrong, seconds.
fn latency_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.0001, 2.0, 16)
}

impl Default for Metrics {
    fn default() -> Self {
        let inner = Inner {
            registry: Mutex::new(Registry::with_prefix("chat")),
            connections: Gauge::default(),
            messages_in: Counter::default(),
            messages_out: Counter::default(),
            rejections: Family::default(),
            flood_disconnects: Counter::default(),
            slow_readers_closed: Counter::default(),
            broadcast: Histogram::new(latency_buckets()),
            store: Histogram::new(latency_buckets()),
        };
        {
            let mut registry = inner.registry.lock().unwrap();
            registry.register(
                "connections",
                "Socket.IO clients connected to this node",
                inner.connections.clone(),
            );
            registry.register(
                "messages_in",
                "Chat messages received from clients, accepted or not",
                inner.messages_in.clone(),
            );
            registry.register(
                "messages_out",
                "Chat messages stored and relayed to their room (once per message, whatever the room's size)",
                inner.messages_out.clone(),
            );
            registry.register(
                "rejections",
                "Chat messages refused, by reason (the code the sender's acknowledgement carries)",
                inner.rejections.clone(),
            );
            registry.register(
                "flood_disconnects",
                "Connections cut off for sending over their limit again and again",
                inner.flood_disconnects.clone(),
            );
            registry.register(
                "slow_readers_closed",
                "Connections closed because they could not take a message (their buffer was full); they resume from what they have",
                inner.slow_readers_closed.clone(),
            );
            registry.register(
                "broadcast_seconds",
                "From a message's arrival to its relay to the room",
                inner.broadcast.clone(),
            );
            registry.register(
                "store_seconds",
                "Storing a message, the wait for its room's turn included",
                inner.store.clone(),
            );
        }
        Self(Arc::new(inner))
    }
}

impl Metrics {
    pub fn connected(&self) {
        self.0.connections.inc();
    }

    pub fn disconnected(&self) {
        self.0.connections.dec();
    }

    pub fn message_in(&self) {
        self.0.messages_in.inc();
    }

    /// A message relayed to its room, `after` its arrival.
    pub fn message_out(&self, after: Duration) {
        self.0.messages_out.inc();
        self.0.broadcast.observe(after.as_secs_f64());
    }

    pub fn rejected(&self, reason: Rejection) {
        // The label is the code clients see in the acknowledgement (its serialised name).
        let reason = serde_json::to_value(reason)
            .ok()
            .and_then(|code| code.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("{reason:?}"));
        self.0.rejections.get_or_create(&Reason { reason }).inc();
    }

    pub fn flood_disconnect(&self) {
        self.0.flood_disconnects.inc();
    }

    pub fn slow_reader_closed(&self) {
        self.0.slow_readers_closed.inc();
    }

    pub fn stored(&self, took: Duration) {
        self.0.store.observe(took.as_secs_f64());
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.0.registry.lock().unwrap())
            .expect("writing to a String cannot fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_are_labelled_with_the_clients_code() {
        let metrics = Metrics::default();
        metrics.rejected(Rejection::TooLong);
        metrics.rejected(Rejection::TooLong);
        let text = metrics.render();
        assert!(
            text.contains(r#"chat_rejections_total{reason="too_long"} 2"#),
            "{text}"
        );
    }
}
