//! Every setting of the server, from flags or environment variables (`--help` lists them all).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{CommandFactory, FromArgMatches, Parser};
use leptos::config::{errors::LeptosConfigError, get_configuration, LeptosOptions};
use protocol::{DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_MESSAGE_CHARS};

use crate::{
    chat::Limits,
    flood::{FloodLimits, Rate},
    store::READ_CONNECTIONS,
};

/// A real-time chat: server-rendered Leptos page, WASM hydration, Socket.IO relay.
///
/// The remaining LEPTOS_* variables that cargo-leptos sets (LEPTOS_SITE_PKG_DIR, LEPTOS_ENV,
/// LEPTOS_RELOAD_PORT…) are read as Leptos documents them.
#[derive(Debug, Clone, Parser)]
#[command(name = "chat-server", version, about)]
pub struct Config {
    /// Address to listen on. Port 0 picks a free port (the log says which).
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Folder with the built site (pkg/ with the WASM, JS and CSS, plus the public assets), as
    /// `cargo leptos build` writes it. A server built with the `embedded-site` feature carries
    /// its site and does not read this.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Where the message history lives: `sqlite://FILE?mode=rwc` (created on first run; one
    /// node) or `postgres://USER@HOST/DB` (any number of nodes). Migrated at start.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://chat.db?mode=rwc",
        hide_env_values = true
    )]
    pub database_url: String,

    /// Connections to the database at most. With PostgreSQL, 3 of them are kept for reads and
    /// readiness, and the rest take rooms' turns to store messages (a room waiting for its turn
    /// holds one at most per node).
    #[arg(long, env = "CHAT_DATABASE_CONNECTIONS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(i64::from(READ_CONNECTIONS) + 1..))]
    pub database_connections: u32,

    /// Redis to share rooms, broadcasts and presence with the other nodes of a cluster
    /// (socketioxide's Redis adapter), e.g. `redis://127.0.0.1:6379`. Unset: a single node, all
    /// in memory. A cluster also needs a shared `DATABASE_URL` (PostgreSQL).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// The secret the server signs identity tokens with (`crate::identity`): at least 32
    /// characters, the same on every node of a cluster. Unset: one is made at the first start
    /// and kept in the database (`DATABASE_URL`), which a cluster's nodes share anyway.
    /// Changing it makes everybody somebody new.
    #[arg(long, env = "CHAT_IDENTITY_SECRET", hide_env_values = true,
          value_parser = identity_secret)]
    pub identity_secret: Option<String>,

    /// Longest message accepted, in characters.
    #[arg(long, env = "CHAT_MAX_MESSAGE_CHARS", default_value_t = DEFAULT_MAX_MESSAGE_CHARS as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_message_chars: u32,

    /// Largest frame a client may send, in bytes, on websocket and long-polling alike. A client
    /// that sends a larger one is disconnected.
    #[arg(long, env = "CHAT_MAX_FRAME_BYTES", default_value_t = DEFAULT_MAX_FRAME_BYTES as u32,
          value_parser = clap::value_parser!(u32).range(1024..))]
    pub max_frame_bytes: u32,

    /// Messages one connection may send in a burst (then `--messages-per-second`). 0: no limit
    /// per connection, for messages and typing signals. Over it a message is refused with the
    /// `too_fast` error.
    #[arg(long, env = "CHAT_MESSAGE_BURST", default_value_t = 20)]
    pub message_burst: u32,

    /// Messages per second one connection may go on sending after its burst.
    #[arg(long, env = "CHAT_MESSAGES_PER_SECOND", default_value_t = 5.0)]
    pub messages_per_second: f64,

    /// Messages all connections of one client address, and its no-JavaScript form posts,
    /// together may send in a burst. 0: no limit per address, for messages and typing signals.
    #[arg(long, env = "CHAT_ADDRESS_MESSAGE_BURST", default_value_t = 100)]
    pub address_message_burst: u32,

    /// Messages per second all connections of one client address may go on sending.
    #[arg(long, env = "CHAT_ADDRESS_MESSAGES_PER_SECOND", default_value_t = 50.0)]
    pub address_messages_per_second: f64,

    /// New Socket.IO connections one client address may open in a burst (then
    /// `--address-handshakes-per-second`); over it a handshake is refused with
    /// `too_many_handshakes`. 0: no limit.
    #[arg(long, env = "CHAT_ADDRESS_HANDSHAKE_BURST", default_value_t = 60)]
    pub address_handshake_burst: u32,

    /// New connections per second one client address may go on opening.
    #[arg(
        long,
        env = "CHAT_ADDRESS_HANDSHAKES_PER_SECOND",
        default_value_t = 2.0
    )]
    pub address_handshakes_per_second: f64,

    /// Reads one client address may make in a burst: room lists over its connections, room
    /// pages and history pages over HTTP (then `--address-requests-per-second`). 0: no limit.
    #[arg(long, env = "CHAT_ADDRESS_REQUEST_BURST", default_value_t = 60)]
    pub address_request_burst: u32,

    /// Reads per second one client address may go on making.
    #[arg(long, env = "CHAT_ADDRESS_REQUESTS_PER_SECOND", default_value_t = 10.0)]
    pub address_requests_per_second: f64,

    /// Messages or typing signals refused in a row for going too fast after which the
    /// connection is cut off; an address refused that many handshakes, posts or reads in a row
    /// cools down as if cut off. 0: never.
    #[arg(long, env = "CHAT_FLOOD_DISCONNECT_AFTER", default_value_t = 50)]
    pub flood_disconnect_after: u32,

    /// Seconds an address whose connection was cut off for flooding may not open new ones (they
    /// are refused with `cooling_down`); its other connections stay. 0: no cool-down.
    #[arg(long, env = "CHAT_FLOOD_COOLDOWN_SECONDS",
          default_value_t = protocol::DEFAULT_FLOOD_COOLDOWN.as_secs_f64())]
    pub flood_cooldown_seconds: f64,

    /// Socket.IO connections one client address may hold at once (tabs, people behind one NAT).
    /// 0: no limit.
    #[arg(long, env = "CHAT_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 200)]
    pub max_connections_per_address: u32,

    /// Take a client's address from the last entry of `X-Forwarded-For`, not from the TCP peer:
    /// set it behind a reverse proxy (nginx), and only then (clients could forge the header).
    #[arg(long, env = "CHAT_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Origins (`https://chat.example.org`) whose pages may open Socket.IO sessions and POST
    /// here, besides the site itself; comma-separated. Requests from any other page get 403.
    #[arg(long, env = "CHAT_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Seconds a stopping server (SIGTERM, SIGINT) gives its clients and its pending writes
    /// before it exits anyway. It stops accepting at once and tells every client to go.
    #[arg(long, env = "CHAT_SHUTDOWN_SECONDS", default_value_t = 10.0)]
    pub shutdown_seconds: f64,

    /// Seconds a connection may leave what the server sends it unread (its receive window shut:
    /// it stopped reading) before the kernel closes it (`TCP_USER_TIMEOUT`). A client that
    /// stopped reading has its chat session closed at once, but its connection's writer waits
    /// on the socket until this. 0: the system's default (minutes, or never).
    #[arg(long, env = "CHAT_STALLED_READER_SECONDS", default_value_t = 30.0)]
    pub stalled_reader_seconds: f64,

    /// Log lines as human-readable text or as one JSON object per line (for a log collector).
    /// What is logged is chosen with RUST_LOG (default `info`); the websocket library's frame
    /// logs, which would carry private tokens, stay at `info` whatever it says.
    #[arg(long, env = "CHAT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// The defaults, as if started with no flags and no environment: what tests start from. The
    /// environment is not read at all, so that a developer's exported `REDIS_URL` or `CHAT_*`
    /// cannot put the in-process tests in another configuration.
    pub fn defaults() -> Self {
        let without_environment = Self::command().mut_args(|arg| arg.env(None));
        let matches = without_environment.get_matches_from(["chat-server"]);
        Self::from_arg_matches(&matches).expect("the defaults parse")
    }

    /// How long a graceful shutdown may take.
    pub fn shutdown_grace(&self) -> Duration {
        seconds(self.shutdown_seconds)
    }

    /// How long a connection may leave the server's writes unread.
    pub fn stalled_reader(&self) -> Duration {
        seconds(self.stalled_reader_seconds)
    }

    pub fn flood_limits(&self) -> FloodLimits {
        // Typing follows the message settings' on/off: a page signals at most twice per message.
        let signals = |messages: u32, rate: Rate| (messages > 0).then_some(rate);
        FloodLimits {
            per_connection: [
                Rate::new(self.message_burst, self.messages_per_second),
                signals(self.message_burst, SIGNALS_PER_CONNECTION),
                None,
                None,
            ],
            per_address: [
                Rate::new(self.address_message_burst, self.address_messages_per_second),
                signals(self.address_message_burst, SIGNALS_PER_ADDRESS),
                Rate::new(
                    self.address_handshake_burst,
                    self.address_handshakes_per_second,
                ),
                Rate::new(self.address_request_burst, self.address_requests_per_second),
            ],
            disconnect_after: self.flood_disconnect_after,
            max_connections_per_address: self.max_connections_per_address,
            cooldown: seconds(self.flood_cooldown_seconds),
            trust_forwarded_for: self.trust_forwarded_for,
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_message_chars: self.max_message_chars as usize,
            max_frame_bytes: self.max_frame_bytes as usize,
        }
    }

    pub fn leptos_options(&self) -> Result<LeptosOptions, LeptosConfigError> {
        let mut options = get_configuration(None)?.leptos_options;
        options.site_addr = self.addr;
        options.site_root = self.site_root.to_string_lossy().into();
        Ok(options)
    }
}

/// The shortest identity secret accepted (`--identity-secret`'s help says the same).
const MIN_IDENTITY_SECRET_CHARS: usize = 32;

fn identity_secret(value: &str) -> Result<String, String> {
    if value.chars().count() >= MIN_IDENTITY_SECRET_CHARS {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "at least {MIN_IDENTITY_SECRET_CHARS} characters: it is all that keeps identities \
             from being forged"
        ))
    }
}

/// Typing signals one connection may send: the page sends one "typing" and one "stop" per
/// message at most, and the server relays a "typing" at most every
/// [`TYPING_RELAYED_EVERY`](protocol::TYPING_RELAYED_EVERY) anyway; this is what a page never
/// reaches.
const SIGNALS_PER_CONNECTION: Rate = Rate {
    burst: 10.0,
    per_second: 2.0,
};

/// Typing signals all connections of one address may send (a household or an office of up to
/// `--max-connections-per-address` people).
const SIGNALS_PER_ADDRESS: Rate = Rate {
    burst: 200.0,
    per_second: 50.0,
};

/// A URL as it may be logged: its password (`postgres://chat:secret@db/chat`, or a `password`
/// query parameter) replaced by `***`. Something that does not parse as a URL, or parses with
/// an `@` after its host (a password with an unescaped `/` or `#` does either), keeps only its
/// scheme and what follows the last `@`: it may hold a password we cannot find.
pub fn redacted(url: &str) -> String {
    const HIDDEN: &str = "***";
    let unparsed = || match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://{HIDDEN}@{host}"),
        (Some((scheme, _)), None) => format!("{scheme}://{HIDDEN}"),
        (None, _) => HIDDEN.to_owned(),
    };
    let Ok(mut parsed) = url::Url::parse(url) else {
        return unparsed();
    };
    let after_host = [Some(parsed.path()), parsed.query(), parsed.fragment()];
    if after_host
        .into_iter()
        .flatten()
        .any(|part| part.contains('@'))
    {
        return unparsed();
    }
    if parsed.password().is_some() {
        // Only a URL that cannot have a password refuses one; this one had one.
        parsed.set_password(Some(HIDDEN)).ok();
    }
    if parsed.query_pairs().any(|(key, _)| key == "password") {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let value = if key == "password" {
                    HIDDEN.into()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// A setting in seconds as a duration; a negative or impossible value means none.
fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::{redacted, Config};

    #[test]
    fn the_defaults_ignore_the_environment() {
        // No other test of this binary reads these variables.
        std::env::set_var("CHAT_MAX_MESSAGE_CHARS", "7");
        std::env::set_var("REDIS_URL", "redis://127.0.0.1:1");
        let defaults = Config::defaults();
        std::env::remove_var("CHAT_MAX_MESSAGE_CHARS");
        std::env::remove_var("REDIS_URL");
        assert_eq!(
            defaults.max_message_chars as usize,
            protocol::DEFAULT_MAX_MESSAGE_CHARS
        );
        assert_eq!(defaults.redis_url, None);
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(
            redacted("postgres://chat:s3cret@db.internal:5432/chat"),
            "postgres://chat:***@db.internal:5432/chat"
        );
        assert_eq!(
            redacted("redis://:hunter2@127.0.0.1:6379"),
            "redis://:***@127.0.0.1:6379"
        );
        assert_eq!(
            redacted("postgres://chat@db/chat"),
            "postgres://chat@db/chat"
        );
        assert_eq!(
            redacted("sqlite://chat.db?mode=rwc"),
            "sqlite://chat.db?mode=rwc"
        );
        assert_eq!(
            redacted("postgres://db/chat?user=chat&password=s3cret&sslmode=require"),
            "postgres://db/chat?user=chat&password=***&sslmode=require"
        );
    }

    #[test]
    fn what_does_not_parse_shows_no_password_either() {
        // An unescaped "/" or "#" in a password makes it no URL.
        for url in [
            "postgres://chat:se/cret@db.internal/chat",
            "redis://:hun#ter2@127.0.0.1:6379",
            // Parses: host `chat`, port 5432, path `/cret@db.internal/chat`.
            "postgres://chat:5432/cret@db.internal/chat",
        ] {
            let shown = redacted(url);
            assert!(
                !shown.contains("cret") && !shown.contains("ter2"),
                "{shown}"
            );
        }
        assert_eq!(
            redacted("postgres://chat:se/cret@db.internal/chat"),
            "postgres://***@db.internal/chat"
        );
        assert_eq!(redacted("host=db password=s3cret"), "***");
    }
}
