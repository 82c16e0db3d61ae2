//! How long callers waited for a pooled connection: a histogram kept lock-free by each
//! [`super::Node`], read by [`crate::Database::stats`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds, in seconds, of the wait-time buckets: OpenTelemetry's advice for
/// `db.client.connection.wait_time`-like durations, with sub-millisecond steps since a free
/// connection is handed out in microseconds.
pub const WAIT_BUCKETS: [f64; 14] = [
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A histogram of waits: `counts[i]` waited at most `WAIT_BUCKETS[i]` seconds and more than
/// the bound before (the last count: longer than every bound).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WaitTimes {
    /// Per bucket, not cumulative; one more than [`WAIT_BUCKETS`].
    pub counts: Vec<u64>,
    /// Every wait, in seconds, added up.
    pub sum_seconds: f64,
}

impl WaitTimes {
    /// How many waits there were.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Records how long callers waited for a connection, lock-free.
#[derive(Debug, Default)]
pub(crate) struct WaitRecorder {
    counts: [AtomicU64; WAIT_BUCKETS.len() + 1],
    nanos: AtomicU64,
}

impl WaitRecorder {
    pub(crate) fn record(&self, waited: Duration) {
        let seconds = waited.as_secs_f64();
        let bucket = WAIT_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(WAIT_BUCKETS.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> WaitTimes {
        WaitTimes {
            counts: self
                .counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            sum_seconds: self.nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_fall_in_their_buckets() {
        let waits = WaitRecorder::default();
        waits.record(Duration::from_micros(50));
        waits.record(Duration::from_millis(1));
        waits.record(Duration::from_secs(60));
        let snapshot = waits.snapshot();
        assert_eq!(snapshot.counts[0], 1);
        assert_eq!(snapshot.counts[2], 1, "a bound is inclusive");
        assert_eq!(snapshot.counts[WAIT_BUCKETS.len()], 1);
        assert_eq!(snapshot.count(), 3);
        assert!((snapshot.sum_seconds - 60.00105).abs() < 1e-9);
    }
}
