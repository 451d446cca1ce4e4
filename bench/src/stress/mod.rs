//! The stress test: people chatting at a human pace while a reconnect storm of thousands of
//! clients and a few flooders hit a server that runs with its production limits.
//!
//! What must hold on any machine, however busy, decides whether it passes: people lose nothing
//! (no loss, no duplicate, nothing out of order, nobody dropped) and every message reaches them
//! eventually (a liveness bound of seconds, not a latency target); every storm client is
//! admitted or refused with a reason; the flooders are refused (`too_fast`) and cut off; once
//! the storm is over the server has its connections back and its memory under a generous bound.
//! Latency, CPU and memory are reported, never judged: they depend on what else the machine
//! does, and they belong in `docs/BENCHMARKS.md` (`bench/run` runs this against both servers).
//!
//! Each part connects from addresses of its own in 127.0.0.0/8, so to the server's per-address
//! limits the storm is many households, each flooder one more, and the people another.

use std::{
    cell::RefCell,
    fmt,
    rc::Rc,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use tokio::task::spawn_local;

use crate::{
    client::{loopback_address, Client, ClientError, Connector, Transport},
    probe::{self, Processes},
    report::{Connects, Report},
    run::{connect_all, run_during, Crowd, Plan},
};

#[derive(Debug, Clone)]
pub struct StressPlan {
    /// The people: a chat run whose sending window the storm and the flooders share (its
    /// duration is theirs plus `settle`, whatever the plan says).
    pub people: Plan,
    pub storm: Storm,
    /// Clients sending as fast as they can, each from an address of its own.
    pub flooders: usize,
    /// After the storm, how long the server gets before its memory is read.
    pub settle: Duration,
    pub bounds: Bounds,
}

/// Waves a storm has at least, however long they take: the second one is what tests the
/// server's recovery from the first.
const MIN_WAVES: usize = 2;

/// How long the server may take, after the storm and `settle`, to count its connections back
/// to what they were: it notices a dropped TCP connection at once on loopback, unless the machine
/// is too busy to run it.
const CONNECTIONS_PATIENCE: Duration = Duration::from_secs(30);

/// Waves of clients that all connect at once, stay a moment, and all drop at once (no goodbye:
/// their TCP connections just close), again and again, as after a network cut.
#[derive(Debug, Clone)]
pub struct Storm {
    pub clients: usize,
    /// How many addresses the storm's clients come from.
    pub addresses: usize,
    /// How long the waves go on.
    pub duration: Duration,
    /// How long a wave stays connected before it drops.
    pub hold: Duration,
    /// Each client's time to be admitted or refused; past it, the attempt failed.
    pub connect_timeout: Duration,
    /// Handshakes in flight at once.
    pub concurrency: usize,
}

/// What the run must stay within to pass: what holds on any machine that works, however busy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bounds {
    /// Liveness: the longest a delivery to the people may take (every message arrives, late or
    /// not). Not a latency target: that is the reported p50/p99, compared in BENCHMARKS.md.
    pub max_delivery_ms: f64,
    /// How far above its baseline the server's memory may stay once the storm is over.
    pub memory_growth_bytes: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct StressReport {
    pub people: Report,
    pub storm: StormReport,
    pub flood: FloodReport,
    pub server: ServerReport,
    pub bounds: Bounds,
    /// Every bound the run broke (none: it passed).
    pub failures: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct StormReport {
    pub waves: Vec<Connects>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FloodReport {
    pub sent: u64,
    pub accepted: u64,
    /// Refused with the `too_fast` acknowledgement.
    pub refused_too_fast: u64,
    /// Times the server cut a flooder off.
    pub cut_off: u64,
    /// Connections the server refused to a flooder (its address's own limit).
    pub connections_refused: u64,
}

/// What the server looked like before the storm, at its worst, and once it was over. The
/// connections are its `chat_connections` gauge (none for a server without `/metrics`: the
/// seed's).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ServerReport {
    pub connections_before: Option<u64>,
    pub connections_after: Option<u64>,
    pub rss_before: u64,
    pub rss_peak: u64,
    pub rss_after: u64,
}

/// Runs `plan` against the server at `plan.people.urls[0]`, whose `/metrics` it reads. Must be
/// called inside a `LocalSet`.
pub async fn stress(mut plan: StressPlan) -> anyhow::Result<StressReport> {
    plan.people.duration = plan.storm.duration + plan.settle + Duration::from_secs(2);
    let url = plan.people.urls[0].clone();
    let server = plan.people.server.clone();
    let (storm, flood) = (plan.storm.clone(), plan.flooders);
    let settle = plan.settle;
    let (people, outcome) = run_during(plan.people, async move {
        let mut report = ServerReport {
            connections_before: connections(&url).await?,
            rss_before: server.rss_bytes()?,
            ..ServerReport::default()
        };
        let until = Instant::now() + storm.duration;
        let (storm, flood, peak) = tokio::join!(
            waves(&url, &storm, until),
            flood_until(&url, flood, until),
            peak_rss(&server, until),
        );
        tokio::time::sleep(settle).await;
        report.rss_peak = peak?;
        report.rss_after = server.rss_bytes()?;
        report.connections_after = connections_back_to(&url, report.connections_before).await?;
        anyhow::Ok((storm, flood, report))
    })
    .await?;
    let (storm, flood, server) = outcome?;
    let mut report = StressReport {
        people,
        storm,
        flood,
        server,
        bounds: plan.bounds,
        failures: Vec::new(),
    };
    report.failures = report.broken_bounds();
    Ok(report)
}

impl StressReport {
    fn broken_bounds(&self) -> Vec<String> {
        let (people, server, flood) = (&self.people, &self.server, &self.flood);
        let mut failures = Vec::new();
        let mut check = |ok: bool, what: String| {
            if !ok {
                failures.push(what);
            }
        };
        check(
            people.connects.failed == 0
                && people.connects.refused.is_empty()
                && people.dropped == 0,
            format!(
                "people: {} failed to connect, {} refused, {} dropped",
                people.connects.failed,
                people.connects.refused.values().sum::<usize>(),
                people.dropped
            ),
        );
        let delivery = &people.delivery;
        check(
            delivery.sent > 0 && delivery.lost == 0 && delivery.duplicates == 0,
            format!(
                "people: {} sent, {} lost, {} duplicated",
                delivery.sent, delivery.lost, delivery.duplicates
            ),
        );
        check(
            delivery.out_of_order == 0,
            format!("people: {} out of order", delivery.out_of_order),
        );
        check(
            people.latency.max_ms <= self.bounds.max_delivery_ms,
            format!(
                "people: a delivery took {:.0} ms, over the liveness bound of {:.0} ms",
                people.latency.max_ms, self.bounds.max_delivery_ms
            ),
        );
        // Refused with a reason (a `connect_error` the client can show) is an answer; silence
        // is not.
        check(
            self.storm.waves.len() >= MIN_WAVES
                && self
                    .storm
                    .waves
                    .iter()
                    .all(|wave| wave.failed == 0 && wave.connected > 0),
            format!(
                "storm: {} waves, (admitted, failed) {:?}",
                self.storm.waves.len(),
                self.storm
                    .waves
                    .iter()
                    .map(|wave| (wave.connected, wave.failed))
                    .collect::<Vec<_>>()
            ),
        );
        check(
            flood.refused_too_fast > 0 && flood.cut_off > 0,
            format!(
                "flood: {} refused too_fast, {} cut off",
                flood.refused_too_fast, flood.cut_off
            ),
        );
        check(
            server.connections_before.is_some()
                && server.connections_after == server.connections_before,
            format!(
                "server: {:?} connections after the storm, {:?} before",
                server.connections_after, server.connections_before
            ),
        );
        check(
            server.rss_after <= server.rss_before + self.bounds.memory_growth_bytes,
            format!(
                "server: {} MiB after the storm, {} MiB before (bound: {} MiB more)",
                mib(server.rss_after),
                mib(server.rss_before),
                mib(self.bounds.memory_growth_bytes)
            ),
        );
        failures
    }
}

/// The storm's clients are people of another room, a crowded one: what they cost the people is
/// the server's work for them (handshakes, presence, departures), not their room's traffic.
const STORM_AUTH: &str = r#"{"room":"tormenta","name":"Tormenta"}"#;

/// Waves, back to back until `until` (and at least `MIN_WAVES`): all connect, stay `hold`, all
/// drop.
async fn waves(url: &str, storm: &Storm, until: Instant) -> StormReport {
    let connectors: Vec<Connector> = (0..storm.addresses.max(1))
        .map(|n| Connector::from_address(Transport::Websocket, Some(loopback_address(1, n))))
        .collect();
    let urls = [url.to_owned()];
    let mut report = StormReport::default();
    while report.waves.len() < MIN_WAVES || Instant::now() < until {
        let crowd = Crowd {
            count: storm.clients,
            urls: &urls,
            connectors: &connectors,
            auth: STORM_AUTH,
            timeout: storm.connect_timeout,
            concurrency: storm.concurrency,
        };
        let (clients, connects) = connect_all(crowd, |_, client| spawn_local(idle(client))).await;
        report.waves.push(connects);
        tokio::time::sleep(storm.hold).await;
        for client in clients {
            client.abort();
        }
    }
    report
}

/// A client that only keeps its connection alive.
async fn idle(mut client: Client) {
    while let Some(packet) = client.next_packet().await {
        if packet.as_str() == "2" && client.pong().await.is_err() {
            return;
        }
    }
}

/// `flooders` clients sending a message every millisecond, each coming back 100 ms after the
/// server cuts it off, until `until`.
async fn flood_until(url: &str, flooders: usize, until: Instant) -> FloodReport {
    let report = Rc::new(RefCell::new(FloodReport::default()));
    let tasks: Vec<_> = (0..flooders)
        .map(|n| {
            let connector =
                Connector::from_address(Transport::Websocket, Some(loopback_address(2, n)));
            let (url, report) = (url.to_owned(), report.clone());
            spawn_local(async move {
                while Instant::now() < until {
                    match connector.connect(&url, "", Duration::from_secs(10)).await {
                        Ok(client) => flood(client, &report, until).await,
                        Err(ClientError::Refused(_)) => {
                            report.borrow_mut().connections_refused += 1
                        }
                        Err(_) => {}
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.ok();
    }
    Rc::try_unwrap(report)
        .map(RefCell::into_inner)
        .unwrap_or_default()
}

/// One flooder's connection: sends with acknowledgements, counts the answers, until the server
/// cuts it off or `until`.
async fn flood(mut client: Client, report: &RefCell<FloodReport>, until: Instant) {
    let mut ticks = tokio::time::interval(Duration::from_millis(1));
    let mut ack = 0u64;
    loop {
        tokio::select! {
            packet = client.next_packet() => match packet {
                // `43<id>[{"ok":true,…}]` or `43<id>[{"error":"too_fast",…}]`
                Some(packet) if packet.starts_with("43") => {
                    let mut report = report.borrow_mut();
                    if packet.contains(r#""ok":true"#) {
                        report.accepted += 1;
                    } else if packet.contains(r#""error":"too_fast""#) {
                        report.refused_too_fast += 1;
                    }
                }
                Some(packet) if packet.as_str() == "2" => {
                    if client.pong().await.is_err() {
                        break;
                    }
                }
                // `41`: the server disconnected it.
                Some(packet) if packet.as_str() != "41" => {}
                _ => break,
            },
            _ = ticks.tick() => {
                if Instant::now() >= until {
                    return;
                }
                ack += 1;
                if client.send_with_ack(&format!("flood {ack}"), ack).await.is_err() {
                    break;
                }
                report.borrow_mut().sent += 1;
            }
        }
    }
    report.borrow_mut().cut_off += 1;
}

/// The highest resident memory of the server, sampled every 100 ms until `until`.
async fn peak_rss(server: &Processes, until: Instant) -> Result<u64, probe::ProbeError> {
    let mut peak = server.rss_bytes()?;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
        peak = peak.max(server.rss_bytes()?);
    }
    Ok(peak)
}

/// The server's `chat_connections` gauge; `None` if it has no `/metrics`.
async fn connections(url: &str) -> anyhow::Result<Option<u64>> {
    let response = reqwest::get(format!("{url}/metrics")).await?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let metrics = response.error_for_status()?.text().await?;
    let gauge = metrics
        .lines()
        .find_map(|line| line.strip_prefix("chat_connections ")?.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no chat_connections in {url}/metrics"))?;
    Ok(Some(gauge))
}

/// The gauge once it is back to `baseline`, or as it is after `CONNECTIONS_PATIENCE`.
async fn connections_back_to(url: &str, baseline: Option<u64>) -> anyhow::Result<Option<u64>> {
    let until = Instant::now() + CONNECTIONS_PATIENCE;
    loop {
        let now = connections(url).await?;
        if now == baseline || Instant::now() >= until {
            return Ok(now);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1 << 20) as f64)
}

impl fmt::Display for StressReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.people)?;
        writeln!(f, "storm waves (connected / attempted, connect p99):")?;
        for (n, wave) in self.storm.waves.iter().enumerate() {
            writeln!(
                f,
                "  {}: {} / {}, {:.0} ms, {} refused, {} failed",
                n + 1,
                wave.connected,
                wave.attempted,
                wave.p99_ms,
                wave.refused.values().sum::<usize>(),
                wave.failed
            )?;
            for (reason, times) in &wave.refused {
                writeln!(f, "     refused {times} times: {reason}")?;
            }
        }
        let flood = &self.flood;
        writeln!(
            f,
            "flood: {} sent, {} accepted, {} refused too_fast, cut off {} times, {} connections refused",
            flood.sent, flood.accepted, flood.refused_too_fast, flood.cut_off, flood.connections_refused
        )?;
        let server = &self.server;
        let count = |gauge: Option<u64>| gauge.map_or("?".to_owned(), |n| n.to_string());
        writeln!(
            f,
            "server: connections {} before, {} after; memory {} MiB before, {} MiB peak, {} MiB after",
            count(server.connections_before),
            count(server.connections_after),
            mib(server.rss_before),
            mib(server.rss_peak),
            mib(server.rss_after)
        )?;
        if self.failures.is_empty() {
            writeln!(f, "PASSED: within every bound")
        } else {
            writeln!(f, "FAILED:")?;
            self.failures
                .iter()
                .try_for_each(|failure| writeln!(f, "  {failure}"))
        }
    }
}
