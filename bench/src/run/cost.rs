//! What a run cost the server, this process and the machine: CPU over the sending window, the
//! server's memory before, once connected and after.

use std::time::Duration;

use crate::{
    probe::{self, ProbeError, Processes},
    report::Cost,
};

/// CPU seconds, so far or over a stretch: the server's, this process's and the whole machine's.
#[derive(Debug, Clone, Copy)]
pub(super) struct CpuSeconds {
    server: f64,
    generator: f64,
    machine: f64,
}

impl CpuSeconds {
    /// What each has spent so far, and the machine's number of cores.
    pub(super) fn so_far(server: &Processes) -> Result<(Self, usize), ProbeError> {
        let server = server.cpu_seconds()?;
        let generator = probe::cpu_seconds(std::process::id())?;
        let (machine, cores) = probe::machine_busy_seconds()?;
        Ok((
            Self {
                server,
                generator,
                machine,
            },
            cores,
        ))
    }

    /// What each spent from `start` until `self`.
    pub(super) fn since(self, start: Self) -> Self {
        Self {
            server: self.server - start.server,
            generator: self.generator - start.generator,
            machine: self.machine - start.machine,
        }
    }
}

/// The server's resident memory at the three moments of a run, in bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Memory {
    pub(super) before: u64,
    /// After every client connected and the server settled.
    pub(super) connected: u64,
    pub(super) after: u64,
}

/// The [`Cost`] of a run whose sending window lasted `window` (until the last delivery), with
/// `connected` clients and `unique` messages delivered.
pub(super) fn cost(
    window: Duration,
    cpu: CpuSeconds,
    cores: usize,
    memory: Memory,
    connected: usize,
    unique: u64,
) -> Cost {
    Cost {
        window_seconds: window.as_secs_f64(),
        server_cpu_seconds: cpu.server,
        server_cpu_micros_per_delivery: (unique > 0).then(|| cpu.server * 1e6 / unique as f64),
        server_rss_before: memory.before,
        server_rss_connected: memory.connected,
        server_rss_after: memory.after,
        server_bytes_per_connection: (connected > 0)
            .then(|| (memory.connected.saturating_sub(memory.before)) as f64 / connected as f64),
        generator_cpu_seconds: cpu.generator,
        machine_busy_seconds: cpu.machine,
        cores,
    }
}
