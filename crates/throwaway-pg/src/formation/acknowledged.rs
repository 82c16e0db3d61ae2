//! [`Acknowledged`]: the writes clients were told succeeded across a failover, and the checks
//! a test makes of what the new primary holds: each of them there exactly once, and nothing
//! else; and how long no write succeeded.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// One acknowledged write: the key it was sent under (unique per write), the id it was given,
/// when the answer came, and whether the answer was a replay of an earlier attempt that had
/// committed.
#[derive(Debug, Clone)]
pub struct Ack {
    pub key: String,
    pub id: i64,
    pub at: Instant,
    pub replayed: bool,
}

/// The writes acknowledged so far, in the order the answers came.
#[derive(Debug, Default)]
pub struct Acknowledged {
    acks: Vec<Ack>,
}

impl Acknowledged {
    /// Notes that the write under `key` was acknowledged now, with `id`.
    pub fn push(&mut self, key: String, id: i64, replayed: bool) {
        self.acks.push(Ack {
            key,
            id,
            at: Instant::now(),
            replayed,
        });
    }

    pub fn len(&self) -> usize {
        self.acks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.acks.is_empty()
    }

    /// How many answers were replays of attempts that had committed unbeknownst to the client.
    pub fn replayed(&self) -> usize {
        self.acks.iter().filter(|ack| ack.replayed).count()
    }

    /// How many were acknowledged before `at`.
    pub fn before(&self, at: Instant) -> usize {
        self.acks.iter().filter(|ack| ack.at < at).count()
    }

    /// Whether any was acknowledged after `at`.
    pub fn any_after(&self, at: Instant) -> bool {
        self.acks.iter().any(|ack| ack.at > at)
    }

    /// Checks the `(key, id)` rows the new primary holds for these writers against the
    /// acknowledgements: every acknowledged write there exactly once with its id, no key twice,
    /// no key that no writer was told of. Each writer must have retried its every key to an
    /// answer, so that the two sets can be the same.
    pub fn check(&self, stored: &[(String, i64)]) -> Result<(), String> {
        let mut ids: HashMap<&str, Vec<i64>> = HashMap::new();
        for (key, id) in stored {
            ids.entry(key).or_default().push(*id);
        }
        let twice: Vec<_> = ids.iter().filter(|(_, ids)| ids.len() > 1).collect();
        if !twice.is_empty() {
            return Err(format!("written twice: {twice:?}"));
        }
        let lost: Vec<_> = self
            .acks
            .iter()
            .filter(|ack| ids.get(ack.key.as_str()) != Some(&vec![ack.id]))
            .map(|ack| (&ack.key, ack.id))
            .collect();
        if !lost.is_empty() {
            return Err(format!("acknowledged, then lost: {lost:?}"));
        }
        let sent: HashSet<&str> = self.acks.iter().map(|ack| ack.key.as_str()).collect();
        let unknown: Vec<_> = ids.keys().filter(|key| !sent.contains(*key)).collect();
        if !unknown.is_empty() {
            return Err(format!("no writer was told of: {unknown:?}"));
        }
        Ok(())
    }

    /// The longest time between two acknowledgements in a row that ends after `began`: how long
    /// a failover that began then kept every writer from succeeding.
    pub fn longest_silence(&self, began: Instant) -> Duration {
        let mut times: Vec<Instant> = self.acks.iter().map(|ack| ack.at).collect();
        times.sort();
        times
            .windows(2)
            .filter(|pair| pair[1] > began)
            .map(|pair| pair[1] - pair[0])
            .max()
            .unwrap_or_default()
    }
}

/// The median and the worst of `windows` (zero for none).
pub fn median_and_worst(windows: &[Duration]) -> (Duration, Duration) {
    let mut sorted = windows.to_vec();
    sorted.sort();
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
    (median, sorted.last().copied().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acked(keys: &[(&str, i64)]) -> Acknowledged {
        let mut acked = Acknowledged::default();
        for (key, id) in keys {
            acked.push(key.to_string(), *id, false);
        }
        acked
    }

    fn rows(keys: &[(&str, i64)]) -> Vec<(String, i64)> {
        keys.iter()
            .map(|(key, id)| (key.to_string(), *id))
            .collect()
    }

    #[test]
    fn every_acknowledged_write_there_once_and_nothing_else_passes() {
        let acked = acked(&[("a", 1), ("b", 2)]);
        assert_eq!(acked.check(&rows(&[("b", 2), ("a", 1)])), Ok(()));
    }

    #[test]
    fn a_lost_a_doubled_a_moved_or_an_unknown_write_fails() {
        let acked = acked(&[("a", 1), ("b", 2)]);
        let lost = acked.check(&rows(&[("a", 1)])).unwrap_err();
        assert!(lost.contains("lost") && lost.contains("\"b\""), "{lost}");
        let twice = acked.check(&rows(&[("a", 1), ("b", 2), ("b", 3)]));
        assert!(twice.unwrap_err().contains("twice"));
        let moved = acked.check(&rows(&[("a", 1), ("b", 7)]));
        assert!(moved.unwrap_err().contains("lost"));
        let unknown = acked.check(&rows(&[("a", 1), ("b", 2), ("c", 3)]));
        assert!(unknown.unwrap_err().contains("\"c\""));
    }

    #[test]
    fn the_longest_silence_is_the_widest_gap_ending_after_the_start() {
        let start = Instant::now();
        let mut acked = Acknowledged::default();
        for offset in [0, 10, 500, 520, 3_520, 3_530] {
            acked.acks.push(Ack {
                key: offset.to_string(),
                id: offset,
                at: start + Duration::from_millis(offset as u64),
                replayed: false,
            });
        }
        let began = start + Duration::from_millis(600);
        assert_eq!(acked.longest_silence(began), Duration::from_secs(3));
        assert_eq!(
            acked.longest_silence(start + Duration::from_secs(9)),
            Duration::ZERO
        );
        assert_eq!(acked.before(began), 4);
        assert!(acked.any_after(began));
    }

    #[test]
    fn median_and_worst_of_runs() {
        let runs = [3, 1, 2].map(Duration::from_secs);
        assert_eq!(
            median_and_worst(&runs),
            (Duration::from_secs(2), Duration::from_secs(3))
        );
        assert_eq!(median_and_worst(&[]), (Duration::ZERO, Duration::ZERO));
    }
}
