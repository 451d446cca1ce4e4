//! `stress`: starts the server binary with its production limits on a history of its own, on
//! loopback, and puts it through the stress test (`bench::stress`): people chatting through a
//! reconnect storm and a flood. Prints the figures; exits non-zero if any bound was broken.
//!
//!   stress --server target/release/server

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, ExitCode, Stdio},
    time::Duration,
};

use anyhow::{bail, Context};
use bench::{
    client::Transport,
    probe::Processes,
    run::Plan,
    stress::{stress, Bounds, Storm, StressPlan},
};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The server binary to start.
    #[arg(long)]
    server: PathBuf,
    /// People in the room; all of them receive.
    #[arg(long, default_value_t = 50)]
    people: usize,
    /// How many of the people talk.
    #[arg(long, default_value_t = 10)]
    talkers: usize,
    /// Messages per second, per talker (a brisk person; the default limit is 5/s).
    #[arg(long, default_value_t = 2.0)]
    rate: f64,
    /// Clients in each wave of the storm.
    #[arg(long, default_value_t = 3_000)]
    storm_clients: usize,
    /// Addresses the storm comes from (the default cap is 200 connections per address).
    #[arg(long, default_value_t = 20)]
    storm_addresses: usize,
    /// Seconds the storm lasts.
    #[arg(long, default_value_t = 30.0)]
    storm_seconds: f64,
    /// Seconds each wave stays connected before it drops.
    #[arg(long, default_value_t = 3.0)]
    hold: f64,
    #[arg(long, default_value_t = 2)]
    flooders: usize,
    /// Seconds the server gets after the storm before its memory is read.
    #[arg(long, default_value_t = 5.0)]
    settle: f64,
    /// Bound: the people's broadcast latency, 99th percentile, in milliseconds.
    #[arg(long, default_value_t = 500.0)]
    max_p99_ms: f64,
    /// Bound: MiB the server's resident memory may stay above its baseline after the storm
    /// (glibc keeps some of a storm's peak as fragments: docs/hardening.md, "Stress").
    #[arg(long, default_value_t = 32)]
    max_growth_mib: u64,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    let history = tempfile::tempdir()?;
    let server = Server::start(&args.server, &history.path().join("chat.db"))?;
    let url = format!("http://{}", server.addr);
    let plan = StressPlan {
        people: Plan {
            label: "people".into(),
            urls: vec![url],
            transport: Transport::Websocket,
            server: Processes(vec![server.process.id()]),
            clients: args.people,
            senders: args.talkers.min(args.people),
            rate: args.rate,
            // Set by `stress` from the storm's.
            duration: Duration::ZERO,
            payload_bytes: 128,
            connect_concurrency: 16,
            auth: String::new(),
            connect_timeout: Duration::from_secs(20),
            settle: Duration::from_secs(1),
            drain: Duration::from_secs(10),
        },
        storm: Storm {
            clients: args.storm_clients,
            addresses: args.storm_addresses,
            duration: Duration::from_secs_f64(args.storm_seconds),
            hold: Duration::from_secs_f64(args.hold),
            concurrency: 500,
        },
        flooders: args.flooders,
        settle: Duration::from_secs_f64(args.settle),
        bounds: Bounds {
            latency_p99_ms: args.max_p99_ms,
            memory_growth_bytes: args.max_growth_mib << 20,
        },
    };
    // One thread: the generator's cost is one core, as for `loadgen`.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = tokio::task::LocalSet::new().block_on(&runtime, stress(plan))?;
    drop(server);
    print!("{report}");
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The server under test, with the production defaults but for its address and history.
struct Server {
    addr: String,
    process: Child,
}

impl Server {
    fn start(binary: &PathBuf, database: &std::path::Path) -> anyhow::Result<Self> {
        let mut process = Command::new(binary)
            .args(["--addr", "127.0.0.1:0"])
            .arg("--database-url")
            .arg(format!("sqlite://{}?mode=rwc", database.display()))
            .env("RUST_LOG", "warn,server=info")
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut lines = BufReader::new(process.stdout.take().expect("piped")).lines();
        let Some(addr) = lines.by_ref().map_while(Result::ok).find_map(|line| {
            let (_, addr) = line.split_once("listening on http://")?;
            Some(addr.trim().to_owned())
        }) else {
            process.kill().ok();
            bail!("{} did not say where it listens", binary.display());
        };
        // Keep draining its log so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self { addr, process })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.process.kill().ok();
        self.process.wait().ok();
    }
}
