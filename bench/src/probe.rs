//! What a process costs, from /proc: CPU seconds (utime + stime) and resident memory; and how
//! busy the whole machine is, to tell when something else distorts a run.

use std::fs;

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("cannot parse {0}")]
    Parse(String),
}

/// Clock ticks per second of /proc's CPU times.
fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a constant of the running system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

fn read(path: &str) -> Result<String, ProbeError> {
    fs::read_to_string(path).map_err(|error| ProbeError::Read(path.to_owned(), error))
}

/// CPU seconds a process has used so far (user + system).
pub fn cpu_seconds(pid: u32) -> Result<f64, ProbeError> {
    let path = format!("/proc/{pid}/stat");
    let stat = read(&path)?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let after_name = stat
        .rsplit_once(')')
        .ok_or_else(|| ProbeError::Parse(path.clone()))?
        .1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the name.
    let tick = |at: usize| -> Result<f64, ProbeError> {
        fields
            .get(at)
            .and_then(|field| field.parse::<f64>().ok())
            .ok_or_else(|| ProbeError::Parse(path.clone()))
    };
    Ok((tick(11)? + tick(12)?) / ticks_per_second())
}

/// Resident memory of a process, in bytes.
pub fn rss_bytes(pid: u32) -> Result<u64, ProbeError> {
    let path = format!("/proc/{pid}/status");
    let status = read(&path)?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
        .ok_or(ProbeError::Parse(path))
}

/// CPU seconds the whole machine has spent busy (every core), and its number of cores.
pub fn machine_busy_seconds() -> Result<(f64, usize), ProbeError> {
    let stat = read("/proc/stat")?;
    let total = stat
        .lines()
        .next()
        .filter(|line| line.starts_with("cpu "))
        .ok_or_else(|| ProbeError::Parse("/proc/stat".into()))?;
    let ticks: Vec<f64> = total
        .split_whitespace()
        .skip(1)
        .filter_map(|field| field.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    let busy: f64 = ticks
        .iter()
        .enumerate()
        .filter(|(at, _)| *at != 3 && *at != 4)
        .take(8)
        .map(|(_, value)| value)
        .sum();
    let cores = stat
        .lines()
        .filter(|line| line.starts_with("cpu") && !line.starts_with("cpu "))
        .count();
    Ok((busy / ticks_per_second(), cores))
}

/// A group of processes measured together (a cluster's nodes count as one server).
#[derive(Debug, Clone)]
pub struct Processes(pub Vec<u32>);

impl Processes {
    pub fn cpu_seconds(&self) -> Result<f64, ProbeError> {
        self.0.iter().map(|pid| cpu_seconds(*pid)).sum()
    }

    pub fn rss_bytes(&self) -> Result<u64, ProbeError> {
        self.0.iter().map(|pid| rss_bytes(*pid)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_can_be_measured() {
        let me = std::process::id();
        assert!(cpu_seconds(me).unwrap() >= 0.0);
        assert!(rss_bytes(me).unwrap() > 1024 * 1024);
        let (busy, cores) = machine_busy_seconds().unwrap();
        assert!(busy > 0.0 && cores >= 1);
    }
}
