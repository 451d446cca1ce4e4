//! What a stress run found: the people's run, each part's figures, the server's, and which
//! bounds were broken.

use serde::{Deserialize, Serialize};

use super::plan::Bounds;
use crate::report::{Connects, Report};

#[derive(Debug, Serialize, Deserialize)]
pub struct StressReport {
    pub people: Report,
    pub storm: StormReport,
    pub flood: FloodReport,
    pub server: ServerReport,
    pub bounds: Bounds,
    /// Every bound the run broke (none: it passed).
    pub failures: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct StormReport {
    pub waves: Vec<Connects>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FloodReport {
    pub sent: u64,
    pub accepted: u64,
    /// Refused with the `too_fast` acknowledgement.
    pub refused_too_fast: u64,
    /// Times the server cut a flooder off.
    pub cut_off: u64,
    /// Connections the server refused to a flooder (its address's own limit).
    pub connections_refused: u64,
}

/// What the server looked like before the storm, at its worst, and once it was over. The
/// connections are its `chat_connections` gauge (none for a server without `/metrics`: the
/// seed's).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ServerReport {
    pub connections_before: Option<u64>,
    pub connections_after: Option<u64>,
    pub rss_before: u64,
    pub rss_peak: u64,
    pub rss_after: u64,
}
