//! A stress run's figures as a table for people (its JSON is the [`StressReport`]'s serde form).

use std::fmt;

use super::report::StressReport;

/// `bytes` in MiB, to one decimal.
pub(super) fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1 << 20) as f64)
}

impl fmt::Display for StressReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.people)?;
        writeln!(f, "storm waves (connected / attempted, connect p99):")?;
        for (n, wave) in self.storm.waves.iter().enumerate() {
            writeln!(
                f,
                "  {}: {} / {}, {:.0} ms, {} refused, {} failed",
                n + 1,
                wave.connected,
                wave.attempted,
                wave.p99_ms,
                wave.refused.values().sum::<usize>(),
                wave.failed
            )?;
            for (reason, times) in &wave.refused {
                writeln!(f, "     refused {times} times: {reason}")?;
            }
        }
        let flood = &self.flood;
        writeln!(
            f,
            "flood: {} sent, {} accepted, {} refused too_fast, cut off {} times, {} connections refused",
            flood.sent, flood.accepted, flood.refused_too_fast, flood.cut_off, flood.connections_refused
        )?;
        let server = &self.server;
        let count = |gauge: Option<u64>| gauge.map_or("?".to_owned(), |n| n.to_string());
        writeln!(
            f,
            "server: connections {} before, {} after; memory {} MiB before, {} MiB peak, {} MiB after",
            count(server.connections_before),
            count(server.connections_after),
            mib(server.rss_before),
            mib(server.rss_peak),
            mib(server.rss_after)
        )?;
        if self.failures.is_empty() {
            writeln!(f, "PASSED: within every bound")
        } else {
            writeln!(f, "FAILED:")?;
            self.failures
                .iter()
                .try_for_each(|failure| writeln!(f, "  {failure}"))
        }
    }
}
