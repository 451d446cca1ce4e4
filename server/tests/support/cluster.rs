//! A cluster for tests: server processes (the real binary) sharing a Redis server of the test's
//! own and a fresh PostgreSQL database.
//!
//! They need PostgreSQL (`CHAT_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432/test`,
//! a role that may create databases) and `redis-server` on PATH. `scripts/test` checks both
//! first: without them it sets `CHAT_CLUSTER_TESTS=skip` and says so, unless
//! `CHAT_REQUIRE_CLUSTER=1` (as in CI) makes their absence a failure.

use std::{
    io::{BufRead, BufReader},
    net::{SocketAddr, TcpListener},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use sqlx::{raw_sql, AssertSqlSafe, Connection, Executor, PgConnection};

use super::Address;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Whether this run skips the cluster tests (`scripts/test` decides and says why).
pub fn skipped() -> bool {
    let skip = std::env::var("CHAT_CLUSTER_TESTS").is_ok_and(|value| value == "skip");
    if skip {
        eprintln!(
            "cluster test skipped: CHAT_CLUSTER_TESTS=skip (PostgreSQL or redis-server absent)"
        );
    }
    skip
}

/// `n` nodes on loopback ports, one Redis, one database; all stopped (and the database
/// dropped) on drop.
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub redis: Redis,
    pub database: Database,
}

impl Cluster {
    pub async fn start(n: usize) -> Self {
        let redis = Redis::start();
        let database = Database::create().await;
        let nodes = (0..n)
            .map(|_| Node::start(&database.url, &redis.url()))
            .collect();
        Self {
            nodes,
            redis,
            database,
        }
    }
}

/// The server binary: this package's own, or — from another package's tests, which share these
/// fixtures (the CLI's) — the one `cargo test` built beside them.
fn server_binary() -> std::path::PathBuf {
    match option_env!("CARGO_BIN_EXE_server") {
        Some(binary) => binary.into(),
        None => {
            let test = std::env::current_exe().expect("the test binary has a path");
            // target/<profile>/deps/<test> → target/<profile>/server
            let profile = test.parent().and_then(|deps| deps.parent());
            profile.expect("tests run from target/").join("server")
        }
    }
}

/// One server process.
pub struct Node {
    pub addr: SocketAddr,
    process: Child,
}

impl Address for Node {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Node {
    /// A node of the cluster whose database is at `database_url`, reaching Redis at
    /// `redis_url` (the cluster's, or a way to it of the test's own).
    pub fn start(database_url: &str, redis_url: &str) -> Self {
        Self::start_with(
            "127.0.0.1:0",
            &[("DATABASE_URL", database_url), ("REDIS_URL", redis_url)],
        )
    }

    /// A server process on `addr` (port 0: any free one) with `env` set, without flood control.
    pub fn start_with(addr: &str, env: &[(&str, &str)]) -> Self {
        let mut process = Command::new(server_binary())
            .args(["--addr", addr])
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            // No flood control: the tests send as fast as they can, from one address.
            .env("CHAT_MESSAGE_BURST", "0")
            .env("CHAT_ADDRESS_MESSAGE_BURST", "0")
            .env("CHAT_MAX_CONNECTIONS_PER_ADDRESS", "0")
            .env("CHAT_ADDRESS_HANDSHAKE_BURST", "0")
            .env("CHAT_ADDRESS_REQUEST_BURST", "0")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let addr = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                let (_, addr) = line.split_once("listening on http://")?;
                addr.trim().parse().ok()
            })
            .expect("the node says where it listens");
        // Keep draining its log so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { addr, process }
    }

    /// Kills the node without warning, as a crash would.
    pub fn kill(&mut self) {
        self.process.kill().ok();
        self.process.wait().ok();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A Redis server of the test's own, on a free port, keeping nothing on disk.
pub struct Redis {
    pub port: u16,
    process: Child,
}

impl Redis {
    pub fn start() -> Self {
        let port = free_port();
        Self {
            port,
            process: Self::spawn(port),
        }
    }

    /// Kills the server (SIGKILL, as a crash would), then starts an empty one on the same port
    /// once `down` has run.
    pub async fn crash_then_restart(&mut self, down: impl AsyncFnOnce()) {
        self.process.kill().ok();
        self.process.wait().ok();
        down().await;
        self.process = Self::spawn(self.port);
    }

    fn spawn(port: u16) -> Child {
        let process = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is on PATH");
        wait_for_port(port);
        process
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.process.kill().ok();
        self.process.wait().ok();
    }
}

/// A PostgreSQL database of the test's own.
pub struct Database {
    pub url: String,
    name: String,
}

impl Database {
    pub async fn create() -> Self {
        static CREATED: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "chat_test_{}_{}",
            std::process::id(),
            CREATED.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = admin().await;
        // One statement at a time: several in one string would run as a transaction.
        for statement in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin
                .execute(raw_sql(AssertSqlSafe(statement)))
                .await
                .unwrap();
        }
        let server = postgres_url();
        let (base, _) = server.rsplit_once('/').expect("a database URL ends in /DB");
        Self {
            url: format!("{base}/{name}"),
            name,
        }
    }

    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.unwrap()
    }

    /// Takes the database away from its clients (their connections are closed and new ones
    /// refused) or gives it back, as an outage of the database server would, without touching
    /// the server other tests share.
    pub async fn set_reachable(&self, reachable: bool) {
        let name = &self.name;
        let mut admin = admin().await;
        let allow = format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {reachable}");
        admin.execute(raw_sql(AssertSqlSafe(allow))).await.unwrap();
        if !reachable {
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            )
            .bind(name)
            .execute(&mut admin)
            .await
            .unwrap();
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside any runtime worker; a thread of its own may block on a small one.
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    let mut admin = admin().await;
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    admin.execute(raw_sql(AssertSqlSafe(drop))).await.ok();
                })
        })
        .join()
        .ok();
    }
}

fn postgres_url() -> String {
    std::env::var("CHAT_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned())
}

async fn admin() -> PgConnection {
    let url = postgres_url();
    PgConnection::connect(&url)
        .await
        .unwrap_or_else(|error| panic!("PostgreSQL at {url} (CHAT_TEST_POSTGRES): {error}"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < super::PATIENCE,
            "nothing listens on port {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
