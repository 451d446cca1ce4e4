//! One run: connect every client, let the server settle, then have the senders send at their rate
//! while everyone counts what arrives; then the figures.
//!
//! Everything runs on one thread (a current-thread runtime and a `LocalSet`), so the generator
//! uses one core and shares its counters without locks.
//!
//! - [`crowd`]: connecting many clients at once ([`connect_all`]), which the stress test's storm
//!   uses too.
//! - [`chat`](mod@chat): one client's life during the run.
//! - [`tally`]: what the receivers count.
//! - [`cost`]: what the run cost in CPU and memory.

pub mod chat;
pub mod cost;
pub mod crowd;
pub mod tally;

use std::{
    cell::RefCell,
    future::Future,
    rc::Rc,
    time::{Duration, Instant},
};

use tokio::{
    sync::watch,
    task::{spawn_local, JoinHandle},
};

pub use self::crowd::{connect_all, Crowd};
use self::{
    chat::{chat, Sending, Window},
    cost::{CpuSeconds, Memory},
    tally::Tally,
};
use crate::{
    client::{loopback_address, Connector, Transport},
    probe::Processes,
    report::{Connects, Latency, Report, Warning},
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

/// What the clients of a run count, shared by all on the one thread.
struct Counters {
    tally: Rc<RefCell<Tally>>,
    /// Messages sent, by every sender.
    sent: Rc<RefCell<u64>>,
    /// Clients the server disconnected after they had connected.
    dropped: Rc<RefCell<usize>>,
}

impl Counters {
    fn new(plan: &Plan, started: Instant) -> Self {
        Self {
            tally: Rc::new(RefCell::new(Tally::new(
                plan.clients,
                plan.senders,
                started,
            ))),
            sent: Rc::new(RefCell::new(0)),
            dropped: Rc::new(RefCell::new(0)),
        }
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
    let counters = Counters::new(&plan, started);
    // When the senders may send, and until when: set once everyone is connected.
    let (go, window) = watch::channel(None);
    let (clients, connects) = connect_clients(&plan, &counters, window, started).await;
    let connected = clients.len();
    tokio::time::sleep(plan.settle).await;
    let rss_connected = plan.server.rss_bytes()?;

    let (cpu_start, cores) = CpuSeconds::so_far(&plan.server)?;
    let window_start = Instant::now();
    let sending_until = window_start + plan.duration;
    go.send_replace(Some((window_start, sending_until)));
    let delivered = wait_for_deliveries(&counters, connected, sending_until, plan.drain);
    let (during, ()) = tokio::join!(during, delivered);
    let window = counters.tally.borrow().last_delivery.max(sending_until) - window_start;
    let cpu = CpuSeconds::so_far(&plan.server)?.0.since(cpu_start);
    let rss_after = plan.server.rss_bytes()?;
    for client in clients {
        client.abort();
    }

    let tally = counters.tally.borrow();
    let delivery = tally.delivery(*counters.sent.borrow(), connected, window.as_secs_f64());
    let memory = Memory {
        before: rss_before,
        connected: rss_connected,
        after: rss_after,
    };
    let cost = cost::cost(window, cpu, cores, memory, connected, delivery.unique);
    let report = Report {
        dropped: *counters.dropped.borrow(),
        label: plan.label,
        clients: plan.clients,
        senders: plan.senders,
        rate: plan.rate,
        payload_bytes: plan.payload_bytes,
        connects,
        delivery,
        latency: Latency::from(&tally.latency),
        warnings: Warning::check(&cost),
        cost,
    };
    Ok((report, during))
}

/// Connects the plan's clients, each living its [`chat`](fn@chat) from its connection on
/// (answering pings: a client that sat waiting for the others would be dropped by the server's
/// heartbeat). Returns their tasks, to abort at the end, and how connecting went.
async fn connect_clients(
    plan: &Plan,
    counters: &Counters,
    window: watch::Receiver<Window>,
    started: Instant,
) -> (Vec<JoinHandle<()>>, Connects) {
    let every = Duration::from_secs_f64(1.0 / plan.rate.max(f64::MIN_POSITIVE));
    let crowd = Crowd {
        count: plan.clients,
        urls: &plan.urls,
        connectors: &connectors(plan),
        auth: &plan.auth,
        timeout: plan.connect_timeout,
        concurrency: plan.connect_concurrency,
    };
    connect_all(crowd, |index, client| {
        let sending = (index < plan.senders && plan.rate > 0.0).then(|| Sending {
            sender: index as u32,
            every,
            window: window.clone(),
            payload_bytes: plan.payload_bytes,
            sent: counters.sent.clone(),
        });
        let (tally, dropped) = (counters.tally.clone(), counters.dropped.clone());
        spawn_local(async move {
            if !chat(client, index, sending, tally, started).await {
                *dropped.borrow_mut() += 1;
            }
        })
    })
    .await
}

/// Waits for the sending window to close at `sending_until`, then for stragglers: until everything
/// expected arrived at the `connected` clients or `drain` is up. Not "until nothing arrived for a
/// while": on a busy machine a pause is not a loss, and only the drain time says when late
/// becomes lost.
async fn wait_for_deliveries(
    counters: &Counters,
    connected: usize,
    sending_until: Instant,
    drain: Duration,
) {
    tokio::time::sleep_until(sending_until.into()).await;
    let drain_until = Instant::now() + drain;
    loop {
        let expected = *counters.sent.borrow() * connected as u64;
        if counters.tally.borrow().unique() >= expected || Instant::now() >= drain_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
