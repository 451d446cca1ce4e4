//! The chat's load generator as a library: `loadgen` (src/main.rs) is its command line, and the
//! test suite runs it against the real server to check that it counts right.

pub mod client;
pub mod payload;
pub mod probe;
pub mod report;
pub mod run;
pub mod stress;
