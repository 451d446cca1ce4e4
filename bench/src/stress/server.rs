//! What the stress test reads off the server besides the people's run: its memory at its worst
//! and its `chat_connections` gauge.

use std::time::{Duration, Instant};

use crate::probe::{ProbeError, Processes};

/// How long the server may take, after the storm and `settle`, to count its connections back
/// to what they were: it notices a dropped TCP connection at once on loopback, unless the machine
/// is too busy to run it.
const CONNECTIONS_PATIENCE: Duration = Duration::from_secs(30);

/// The highest resident memory of the server, sampled every 100 ms until `until`.
pub(super) async fn peak_rss(server: &Processes, until: Instant) -> Result<u64, ProbeError> {
    let mut peak = server.rss_bytes()?;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
        peak = peak.max(server.rss_bytes()?);
    }
    Ok(peak)
}

/// The server's `chat_connections` gauge; `None` if it has no `/metrics`.
pub(super) async fn connections(url: &str) -> anyhow::Result<Option<u64>> {
    let response = reqwest::get(format!("{url}/metrics")).await?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let metrics = response.error_for_status()?.text().await?;
    let gauge = metrics
        .lines()
        .find_map(|line| line.strip_prefix("chat_connections ")?.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no chat_connections in {url}/metrics"))?;
    Ok(Some(gauge))
}

/// The gauge once it is back to `baseline`, or as it is after [`CONNECTIONS_PATIENCE`].
pub(super) async fn connections_back_to(
    url: &str,
    baseline: Option<u64>,
) -> anyhow::Result<Option<u64>> {
    let until = Instant::now() + CONNECTIONS_PATIENCE;
    loop {
        let now = connections(url).await?;
        if now == baseline || Instant::now() >= until {
            return Ok(now);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
