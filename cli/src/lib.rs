//! `sala`: the chat from a terminal and from scripts, a reference client of the wire contract
//! in [`protocol`], on rust_socketio's websocket transport.
//!
//! The binary (`src/main.rs`) only parses its arguments and turns a [`Failure`] into its exit
//! code; everything else is here, so the integration tests drive the same code:
//!
//! - [`args`]: the command line (`--url`, `--name`, `--room`, and the `send` / `tail` scripts);
//! - [`link`]: one Socket.IO connection — the handshake with the identity kept in the
//!   [`profile`], the server's events as [`link::Incoming`], sending with acknowledgements, and
//!   reconnecting by itself;
//! - [`clock`]: times in the reader's own zone, and day names in Spanish;
//! - [`history`]: the room's history pages over HTTP ([`protocol::HISTORY_PAGE_PATH`]), to
//!   catch up after a gap without missing or repeating a message;
//! - [`outbox`]: exactly-once sending — client offsets, and which messages await their ack;
//! - [`script`]: `sala send` (one message, or one per line of stdin) and `sala tail`;
//! - [`tui`]: the full-screen client (ratatui): its state ([`tui::Screen`]), its drawing, and
//!   the loop that ties keys, the connection and the screen together;
//! - [`failure`]: everything that can go wrong, each with its one-line message and exit code.

pub mod args;
pub mod clock;
pub mod failure;
pub mod history;
pub mod link;
pub mod outbox;
pub mod profile;
pub mod script;
pub mod tui;

pub use failure::Failure;
