//! `loadgen`: drives Socket.IO chat clients against a running server (or several nodes) from one
//! core and reports delivery, latency and what it cost the server.
//!
//!   loadgen --url http://127.0.0.1:3000 --pid $(pgrep -f target/release/server) \
//!           --clients 1000 --senders 10 --rate 5 --duration 10

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use bench::{client::Transport, probe, run};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Server base URL (`http://host:port`); repeat it to spread the clients over several nodes.
    #[arg(long = "url", required = true)]
    urls: Vec<String>,
    /// A server process to measure (CPU, memory); repeat it for every node of a cluster.
    #[arg(long = "pid", required = true)]
    pids: Vec<u32>,
    /// How clients reach the server.
    #[arg(long, value_enum, default_value_t = Transport::Websocket)]
    transport: Transport,
    /// A name for the run in the report.
    #[arg(long, default_value = "run")]
    label: String,
    /// Clients to connect; all of them receive.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// How many of the clients also send.
    #[arg(long, default_value_t = 10)]
    senders: usize,
    /// Messages per second, per sender.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Bytes of text per message.
    #[arg(long, default_value_t = 128)]
    payload: usize,
    /// Handshakes in flight at once.
    #[arg(long, default_value_t = 256)]
    connect_concurrency: usize,
    /// How many addresses of 127.0.0.0/8 the clients come from, in turn: people in a room come
    /// from many, and the server counts its crowds by address (1: all from 127.0.0.1).
    #[arg(long, default_value_t = 1)]
    addresses: usize,
    /// The handshake's `auth` object, as JSON (empty: none, like the seed's page).
    #[arg(long, default_value = "")]
    auth: String,
    /// Seconds to let the server settle after the last connection (before memory is read).
    #[arg(long, default_value_t = 2.0)]
    settle: f64,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let plan = run::Plan {
        label: args.label,
        urls: args.urls,
        transport: args.transport,
        server: probe::Processes(args.pids),
        clients: args.clients,
        senders: args.senders.min(args.clients),
        rate: args.rate,
        duration: Duration::from_secs_f64(args.duration),
        payload_bytes: args.payload,
        connect_concurrency: args.connect_concurrency.max(1),
        addresses: args.addresses,
        auth: args.auth,
        connect_timeout: Duration::from_secs(20),
        settle: Duration::from_secs_f64(args.settle),
        drain: Duration::from_secs(30),
    };
    // One thread: the generator's cost is one core, whatever the client count.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = tokio::task::LocalSet::new().block_on(&runtime, run::run(plan))?;
    print!("{report}");
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
