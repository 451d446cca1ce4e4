//! What the receivers count: every delivery checked against what was sent, for loss, duplicates,
//! order and latency.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::{payload::Payload, report::Delivery};

/// What every receiver tallies, shared by all on the one thread.
pub(super) struct Tally {
    pub(super) latency: Histogram<u64>,
    /// Per receiver, per sender: which sequence numbers arrived (a bit each).
    seen: Vec<Vec<Vec<u64>>>,
    /// Per receiver, per sender: the highest sequence number so far.
    highest: Vec<Vec<Option<u32>>>,
    deliveries: u64,
    duplicates: u64,
    out_of_order: u64,
    foreign: u64,
    pub(super) last_delivery: Instant,
}

impl Tally {
    pub(super) fn new(receivers: usize, senders: usize, started: Instant) -> Self {
        Self {
            latency: Histogram::new_with_bounds(1, 120_000_000, 3).expect("static bounds"),
            seen: vec![vec![Vec::new(); senders]; receivers],
            highest: vec![vec![None; senders]; receivers],
            deliveries: 0,
            duplicates: 0,
            out_of_order: 0,
            foreign: 0,
            last_delivery: started,
        }
    }

    /// Counts the message `text` as delivered to `receiver`; `started` is the run's clock, which
    /// the [`Payload`] carries its send time on.
    pub(super) fn record(&mut self, receiver: usize, text: &str, started: Instant) {
        let now = Instant::now();
        let Some(payload) = Payload::parse(text) else {
            // Somebody else's message (not the bench's format): not counted.
            self.foreign += 1;
            return;
        };
        let (sender, seq) = (payload.sender as usize, payload.seq);
        let Some(bits) = self.seen.get_mut(receiver).and_then(|s| s.get_mut(sender)) else {
            self.foreign += 1;
            return;
        };
        self.deliveries += 1;
        self.last_delivery = now;
        let (word, bit) = (seq as usize / 64, seq % 64);
        if bits.len() <= word {
            bits.resize(word + 1, 0);
        }
        if bits[word] & (1 << bit) != 0 {
            self.duplicates += 1;
            return;
        }
        bits[word] |= 1 << bit;
        let highest = &mut self.highest[receiver][sender];
        if highest.is_some_and(|highest| seq < highest) {
            self.out_of_order += 1;
        }
        *highest = Some(highest.map_or(seq, |highest| highest.max(seq)));
        let sent_at = started + Duration::from_micros(payload.micros);
        let micros = now.saturating_duration_since(sent_at).as_micros() as u64;
        self.latency.saturating_record(micros.max(1));
    }

    /// Distinct messages received, every receiver's added up.
    pub(super) fn unique(&self) -> u64 {
        self.seen
            .iter()
            .flatten()
            .flatten()
            .map(|word| u64::from(word.count_ones()))
            .sum()
    }

    /// The [`Delivery`] figures of `sent` messages to `connected` receivers over `seconds`.
    pub(super) fn delivery(&self, sent: u64, connected: usize, seconds: f64) -> Delivery {
        let expected = sent * connected as u64;
        let unique = self.unique();
        Delivery {
            sent,
            expected,
            delivered: self.deliveries,
            unique,
            lost: expected.saturating_sub(unique),
            duplicates: self.duplicates,
            out_of_order: self.out_of_order,
            foreign: self.foreign,
            per_second: unique as f64 / seconds,
        }
    }
}
