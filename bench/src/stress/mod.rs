//! The stress test: people chatting at a human pace while a reconnect storm of thousands of
//! clients and a few flooders hit a server that runs with its production limits.
//!
//! What must hold on any machine, however busy, decides whether it passes: people lose nothing
//! (no loss, no duplicate, nothing out of order, nobody dropped) and every message reaches them
//! eventually (a liveness bound of seconds, not a latency target); every storm client is
//! admitted or refused with a reason; the flooders are refused (`too_fast`) and cut off; once
//! the storm is over the server has its connections back and its memory under a generous bound.
//! Latency, CPU and memory are reported, never judged: they depend on what else the machine
//! does, and they belong in `docs/BENCHMARKS.md` (`bench/run` runs this against both servers).
//!
//! Each part connects from addresses of its own in 127.0.0.0/8, so to the server's per-address
//! limits the storm is many households, each flooder one more, and the people another.
//!
//! - [`plan`]: what a run does ([`StressPlan`]) and the [`Bounds`] it must keep.
//! - [`storm`]: the reconnect storm's waves.
//! - [`flood`]: the flooders.
//! - [`server`]: what is read off the server (its peak memory, its connections gauge).
//! - [`report`]: what a run found ([`StressReport`]); [`verdict`] judges it against the bounds
//!   and [`output`] prints it.

pub mod flood;
pub mod output;
pub mod plan;
pub mod report;
pub mod server;
pub mod storm;
pub mod verdict;

use std::time::{Duration, Instant};

use self::{
    flood::flood_until,
    server::{connections, connections_back_to, peak_rss},
    storm::waves,
};
pub use self::{
    plan::{Bounds, Storm, StressPlan},
    report::{FloodReport, ServerReport, StormReport, StressReport},
};
use crate::{probe::Processes, run::run_during};

/// Runs `plan` against the server at `plan.people.urls[0]`, whose `/metrics` it reads. Must be
/// called inside a `LocalSet`.
pub async fn stress(mut plan: StressPlan) -> anyhow::Result<StressReport> {
    plan.people.duration = plan.storm.duration + plan.settle + Duration::from_secs(2);
    let url = plan.people.urls[0].clone();
    let server = plan.people.server.clone();
    let (people, outcome) = run_during(
        plan.people,
        storm_and_flood(url, server, plan.storm, plan.flooders, plan.settle),
    )
    .await?;
    let (storm, flood, server) = outcome?;
    let mut report = StressReport {
        people,
        storm,
        flood,
        server,
        bounds: plan.bounds,
        failures: Vec::new(),
    };
    report.failures = report.broken_bounds();
    Ok(report)
}

/// The storm and the flooders at the server at `url` while its memory is watched; then, once
/// `settle` has passed, the server's state after them.
async fn storm_and_flood(
    url: String,
    server: Processes,
    storm: Storm,
    flooders: usize,
    settle: Duration,
) -> anyhow::Result<(StormReport, FloodReport, ServerReport)> {
    let mut report = ServerReport {
        connections_before: connections(&url).await?,
        rss_before: server.rss_bytes()?,
        ..ServerReport::default()
    };
    let until = Instant::now() + storm.duration;
    let (storm, flood, peak) = tokio::join!(
        waves(&url, &storm, until),
        flood_until(&url, flooders, until),
        peak_rss(&server, until),
    );
    tokio::time::sleep(settle).await;
    report.rss_peak = peak?;
    report.rss_after = server.rss_bytes()?;
    report.connections_after = connections_back_to(&url, report.connections_before).await?;
    Ok((storm, flood, report))
}
