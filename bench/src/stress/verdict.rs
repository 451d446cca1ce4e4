//! Whether a stress run passed: each of the [`Bounds`](super::Bounds) and what must hold on any
//! machine, checked against the [`StressReport`].

use super::{output::mib, plan::MIN_WAVES, report::StressReport};

impl StressReport {
    /// Every bound the run broke, each said in a line.
    pub(super) fn broken_bounds(&self) -> Vec<String> {
        let (people, server, flood) = (&self.people, &self.server, &self.flood);
        let mut failures = Vec::new();
        let mut check = |ok: bool, what: String| {
            if !ok {
                failures.push(what);
            }
        };
        check(
            people.connects.failed == 0
                && people.connects.refused.is_empty()
                && people.dropped == 0,
            format!(
                "people: {} failed to connect, {} refused, {} dropped",
                people.connects.failed,
                people.connects.refused.values().sum::<usize>(),
                people.dropped
            ),
        );
        let delivery = &people.delivery;
        check(
            delivery.sent > 0 && delivery.lost == 0 && delivery.duplicates == 0,
            format!(
                "people: {} sent, {} lost, {} duplicated",
                delivery.sent, delivery.lost, delivery.duplicates
            ),
        );
        check(
            delivery.out_of_order == 0,
            format!("people: {} out of order", delivery.out_of_order),
        );
        check(
            people.latency.max_ms <= self.bounds.max_delivery_ms,
            format!(
                "people: a delivery took {:.0} ms, over the liveness bound of {:.0} ms",
                people.latency.max_ms, self.bounds.max_delivery_ms
            ),
        );
        // Refused with a reason (a `connect_error` the client can show) is an answer; silence
        // is not.
        check(
            self.storm.waves.len() >= MIN_WAVES
                && self
                    .storm
                    .waves
                    .iter()
                    .all(|wave| wave.failed == 0 && wave.connected > 0),
            format!(
                "storm: {} waves, (admitted, failed) {:?}",
                self.storm.waves.len(),
                self.storm
                    .waves
                    .iter()
                    .map(|wave| (wave.connected, wave.failed))
                    .collect::<Vec<_>>()
            ),
        );
        check(
            flood.refused_too_fast > 0 && flood.cut_off > 0,
            format!(
                "flood: {} refused too_fast, {} cut off",
                flood.refused_too_fast, flood.cut_off
            ),
        );
        check(
            server.connections_before.is_some()
                && server.connections_after == server.connections_before,
            format!(
                "server: {:?} connections after the storm, {:?} before",
                server.connections_after, server.connections_before
            ),
        );
        check(
            server.rss_after <= server.rss_before + self.bounds.memory_growth_bytes,
            format!(
                "server: {} MiB after the storm, {} MiB before (bound: {} MiB more)",
                mib(server.rss_after),
                mib(server.rss_before),
                mib(self.bounds.memory_growth_bytes)
            ),
        );
        failures
    }
}
