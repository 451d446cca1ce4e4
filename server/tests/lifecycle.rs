//! The server binary as an operator runs it: JSON logs, and stopping on SIGTERM — clients told,
//! messages being stored finished, nothing lost, exit 0, within the grace period even when a
//! connection will not finish.

mod support;

use std::{
    io::{BufRead, BufReader, Lines, Write},
    net::{SocketAddr, TcpStream},
    process::{Child, ChildStdout, Command, ExitStatus, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use protocol::{Handshake, NEW_MESSAGE};
use rust_socketio::Payload;
use serde_json::{json, Value};
use sqlx::{Connection, SqliteConnection};
use support::{get, page_texts, Address, ChatClient, Transport};

/// The real binary, logging JSON on stdout, with its history in `history`.
struct Process {
    addr: SocketAddr,
    child: Child,
    /// Every log line after the "listening" one, as the process writes them.
    log: mpsc::Receiver<Value>,
}

impl Address for Process {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Process {
    fn start(history: &tempfile::TempDir, extra: &[&str]) -> Self {
        Self::start_logging(history, extra, "info")
    }

    /// Started with `RUST_LOG=filter`.
    fn start_logging(history: &tempfile::TempDir, extra: &[&str], filter: &str) -> Self {
        let database_url = format!(
            "sqlite://{}?mode=rwc",
            history.path().join("chat.db").display()
        );
        let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["--log-format", "json", "--database-url", &database_url])
            .args(if extra.contains(&"--addr") {
                &[][..]
            } else {
                &["--addr", "127.0.0.1:0"][..]
            })
            .args(extra)
            .env("RUST_LOG", filter)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = json_lines(&mut lines)
            .find_map(|line| {
                let message = line["fields"]["message"].as_str()?;
                message.strip_prefix("listening on http://")?.parse().ok()
            })
            .expect("the server logs, in JSON, where it listens");
        let (to_test, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in json_lines(&mut lines) {
                to_test.send(line).ok();
            }
        });
        Self { addr, child, log }
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; how it ended and how long it took.
    fn wait(&mut self, at_most: Duration) -> (ExitStatus, Duration) {
        let began = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, began.elapsed());
            }
            assert!(began.elapsed() < at_most, "still running after {at_most:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every line the process logged before it exited, whole.
    fn lines_until_exit(&self) -> Vec<String> {
        self.log.iter().map(|line| line.to_string()).collect()
    }

    /// The messages logged so far.
    fn logged(&self) -> Vec<String> {
        self.log
            .try_iter()
            .filter_map(|line| Some(line["fields"]["message"].as_str()?.to_owned()))
            .collect()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Waits until the server's `/metrics` has `line`.
async fn wait_for_metric(server: &Process, line: &str) {
    let seen = tokio::time::timeout(support::PATIENCE, async {
        while !get(server, "/metrics").await.1.lines().any(|l| l == line) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(seen.is_ok(), "no {line:?} in /metrics");
}

/// Each line parsed as JSON: a line that is not JSON fails the test.
fn json_lines(lines: &mut Lines<BufReader<ChildStdout>>) -> impl Iterator<Item = Value> + '_ {
    lines.map_while(Result::ok).map(|line| {
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("log line not JSON ({e}): {line}"))
    })
}

#[tokio::test]
async fn sigterm_lets_clients_go_keeps_messages_and_they_come_back_after_a_restart() {
    let history = support::history();
    let mut server = Process::start(&history, &[]);
    let mut ana = ChatClient::connect_reconnecting(&server, Transport::Websocket).await;
    assert!(ana.send("antes del reinicio").await.is_accepted());
    ana.next_message().await;

    server.terminate();
    let (status, _) = server.wait(Duration::from_secs(30));
    assert!(status.success(), "{status}");
    let logged = server.logged();
    assert!(logged.iter().any(|m| m == "shutting down"), "{logged:?}");
    assert!(logged.iter().any(|m| m == "stopped"), "{logged:?}");
    // The clients let go at once: the stop did not need its grace period.
    assert!(
        !logged.iter().any(|m| m.contains("stopping anyway")),
        "{logged:?}"
    );

    // The same address, as a restarted service has: the client finds it again by itself.
    let port = server.addr.port().to_string();
    let restarted = Process::start(&history, &["--addr", &format!("127.0.0.1:{port}")]);
    assert!(
        ana.wait_reconnected().await,
        "the client, cut off by the stop, reconnects to the restarted server"
    );
    assert!(ana.send("después del reinicio").await.is_accepted());
    assert_eq!(
        page_texts(&restarted, "/").await,
        ["antes del reinicio", "después del reinicio"],
        "nothing lost across the restart"
    );
}

#[tokio::test]
async fn a_connection_that_never_finishes_does_not_hold_the_stop_beyond_the_grace_period() {
    let history = support::history();
    let mut server = Process::start(&history, &["--shutdown-seconds", "1"]);
    // Half a request: the server would wait for the rest forever.
    let mut stuck = TcpStream::connect(server.addr).unwrap();
    stuck.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));

    server.terminate();
    // The wait bounds the stop (a server that never stopped fails here); how much later than
    // the grace period it stops depends on how busy the machine is, and is not a claim.
    let (status, took) = server.wait(Duration::from_secs(30));
    assert!(status.success(), "{status}");
    assert!(
        took >= Duration::from_millis(900),
        "stopped after {took:?}: before the grace period of 1 s was over"
    );
    let logged = server.logged();
    assert!(
        logged.iter().any(|m| m.contains("stopping anyway")),
        "{logged:?}"
    );
}

#[tokio::test]
async fn a_message_being_stored_when_the_stop_comes_is_stored_before_the_exit() {
    let history = support::history();
    let mut server = Process::start(&history, &[]);
    let ana = ChatClient::connect(&server, Transport::Websocket).await;
    // Another process holds the database's write lock: the message waits in the store (which
    // retries for 5 s) when the stop comes.
    let database = format!("sqlite://{}", history.path().join("chat.db").display());
    let mut blocker = SqliteConnection::connect(&database).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut blocker)
        .await
        .unwrap();
    let message = Payload::Text(vec![
        json!("en vuelo"),
        json!({"clientOffset": "u-vuelo-1"}),
    ]);
    ana.socket.emit(NEW_MESSAGE, message).await.unwrap();
    // The stop must find the message in the server's hands, waiting for the store.
    wait_for_metric(&server, "chat_messages_in_total 1").await;

    server.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server waits for the write"
    );
    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    let (status, _) = server.wait(Duration::from_secs(30));
    assert!(status.success(), "{status}");
    let stored: Vec<String> = sqlx::query_scalar("SELECT body FROM messages")
        .fetch_all(&mut blocker)
        .await
        .unwrap();
    assert_eq!(stored, ["en vuelo"], "stored before the process exited");
}

/// Runs the binary with `args` until it gives up; what it wrote.
fn failed_start(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .output()
        .expect("the server binary runs");
    assert!(!output.status.success(), "it cannot start");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn startup_errors_do_not_print_passwords() {
    // Port 1: nothing listens there, the connection is refused at once.
    let database = failed_start(&["--database-url", "postgres://chat:s3cret@127.0.0.1:1/chat"]);
    assert!(!database.contains("s3cret"), "{database}");
    assert!(
        database.contains("postgres://chat:***@127.0.0.1:1/chat"),
        "{database}"
    );

    let history = support::history();
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        history.path().join("chat.db").display()
    );
    let redis = failed_start(&[
        "--database-url",
        &sqlite,
        "--redis-url",
        "redis://:hunter2@127.0.0.1:1",
    ]);
    assert!(!redis.contains("hunter2"), "{redis}");
    assert!(redis.contains("redis://:***@127.0.0.1:1"), "{redis}");

    let unsupported = failed_start(&["--database-url", "mysql://root:toor@127.0.0.1/chat"]);
    assert!(!unsupported.contains("toor"), "{unsupported}");
}

#[tokio::test]
async fn private_tokens_never_reach_the_logs_even_at_the_finest_level() {
    let history = tempfile::tempdir().unwrap();
    // A directive for a module outranks one for its crate: both are asked for.
    let server = Process::start_logging(
        &history,
        &[],
        "trace,tungstenite::protocol=trace,tokio_tungstenite=trace",
    );
    let first = ChatClient::connect(&server, Transport::Websocket).await;
    let token = first.credentials.token.clone();
    // The token travels in a handshake, and its holder chats and leaves.
    let again = ChatClient::connect_as(
        &server,
        Transport::Polling,
        first.same_person(Handshake::default()),
    )
    .await;
    assert_eq!(again.credentials.person, first.credentials.person);
    assert!(again.send("hola").await.is_accepted());
    again.socket.disconnect().await.unwrap();
    first.socket.disconnect().await.unwrap();
    // Whatever the server logs about it comes within moments; the stop flushes the rest.
    server.terminate();
    let mut server = server;
    server.wait(Duration::from_secs(20));
    let lines = server.lines_until_exit();
    assert!(
        lines.len() > 10,
        "the server logged at trace level: {lines:?}"
    );
    let leaks: Vec<&String> = lines.iter().filter(|line| line.contains(&token)).collect();
    assert!(leaks.is_empty(), "a private token in the logs: {leaks:?}");
}

#[tokio::test]
async fn every_request_is_logged_with_its_status_and_duration_and_nothing_it_carried() {
    let history = tempfile::tempdir().unwrap();
    let server = Process::start(&history, &[]);
    assert_eq!(get(&server, "/").await.0, 200);
    assert_eq!(get(&server, "/nada").await.0, 404);
    let posted = reqwest::Client::new()
        .post(format!("{}/api/enviar", server.url()))
        .form(&[("room", "general"), ("text", "secreto del formulario")])
        .send()
        .await
        .unwrap()
        .status();
    assert!(posted.is_success() || posted.is_redirection(), "{posted}");
    // Socket.IO's own requests (long-polls, with their session ids) stay out at `info`.
    let client = ChatClient::connect(&server, Transport::Polling).await;
    assert!(client.send("secreto del socket").await.is_accepted());
    client.socket.disconnect().await.unwrap();
    server.terminate();
    let mut server = server;
    server.wait(Duration::from_secs(20));
    let lines: Vec<Value> = server
        .lines_until_exit()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|line| line["fields"]["message"] == "request")
        .map(|line| &line["fields"])
        .collect();
    let seen = |method: &str, path: &str, status: u64| {
        requests.iter().any(|fields| {
            fields["method"] == method
                && fields["path"] == path
                && fields["status"] == status
                && fields["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0)
        })
    };
    assert!(seen("GET", "/", 200), "{requests:?}");
    assert!(seen("GET", "/nada", 404), "{requests:?}");
    assert!(
        seen("POST", "/api/enviar", posted.as_u16().into()),
        "{requests:?}"
    );
    assert!(
        !requests.iter().any(|fields| fields["path"]
            .as_str()
            .is_some_and(|path| path.starts_with("/socket.io"))),
        "{requests:?}"
    );
    let all = lines.iter().map(Value::to_string).collect::<String>();
    assert!(!all.contains("secreto"), "a message's text in the log");
}
