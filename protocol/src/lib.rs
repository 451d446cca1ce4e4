//! The wire contract between the server, the browser and every other Socket.IO client.
//!
//! Event names, payload shapes, limits and validation live here and nowhere else, so the
//! server, the hydrated page, the benchmark and the tests cannot drift apart. No Leptos, no
//! server: any Rust client can depend on it. `docs/protocol.md` describes the same contract for
//! people writing clients in other languages.
//!
//! - this file: the event names;
//! - [`message`]: what a client sends, what the server relays and stores, acknowledgements and
//!   their refusal codes, the replay bounds;
//! - [`change`]: editing and deleting one's own messages;
//! - [`identity`]: the handshake, server-issued [`Credentials`], names, rooms, presence;
//! - [`text`]: the one place a typed string (a message, a nickname) is checked and cleaned.
//!   Unicode NFC needs the default feature `nfc`; the page's WASM goes without it (the server
//!   normalises what it stores).

use std::time::Duration;

pub mod change;
pub mod identity;
pub mod message;
pub mod text;

pub use change::*;
pub use identity::*;
pub use message::*;
pub use text::*;

/// The seed's event, both ways: a client emits it with the text (and, optionally, metadata); the
/// server relays it to the room with the text and the stored message's metadata. Spanish because
/// the original wire protocol says so.
pub const NEW_MESSAGE: &str = "nuevo mensaje";
/// Server → client, first thing once admitted: the client's [`Credentials`].
pub const IDENTITY: &str = "identity";
/// Server → client: a batch of stored messages the client has not seen, oldest first.
pub const HISTORY: &str = "history";
/// Server → client, before a replay bounded by [`REPLAY_MAX_MESSAGES`] or [`REPLAY_MAX_BYTES`]:
/// which messages it leaves out ([`Skipped`]).
pub const HISTORY_SKIPPED: &str = "history skipped";
/// Server → client: who is in the room now (each person once, however many tabs).
pub const PRESENCE: &str = "presence";
/// Server → room: a person arrived (their first tab) or left (their last tab).
pub const USER_JOINED: &str = "user joined";
pub const USER_LEFT: &str = "user left";
/// Client → server without arguments; server → the rest of the room with [`UserEvent`].
pub const TYPING: &str = "typing";
pub const STOP_TYPING: &str = "stop typing";
/// How often one connection's [`TYPING`] reaches the room at most (the server drops the rest).
pub const TYPING_RELAYED_EVERY: Duration = Duration::from_secs(2);
/// A client says [`STOP_TYPING`] this long after the last key that changed its message.
pub const TYPING_IDLE: Duration = Duration::from_secs(3);
/// A client stops showing someone's [`TYPING`] if no new one came within this time (their
/// [`STOP_TYPING`] may be lost: both are volatile).
pub const TYPING_FADES_AFTER: Duration = Duration::from_secs(6);
/// Server → client: the rooms that have someone in them.
pub const ROOMS: &str = "rooms";

/// The engine's path, as a literal so that [`CLIENT_SCRIPT_PATH`] is built from it at compile
/// time.
macro_rules! engine_path {
    () => {
        "/socket.io"
    };
}

/// Where the Socket.IO engine listens: Socket.IO's default, which every client assumes. The
/// official client asks for it with a trailing `/` by default, and without one with
/// `addTrailingSlash: false`.
pub const ENGINE_PATH: &str = engine_path!();

/// The official browser client, minified, as the server serves it (as Node's socket.io does)
/// and the page loads it.
pub const CLIENT_SCRIPT_PATH: &str = concat!(engine_path!(), "/socket.io.min.js");

/// The same client, not minified.
pub const CLIENT_SCRIPT_FULL_PATH: &str = concat!(engine_path!(), "/socket.io.js");
