//! One run: connect every client, let the server settle, then have the senders send at their rate
//! while everyone counts what arrives; then the figures.
//!
//! Everything runs on one thread (a current-thread runtime and a `LocalSet`), so the generator
//! uses one core and shares its counters without locks.

use std::{
    cell::RefCell,
    collections::BTreeMap,
    future::Future,
    rc::Rc,
    time::{Duration, Instant},
};

use futures_util::{stream, StreamExt};
use hdrhistogram::Histogram;
use tokio::{sync::watch, task::spawn_local};

use crate::{
    client::{classify, loopback_address, Client, ClientError, Connector, Incoming, Transport},
    payload::Payload,
    probe::{self, Processes},
    report::{Connects, Cost, Delivery, Latency, Report, Warning},
};

/// What a run does.
#[derive(Debug, Clone)]
pub struct Plan {
    pub label: String,
    /// Servers, clients spread over them in turn.
    pub urls: Vec<String>,
    pub transport: Transport,
    /// The server's processes (each node of a cluster).
    pub server: Processes,
    pub clients: usize,
    /// The first `senders` clients send; every client receives.
    pub senders: usize,
    /// Messages per second, per sender.
    pub rate: f64,
    pub duration: Duration,
    pub payload_bytes: usize,
    /// Handshakes in flight at once.
    pub connect_concurrency: usize,
    /// How many addresses the clients come from, in turn (127.3.x.y); at most 1: the system's
    /// choice (127.0.0.1).
    pub addresses: usize,
    /// The `auth` of every handshake (JSON object, or empty).
    pub auth: String,
    pub connect_timeout: Duration,
    /// How long to wait for the server to settle after the last connection.
    pub settle: Duration,
    /// How long after the last send stragglers may still arrive.
    pub drain: Duration,
}

/// Where the plan's clients connect from.
fn connectors(plan: &Plan) -> Vec<Connector> {
    if plan.addresses <= 1 {
        return vec![Connector::new(plan.transport)];
    }
    (0..plan.addresses)
        .map(|n| Connector::from_address(plan.transport, Some(loopback_address(3, n))))
        .collect()
}

/// What every receiver tallies, shared by all on the one thread.
struct Tally {
    latency: Histogram<u64>,
    /// Per receiver, per sender: which sequence numbers arrived (a bit each).
    seen: Vec<Vec<Vec<u64>>>,
    /// Per receiver, per sender: the highest sequence number so far.
    highest: Vec<Vec<Option<u32>>>,
    deliveries: u64,
    duplicates: u64,
    out_of_order: u64,
    foreign: u64,
    last_delivery: Instant,
}

impl Tally {
    fn new(receivers: usize, senders: usize, started: Instant) -> Self {
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

    fn record(&mut self, receiver: usize, text: &str, started: Instant) {
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

    fn unique(&self) -> u64 {
        self.seen
            .iter()
            .flatten()
            .flatten()
            .map(|word| u64::from(word.count_ones()))
            .sum()
    }
}

/// Runs `plan` to the end. Must be called inside a `LocalSet`.
pub async fn run(plan: Plan) -> anyhow::Result<Report> {
    Ok(run_during(plan, async {}).await?.0)
}

/// Runs `plan` with `during` alongside from the moment the senders start — whatever else the
/// server must bear meanwhile (the stress test's storm and flooders) — and returns what `during`
/// returned with the report. Must be called inside a `LocalSet`.
pub async fn run_during<T>(
    plan: Plan,
    during: impl Future<Output = T>,
) -> anyhow::Result<(Report, T)> {
    let started = Instant::now();
    let rss_before = plan.server.rss_bytes()?;
    let tally = Rc::new(RefCell::new(Tally::new(
        plan.clients,
        plan.senders,
        started,
    )));
    let sent = Rc::new(RefCell::new(0u64));
    let dropped = Rc::new(RefCell::new(0usize));
    // When the senders may send, and until when: set once everyone is connected.
    let (go, window) = watch::channel(None::<(Instant, Instant)>);
    let every = Duration::from_secs_f64(1.0 / plan.rate.max(f64::MIN_POSITIVE));

    // Each client lives from its connection on (answering pings: a client that sat waiting
    // for the others would be dropped by the server's heartbeat).
    let crowd = Crowd {
        count: plan.clients,
        urls: &plan.urls,
        connectors: &connectors(&plan),
        auth: &plan.auth,
        timeout: plan.connect_timeout,
        concurrency: plan.connect_concurrency,
    };
    let (tasks, connects) = connect_all(crowd, |index, client| {
        let sending = (index < plan.senders && plan.rate > 0.0).then(|| Sending {
            sender: index as u32,
            every,
            window: window.clone(),
            payload_bytes: plan.payload_bytes,
            sent: sent.clone(),
        });
        let (tally, dropped) = (tally.clone(), dropped.clone());
        spawn_local(async move {
            if !chat(client, index, sending, tally, started).await {
                *dropped.borrow_mut() += 1;
            }
        })
    })
    .await;
    let connected = tasks.len();
    tokio::time::sleep(plan.settle).await;
    let rss_connected = plan.server.rss_bytes()?;

    let (server_cpu_start, own_cpu_start) = (
        plan.server.cpu_seconds()?,
        probe::cpu_seconds(std::process::id())?,
    );
    let (machine_start, cores) = probe::machine_busy_seconds()?;
    let window_start = Instant::now();
    let sending_until = window_start + plan.duration;
    go.send_replace(Some((window_start, sending_until)));

    // Wait for the sending window, then for stragglers: until everything expected arrived or
    // the drain time is up. Not "until nothing arrived for a while": on a busy machine a pause
    // is not a loss, and only the drain time says when late becomes lost.
    let drained = async {
        tokio::time::sleep_until(sending_until.into()).await;
        let drain_until = Instant::now() + plan.drain;
        loop {
            let expected = *sent.borrow() * connected as u64;
            if tally.borrow().unique() >= expected || Instant::now() >= drain_until {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let (during, ()) = tokio::join!(during, drained);
    let window = {
        let tally = tally.borrow();
        tally.last_delivery.max(sending_until) - window_start
    };
    let server_cpu = plan.server.cpu_seconds()? - server_cpu_start;
    let own_cpu = probe::cpu_seconds(std::process::id())? - own_cpu_start;
    let machine = probe::machine_busy_seconds()?.0 - machine_start;
    let rss_after = plan.server.rss_bytes()?;
    for task in tasks {
        task.abort();
    }

    let tally = tally.borrow();
    let sent = *sent.borrow();
    let expected = sent * connected as u64;
    let dropped = *dropped.borrow();
    let unique = tally.unique();
    let seconds = window.as_secs_f64();
    let delivery = Delivery {
        sent,
        expected,
        delivered: tally.deliveries,
        unique,
        lost: expected.saturating_sub(unique),
        duplicates: tally.duplicates,
        out_of_order: tally.out_of_order,
        foreign: tally.foreign,
        per_second: unique as f64 / seconds,
    };
    let latency = Latency::from(&tally.latency);
    let cost = Cost {
        window_seconds: seconds,
        server_cpu_seconds: server_cpu,
        server_cpu_micros_per_delivery: (unique > 0).then(|| server_cpu * 1e6 / unique as f64),
        server_rss_before: rss_before,
        server_rss_connected: rss_connected,
        server_rss_after: rss_after,
        server_bytes_per_connection: (connected > 0)
            .then(|| (rss_connected.saturating_sub(rss_before)) as f64 / connected as f64),
        generator_cpu_seconds: own_cpu,
        machine_busy_seconds: machine,
        cores,
    };
    let warnings = Warning::check(&cost);
    let report = Report {
        dropped,
        label: plan.label,
        clients: plan.clients,
        senders: plan.senders,
        rate: plan.rate,
        payload_bytes: plan.payload_bytes,
        connects,
        delivery,
        latency,
        cost,
        warnings,
    };
    Ok((report, during))
}

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

struct Sending {
    sender: u32,
    every: Duration,
    /// The sending window, once it is open.
    window: watch::Receiver<Option<(Instant, Instant)>>,
    payload_bytes: usize,
    sent: Rc<RefCell<u64>>,
}

/// One client's life: answer pings, count deliveries, and send in the window if it is a sender.
/// Returns false if the server closed the connection (aborted at the end of the run otherwise).
async fn chat(
    mut client: Client,
    receiver: usize,
    mut sending: Option<Sending>,
    tally: Rc<RefCell<Tally>>,
    started: Instant,
) -> bool {
    let mut ticks = tokio::time::interval(
        sending
            .as_ref()
            .map_or(Duration::from_secs(3600), |sending| sending.every),
    );
    // A late tick is sent at once: the offered rate holds even when the thread falls behind.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut until = None;
    let mut seq = 0u32;
    loop {
        let waiting = sending.is_some() && until.is_none();
        let window_opens = async {
            match sending.as_mut() {
                Some(sending) => sending
                    .window
                    .wait_for(Option::is_some)
                    .await
                    .ok()
                    .and_then(|w| *w),
                None => None,
            }
        };
        tokio::select! {
            Some((_, end)) = window_opens, if waiting => {
                until = Some(end);
                ticks.reset_immediately();
            }
            packet = client.next_packet() => match packet {
                Some(packet) => match classify(packet.as_str()) {
                    Incoming::Message(text) => tally.borrow_mut().record(receiver, text, started),
                    Incoming::Ping => {
                        if client.pong().await.is_err() {
                            return false;
                        }
                    }
                    Incoming::Other => {}
                },
                None => return false,
            },
            _ = ticks.tick(), if until.is_some_and(|end| Instant::now() < end) => {
                let sending = sending.as_ref().expect("only senders tick");
                let text = Payload {
                    sender: sending.sender,
                    seq,
                    micros: started.elapsed().as_micros() as u64,
                }
                .render(sending.payload_bytes);
                if client.send(&text).await.is_err() {
                    return false;
                }
                seq += 1;
                *sending.sent.borrow_mut() += 1;
            }
        }
    }
}
