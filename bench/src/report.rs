//! A run's figures, as a table for people and JSON for documents and charts.

use std::{collections::BTreeMap, fmt};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub label: String,
    /// Clients the server disconnected during the run (after they had connected).
    pub dropped: usize,
    pub clients: usize,
    pub senders: usize,
    pub rate: f64,
    pub payload_bytes: usize,
    pub connects: Connects,
    pub delivery: Delivery,
    pub latency: Latency,
    pub cost: Cost,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Connects {
    pub attempted: usize,
    pub connected: usize,
    /// Attempts the server answered with a `connect_error` (its reason, and how many times).
    #[serde(default)]
    pub refused: BTreeMap<String, usize>,
    /// Attempts that got no answer: a timeout, a transport error.
    pub failed: usize,
    /// The first few failures, as the client saw them.
    pub failures: Vec<String>,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Connects {
    pub fn new(
        attempted: usize,
        times: &Histogram<u64>,
        refused: BTreeMap<String, usize>,
        failures: Vec<String>,
    ) -> Self {
        let ms = |micros: u64| micros as f64 / 1_000.0;
        Self {
            attempted,
            connected: times.len() as usize,
            refused,
            failed: failures.len(),
            failures: failures.into_iter().take(5).collect(),
            p50_ms: ms(times.value_at_quantile(0.5)),
            p99_ms: ms(times.value_at_quantile(0.99)),
            max_ms: ms(times.max()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub sent: u64,
    /// Every message to every connected client (the sender included: the seed's `io.emit`).
    pub expected: u64,
    pub delivered: u64,
    pub unique: u64,
    pub lost: u64,
    pub duplicates: u64,
    /// Arrived after a later message of the same sender.
    pub out_of_order: u64,
    /// Messages not in the bench's format (someone else's).
    pub foreign: u64,
    pub per_second: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl From<&Histogram<u64>> for Latency {
    fn from(histogram: &Histogram<u64>) -> Self {
        let ms = |quantile: f64| histogram.value_at_quantile(quantile) as f64 / 1_000.0;
        Self {
            p50_ms: ms(0.5),
            p95_ms: ms(0.95),
            p99_ms: ms(0.99),
            max_ms: histogram.max() as f64 / 1_000.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cost {
    /// From the first send to the last delivery.
    pub window_seconds: f64,
    pub server_cpu_seconds: f64,
    pub server_cpu_micros_per_delivery: Option<f64>,
    pub server_rss_before: u64,
    /// After every client connected and the server settled.
    pub server_rss_connected: u64,
    pub server_rss_after: u64,
    /// (connected − before) / connections.
    pub server_bytes_per_connection: Option<f64>,
    pub generator_cpu_seconds: f64,
    pub machine_busy_seconds: f64,
    pub cores: usize,
}

/// Something that makes a run's figures doubtful.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Warning(pub String);

impl Warning {
    pub fn check(cost: &Cost) -> Vec<Warning> {
        let mut warnings = Vec::new();
        let window = cost.window_seconds.max(f64::EPSILON);
        let generator = cost.generator_cpu_seconds / window;
        if generator > 0.9 {
            warnings.push(Warning(format!(
                "the generator used {:.0}% of its core: latencies include its own queueing",
                generator * 100.0
            )));
        }
        let others =
            (cost.machine_busy_seconds - cost.server_cpu_seconds - cost.generator_cpu_seconds)
                / window;
        if others > 0.15 {
            warnings.push(Warning(format!(
                "other processes kept {:.0}% of a core busy during the run",
                others * 100.0
            )));
        }
        let machine = cost.machine_busy_seconds / window / cost.cores.max(1) as f64;
        if machine > 0.95 {
            warnings.push(Warning(format!(
                "the machine was {:.0}% busy: the server was starved for CPU",
                machine * 100.0
            )));
        }
        warnings
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
        let (c, d, l, k) = (&self.connects, &self.delivery, &self.latency, &self.cost);
        writeln!(
            f,
            "== {} — {} clients, {} senders × {} msg/s, {} B",
            self.label, self.clients, self.senders, self.rate, self.payload_bytes
        )?;
        writeln!(
            f,
            "connect   {}/{} ok, {} failed; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            c.connected, c.attempted, c.failed, c.p50_ms, c.p99_ms, c.max_ms
        )?;
        for (reason, times) in &c.refused {
            writeln!(f, "          refused {times} times: {reason}")?;
        }
        for failure in &c.failures {
            writeln!(f, "          failure: {failure}")?;
        }
        if self.dropped > 0 {
            writeln!(
                f,
                "          {} dropped by the server after connecting",
                self.dropped
            )?;
        }
        writeln!(
            f,
            "delivery  sent {}, expected {}, unique {} ({:.0}/s); lost {}, duplicates {}, out of order {}",
            d.sent, d.expected, d.unique, d.per_second, d.lost, d.duplicates, d.out_of_order
        )?;
        writeln!(
            f,
            "latency   p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms
        )?;
        writeln!(
            f,
            "server    CPU {:.2} s ({}), RSS {:.1} → {:.1} → {:.1} MiB ({})",
            k.server_cpu_seconds,
            k.server_cpu_micros_per_delivery
                .map_or("no deliveries".into(), |us| format!(
                    "{us:.2} µs per delivery"
                )),
            mib(k.server_rss_before),
            mib(k.server_rss_connected),
            mib(k.server_rss_after),
            k.server_bytes_per_connection
                .map_or("no connections".into(), |b| format!(
                    "{:.1} KiB per connection",
                    b / 1024.0
                )),
        )?;
        writeln!(
            f,
            "generator CPU {:.2} s over {:.1} s; machine busy {:.2} CPU-s on {} cores",
            k.generator_cpu_seconds, k.window_seconds, k.machine_busy_seconds, k.cores
        )?;
        for warning in &self.warnings {
            writeln!(f, "WARNING   {}", warning.0)?;
        }
        Ok(())
    }
}
