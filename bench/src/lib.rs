//! The chat's load generator as a library: `loadgen` (src/main.rs) is its command line, and the
//! test suite runs it against the real server to check that it counts right.
//!
//! - [`client`]: a Socket.IO client of the chat, over WebSocket or long-polling, from a chosen
//!   loopback address.
//! - [`payload`]: the text the senders send, which says who sent it, which one it is and when.
//! - [`run`]: one run of the generator: clients connect, senders send, everyone counts.
//! - [`report`]: a run's figures, as a table and as JSON.
//! - [`probe`]: what a process and the machine spend, from `/proc`.
//! - [`stress`]: the stress test, people chatting through a reconnect storm and a flood (the
//!   `stress` binary).

pub mod client;
pub mod payload;
pub mod probe;
pub mod report;
pub mod run;
pub mod stress;
