//! `stress`: puts a server through the stress test (`bench::stress`): people chatting through a
//! reconnect storm and a flood. Prints the figures; exits non-zero if any bound was broken.
//!
//!   stress --server target/release/server        # starts it: production limits, own history
//!   stress --url http://127.0.0.1:3900 --pid N --report-only   # a running one (bench/run)

use std::{
    collections::VecDeque,
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, ExitCode, Stdio},
    sync::{Arc, Mutex},
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
    /// The server binary to start, on loopback with its production limits and a fresh history.
    #[arg(long, required_unless_present = "url", conflicts_with_all = ["url", "pid"])]
    server: Option<PathBuf>,
    /// A server already running (instead of `--server`).
    #[arg(long, requires = "pid")]
    url: Option<String>,
    /// The process id of the server at `--url`, whose memory and CPU are read.
    #[arg(long, requires = "url")]
    pid: Option<u32>,
    /// Print the figures and exit 0 whatever they are (benchmarks, and servers without our
    /// limits: the seed's).
    #[arg(long)]
    report_only: bool,
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
    /// Addresses the storm comes from: households reconnecting after a network cut, a few tabs
    /// each (the server takes 60 new connections at once per address, then 2 a second).
    #[arg(long, default_value_t = 600)]
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
    /// Liveness bound: the longest any delivery to the people may take, in milliseconds. Not a
    /// latency target (a busy machine may take seconds); latency is reported, never judged.
    #[arg(long, default_value_t = 10_000.0)]
    max_delivery_ms: f64,
    /// Bound: MiB the server's resident memory may stay above its baseline after the storm.
    /// Generous: glibc keeps some of a storm's peak as fragments (docs/hardening.md, "Stress");
    /// a leak of the storm's connections is several times more.
    #[arg(long, default_value_t = 64)]
    max_growth_mib: u64,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    let history = tempfile::tempdir()?;
    let (server, url, pid) = match (&args.server, &args.url, args.pid) {
        (Some(binary), _, _) => {
            let server = Server::start(binary, &history.path().join("chat.db"))?;
            let (url, pid) = (format!("http://{}", server.addr), server.process.id());
            (Some(server), url, pid)
        }
        (None, Some(url), Some(pid)) => (None, url.clone(), pid),
        _ => bail!("either --server, or --url with --pid"),
    };
    let plan = StressPlan {
        people: Plan {
            label: "people".into(),
            urls: vec![url],
            transport: Transport::Websocket,
            server: Processes(vec![pid]),
            clients: args.people,
            senders: args.talkers.min(args.people),
            rate: args.rate,
            // Set by `stress` from the storm's.
            duration: Duration::ZERO,
            payload_bytes: 128,
            connect_concurrency: 16,
            addresses: 1,
            auth: String::new(),
            connect_timeout: Duration::from_secs(30),
            settle: Duration::from_secs(1),
            // Longer than the liveness bound: a delivery later than the bound is reported as
            // such, not as lost.
            drain: Duration::from_secs_f64(args.max_delivery_ms / 1000.0 * 3.0),
        },
        storm: Storm {
            clients: args.storm_clients,
            addresses: args.storm_addresses,
            duration: Duration::from_secs_f64(args.storm_seconds),
            hold: Duration::from_secs_f64(args.hold),
            connect_timeout: Duration::from_secs(30),
            concurrency: 500,
        },
        flooders: args.flooders,
        settle: Duration::from_secs_f64(args.settle),
        bounds: Bounds {
            max_delivery_ms: args.max_delivery_ms,
            memory_growth_bytes: args.max_growth_mib << 20,
        },
    };
    // One thread: the generator's cost is one core, as for `loadgen`.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = tokio::task::LocalSet::new().block_on(&runtime, stress(plan))?;
    let warnings = server.as_ref().map(Server::warnings).unwrap_or_default();
    drop(server);
    print!("{report}");
    if !report.failures.is_empty() && !warnings.is_empty() {
        println!("the server's last warnings and errors:");
        warnings.iter().for_each(|line| println!("  {line}"));
    }
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if args.report_only || report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The server under test, with the production defaults but for its address and history.
struct Server {
    addr: String,
    process: Child,
    /// Its last [`KEPT_WARNINGS`] warnings and errors, for a failed run to show.
    warnings: Arc<Mutex<VecDeque<String>>>,
}

/// How many of the server's warning and error lines a failed run shows.
const KEPT_WARNINGS: usize = 30;

impl Server {
    fn start(binary: &std::path::Path, database: &std::path::Path) -> anyhow::Result<Self> {
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
        let warnings = Arc::new(Mutex::new(VecDeque::new()));
        let kept = warnings.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if line.contains("WARN") || line.contains("ERROR") {
                    let mut kept = kept.lock().unwrap();
                    if kept.len() == KEPT_WARNINGS {
                        kept.pop_front();
                    }
                    kept.push_back(line);
                }
            }
        });
        Ok(Self {
            addr,
            process,
            warnings,
        })
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.lock().unwrap().iter().cloned().collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.process.kill().ok();
        self.process.wait().ok();
    }
}
