//! What a stress run does: the people, the storm, the flooders, and the bounds it must keep.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::run::Plan;

#[derive(Debug, Clone)]
pub struct StressPlan {
    /// The people: a chat run whose sending window the storm and the flooders share (its
    /// duration is theirs plus `settle`, whatever the plan says).
    pub people: Plan,
    pub storm: Storm,
    /// Clients sending as fast as they can, each from an address of its own.
    pub flooders: usize,
    /// After the storm, how long the server gets before its memory is read.
    pub settle: Duration,
    pub bounds: Bounds,
}

/// Waves a storm has at least, however long they take: the second one is what tests the
/// server's recovery from the first.
pub(super) const MIN_WAVES: usize = 2;

/// Waves of clients that all connect at once, stay a moment, and all drop at once (no goodbye:
/// their TCP connections just close), again and again, as after a network cut.
#[derive(Debug, Clone)]
pub struct Storm {
    pub clients: usize,
    /// How many addresses the storm's clients come from.
    pub addresses: usize,
    /// How long the waves go on.
    pub duration: Duration,
    /// How long a wave stays connected before it drops.
    pub hold: Duration,
    /// Each client's time to be admitted or refused; past it, the attempt failed.
    pub connect_timeout: Duration,
    /// Handshakes in flight at once.
    pub concurrency: usize,
}

/// What the run must stay within to pass: what holds on any machine that works, however busy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bounds {
    /// Liveness: the longest a delivery to the people may take (every message arrives, late or
    /// not). Not a latency target: that is the reported p50/p99, compared in BENCHMARKS.md.
    pub max_delivery_ms: f64,
    /// How far above its baseline the server's memory may stay once the storm is over.
    pub memory_growth_bytes: u64,
}
