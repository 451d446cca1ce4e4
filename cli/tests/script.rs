//! The real `sala` binary against the real server: `send` and `tail`, what browser-protocol
//! clients see of them, and how they fail.

#[path = "../../server/tests/support/mod.rs"]
mod support;

use std::{process::Stdio, time::Duration};

use protocol::{ChatMessage, Handshake, DEFAULT_MAX_MESSAGE_CHARS};
use support::{
    cluster::Node, config_on, history, Address, ChatClient, TestServer, Transport, PATIENCE,
};
use tempfile::TempDir;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines},
    process::{Child, ChildStdout, Command},
};

/// `sala` talking to `url`, with a profile of its own in `profile`.
fn sala(url: &str, profile: &TempDir) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sala"));
    command
        .env("SALA_URL", url)
        .env("SALA_CONFIG_DIR", profile.path())
        .env_remove("SALA_NAME")
        .env_remove("SALA_ROOM")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// What a finished `sala` said: exit code, stdout, stderr.
async fn finished(command: &mut Command) -> (i32, String, String) {
    let output = tokio::time::timeout(PATIENCE, command.output())
        .await
        .expect("sala finishes in time")
        .expect("sala runs");
    (
        output.status.code().expect("sala exits, not killed"),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[tokio::test]
async fn a_message_sent_is_stored_once_and_reaches_the_room() {
    let history = history();
    let server = TestServer::start(&history).await;
    let mut reader = ChatClient::connect(&server, Transport::Websocket).await;
    let profile = tempfile::tempdir().unwrap();

    let (code, stdout, stderr) = finished(sala(&server.url(), &profile).args([
        "send",
        "--name",
        "Bot",
        "hola desde la terminal",
    ]))
    .await;
    assert_eq!(code, 0, "{stderr}");
    let id: i64 = stdout.trim().parse().expect("send prints the stored id");

    let seen = reader.next_message().await;
    assert_eq!(seen.text, "hola desde la terminal");
    assert_eq!((seen.meta.id, seen.meta.user.as_str()), (id, "Bot"));
    assert_eq!(seen.meta.client_offset, None, "nobody else sees its key");

    // The same person the second time (the profile kept its identity), under the same name.
    let (code, _, stderr) =
        finished(sala(&server.url(), &profile).args(["send", "otra vez"])).await;
    assert_eq!(code, 0, "{stderr}");
    let again = reader.next_message().await;
    assert_eq!(again.meta.person, seen.meta.person);
    assert_eq!(again.meta.user, "Bot");

    // Another profile is another person.
    let elsewhere = tempfile::tempdir().unwrap();
    finished(sala(&server.url(), &elsewhere).args(["send", "soy otro"])).await;
    assert_ne!(reader.next_message().await.meta.person, seen.meta.person);
    server.stop().await;
}

#[tokio::test]
async fn stdin_sends_each_line_in_order() {
    let history = history();
    let server = TestServer::start(&history).await;
    let mut reader = ChatClient::connect(&server, Transport::Websocket).await;
    let profile = tempfile::tempdir().unwrap();

    let mut child = sala(&server.url(), &profile)
        .args(["send", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all("uno\n\n   \ndos\ntres ñ\n".as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap().lines().count(), 3);
    for text in ["uno", "dos", "tres ñ"] {
        assert_eq!(reader.next_text().await, text, "blank lines are skipped");
    }
    server.stop().await;
}

/// A running `sala tail --json`: its lines as messages.
struct Tail {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Tail {
    fn start(server: &impl Address, profile: &TempDir, args: &[&str]) -> Self {
        let mut child = sala(&server.url(), profile)
            .args(["tail", "--json"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Self { child, lines }
    }

    async fn next(&mut self) -> ChatMessage {
        let line = tokio::time::timeout(PATIENCE, self.lines.next_line())
            .await
            .expect("tail prints in time")
            .unwrap()
            .expect("tail still runs");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    async fn texts(&mut self, n: usize) -> Vec<String> {
        let mut texts = Vec::new();
        for _ in 0..n {
            texts.push(self.next().await.text);
        }
        texts
    }

    /// Asserts that nothing more is printed for a while.
    async fn assert_quiet(&mut self) {
        let more = tokio::time::timeout(Duration::from_millis(500), self.lines.next_line()).await;
        assert!(more.is_err(), "printed more: {more:?}");
    }
}

#[tokio::test]
async fn tail_prints_the_history_then_live_messages() {
    let history = history();
    let server = TestServer::start(&history).await;
    let writer = ChatClient::connect(&server, Transport::Websocket).await;
    let mut ids = Vec::new();
    for text in ["uno", "dos", "tres"] {
        ids.push(writer.send(text).await);
    }
    let profile = tempfile::tempdir().unwrap();

    let mut all = Tail::start(&server, &profile, &["--since", "0"]);
    assert_eq!(all.texts(3).await, ["uno", "dos", "tres"]);
    let first = all.next_after_sending(&writer, "cuatro").await;
    assert_eq!(first.text, "cuatro");
    assert_eq!(first.meta.user, "Anónimo");
    assert!(!first.meta.person.is_empty());
    all.assert_quiet().await;

    // From an id on: only what follows it.
    let protocol::Ack::Accepted {
        id: Some(second), ..
    } = ids[1]
    else {
        panic!("stored");
    };
    let mut later = Tail::start(&server, &profile, &["--since", &second.to_string()]);
    assert_eq!(later.texts(2).await, ["tres", "cuatro"]);
    later.assert_quiet().await;

    // Other rooms' messages are not this room's.
    let elsewhere = ChatClient::connect_as(
        &server,
        Transport::Websocket,
        Handshake {
            room: Some("otra".into()),
            ..Handshake::default()
        },
    )
    .await;
    elsewhere.send("en otra sala").await;
    all.assert_quiet().await;
    drop((all, later));
    server.stop().await;
}

impl Tail {
    async fn next_after_sending(&mut self, writer: &ChatClient, text: &str) -> ChatMessage {
        writer.send(text).await;
        self.next().await
    }
}

#[tokio::test]
async fn tail_survives_a_restart_and_prints_each_message_once_in_order() {
    let history = history();
    let mut server = TestServer::start(&history).await;
    let profile = tempfile::tempdir().unwrap();
    let mut tail = Tail::start(&server, &profile, &["--since", "0"]);
    let mut expected = Vec::new();
    for round in 0..3 {
        let writer = ChatClient::connect(&server, Transport::Websocket).await;
        // While tail is (re)connecting after the restart: these reach it through the pages.
        for n in 0..20 {
            let text = format!("ronda {round} mensaje {n}");
            writer.send(&text).await;
            expected.push(text);
        }
        // Once it is surely back: these reach it live.
        let printed = tail.texts(20).await;
        assert_eq!(printed, expected[expected.len() - 20..], "round {round}");
        for n in 20..25 {
            let text = format!("ronda {round} mensaje {n}");
            writer.send(&text).await;
            expected.push(text);
        }
        assert_eq!(tail.texts(5).await, expected[expected.len() - 5..]);
        drop(writer);
        server = server.restart(&history).await;
    }
    tail.assert_quiet().await;
    tail.child.kill().await.ok();
    server.stop().await;
}

#[tokio::test]
async fn tail_survives_the_server_killed_and_started_again() {
    let history = history();
    let database = format!(
        "sqlite://{}?mode=rwc",
        history.path().join("chat.db").display()
    );
    let env = [("DATABASE_URL", database.as_str())];
    let mut node = Node::start_with("127.0.0.1:0", &env);
    let addr = node.addr.to_string();
    let profile = tempfile::tempdir().unwrap();
    let mut tail = Tail::start(&node, &profile, &["--since", "0"]);
    let mut expected = Vec::new();
    for round in 0..2 {
        let writer = ChatClient::connect(&node, Transport::Websocket).await;
        for n in 0..10 {
            let text = format!("vida {round} mensaje {n}");
            writer.send(&text).await;
            expected.push(text);
        }
        assert_eq!(tail.texts(10).await, expected[expected.len() - 10..]);
        // As a crash: no goodbye to anybody, the history as it was on disk.
        node.kill();
        node = Node::start_with(&addr, &env);
    }
    let writer = ChatClient::connect(&node, Transport::Websocket).await;
    writer.send("después del último").await;
    assert_eq!(tail.next().await.text, "después del último");
    tail.assert_quiet().await;
}

#[tokio::test]
async fn refusals_exit_with_the_reason_and_a_code_of_their_own() {
    let history = history();
    let server = TestServer::start(&history).await;
    let profile = tempfile::tempdir().unwrap();
    let url = server.url();

    let too_long = "x".repeat(DEFAULT_MAX_MESSAGE_CHARS + 1);
    let (code, stdout, stderr) = finished(sala(&url, &profile).args(["send", &too_long])).await;
    assert_eq!((code, stdout.as_str()), (5, ""), "{stderr}");
    assert_eq!(stderr, "sala: El mensaje es demasiado largo. (too_long)\n");

    // Over the frame limit, refused before it is sent (the server would cut the connection).
    let (code, _, stderr) =
        finished(sala(&url, &profile).args(["send", &"x".repeat(70_000)])).await;
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("por trama"), "{stderr}");

    let (code, _, stderr) = finished(sala(&url, &profile).args(["send", "a\u{202e}b"])).await;
    assert_eq!(code, 7, "{stderr}");
    assert!(stderr.ends_with("(bad_characters)\n"), "{stderr}");

    let (code, _, stderr) =
        finished(sala(&url, &profile).args(["send", "--room", "Sala Mayor", "hola"])).await;
    assert_eq!(code, 4, "{stderr}");
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        ["sala: el servidor rechazó la conexión: El nombre de la sala solo admite letras minúsculas, cifras, «-» y «_» (hasta 40)."]
    );

    let (code, _, stderr) =
        finished(sala(&url, &profile).args(["send", "--name", "", "hola"])).await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("El nombre debe tener"), "{stderr}");
    server.stop().await;

    // Nobody there.
    let (code, _, stderr) = finished(sala(&url, &profile).args(["send", "hola"])).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.starts_with(&format!("sala: no se puede conectar con {url}")),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line, no trace: {stderr}");

    let (code, _, stderr) = finished(sala(&url, &profile).args(["tail"])).await;
    assert_eq!(code, 3, "{stderr}");
}

#[tokio::test]
async fn a_script_that_sends_too_fast_is_told_so() {
    let history = history();
    // The production limits: a burst of 20 per connection, then 5 a second.
    let server = TestServer::start_with(config_on(&history)).await;
    let profile = tempfile::tempdir().unwrap();
    let mut child = sala(&server.url(), &profile)
        .args(["send", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let lines: String = (0..60).map(|n| format!("mensaje {n}\n")).collect();
    stdin.write_all(lines.as_bytes()).await.unwrap();
    drop(stdin);
    let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    assert!(stderr.ends_with("(too_fast)\n"), "{stderr}");
    let stored = String::from_utf8(output.stdout).unwrap().lines().count();
    assert!(
        (20..60).contains(&stored),
        "the burst went through: {stored}"
    );
    server.stop().await;
}

#[test]
fn without_a_terminal_and_without_a_command_it_says_what_to_use() {
    let profile = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sala"))
        .env("SALA_CONFIG_DIR", profile.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("sala send") && stderr.contains("sala tail"),
        "{stderr}"
    );
}
