//! Gives freed memory back to the system once a crowd of connections has left.
//!
//! glibc's malloc keeps what the program frees in its arenas for reuse and returns only the top
//! of each heap. After a reconnect storm that is the storm's whole peak, tens of MiB held for
//! good; `malloc_trim` hands the free pages back (docs/hardening.md, "Stress": 92 MiB back to
//! 26 MiB). Other allocators and platforms manage on their own: there this does nothing.

use std::time::Duration;

use crate::Io;

/// How often the connection count is looked at.
const EVERY: Duration = Duration::from_secs(1);

/// Departures since the last trim, below the highest count seen, that make a trim worth it: a
/// trim walks every arena under its locks, so not for a few tabs closing.
const CROWD: usize = 500;

/// Runs for the life of the server: trims after every crowd that left.
pub async fn give_back_after_crowds(io: Io) {
    let mut ticks = tokio::time::interval(EVERY);
    let mut highest = 0;
    loop {
        ticks.tick().await;
        let now = io.connections();
        highest = highest.max(now);
        if highest - now >= CROWD {
            tokio::task::spawn_blocking(trim).await.ok();
            highest = now;
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only releases free memory of the allocator's own arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
