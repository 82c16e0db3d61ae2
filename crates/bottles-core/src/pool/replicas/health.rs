//! Whether a replica may take a read: up, down for a while after a failure (longer after each
//! one in a row), or being probed by one read while every other read goes elsewhere. An
//! unreachable host costs one read its connect timeout per probe, not every read.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a replica is left alone after its first failure; doubled for each failure in a
/// row, up to [`MAX_DOWN`].
const FIRST_DOWN: Duration = Duration::from_secs(1);
const MAX_DOWN: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub(super) struct Health(Mutex<State>);

#[derive(Debug, Clone, Copy)]
enum State {
    Up,
    /// Left alone until `until`; the first read after that probes it.
    Down {
        until: Instant,
        left_alone: Duration,
    },
    /// One read is trying it.
    Probing {
        left_alone: Duration,
    },
}

/// A read's use of a replica; say how it went with [`Use::answered`] or [`Use::failed`].
/// Dropped unsaid (the read was cancelled), a probe leaves the replica to the next read.
pub(super) struct Use<'a> {
    health: &'a Health,
    said: bool,
}

impl Health {
    /// What [`crate::Database::stats`] shows.
    pub(super) fn state(&self) -> crate::ReplicaState {
        use crate::ReplicaState;
        match *self.0.lock().expect("not poisoned") {
            State::Up => ReplicaState::Up,
            State::Probing { .. } => ReplicaState::Probing,
            State::Down { left_alone, .. } if left_alone.is_zero() => ReplicaState::Unknown,
            State::Down { .. } => ReplicaState::Down,
        }
    }

    /// Not yet known to answer: the first read probes it, the others go elsewhere meanwhile.
    pub(super) fn unknown() -> Self {
        Self(Mutex::new(State::Down {
            until: Instant::now(),
            left_alone: Duration::ZERO,
        }))
    }

    /// Whether this read may use the replica now.
    pub(super) fn try_use(&self) -> Option<Use<'_>> {
        let mut state = self.0.lock().expect("not poisoned");
        match *state {
            State::Up => {}
            State::Down { until, left_alone } if Instant::now() >= until => {
                *state = State::Probing { left_alone };
            }
            State::Down { .. } | State::Probing { .. } => return None,
        }
        Some(Use {
            health: self,
            said: false,
        })
    }

    /// A use whatever the state, for a read with nowhere else to go (no primary answers): a
    /// replica left alone is tried anyway. A failure leaves it alone no longer than before;
    /// an answer brings it up.
    pub(super) fn use_anyway(&self) -> Use<'_> {
        Use {
            health: self,
            said: false,
        }
    }

    fn set(&self, next: impl FnOnce(State) -> State) {
        let mut state = self.0.lock().expect("not poisoned");
        *state = next(*state);
    }
}

impl Use<'_> {
    /// The replica answered (rows or an error of the read's own): it is up.
    pub(super) fn answered(mut self) {
        self.said = true;
        self.health.set(|_| State::Up);
    }

    /// The replica could not be reached or went away; returns how long it is now left alone.
    /// A failed probe doubles the time; reads that were under way when it went down all fail
    /// at once, and count once.
    pub(super) fn failed(mut self) -> Duration {
        self.said = true;
        let mut left_for = FIRST_DOWN;
        self.health.set(|state| match state {
            State::Up => State::Down {
                until: Instant::now() + FIRST_DOWN,
                left_alone: FIRST_DOWN,
            },
            State::Probing { left_alone } => {
                left_for = (left_alone * 2).clamp(FIRST_DOWN, MAX_DOWN);
                State::Down {
                    until: Instant::now() + left_for,
                    left_alone: left_for,
                }
            }
            down @ State::Down { left_alone, .. } => {
                left_for = left_alone;
                down
            }
        });
        left_for
    }
}

impl Drop for Use<'_> {
    fn drop(&mut self) {
        if !self.said {
            self.health.set(|state| match state {
                State::Probing { left_alone } => State::Down {
                    until: Instant::now(),
                    left_alone,
                },
                other => other,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_read_probes_while_the_others_go_elsewhere() {
        let health = Health::unknown();
        let probe = health.try_use().expect("the first read probes");
        assert!(health.try_use().is_none(), "only one probe at a time");
        probe.answered();
        let (a, b) = (health.try_use(), health.try_use());
        assert!(a.is_some() && b.is_some(), "up: every read may use it");
    }

    #[test]
    fn failures_in_a_row_leave_it_alone_longer() {
        let health = Health::unknown();
        assert_eq!(health.try_use().unwrap().failed(), FIRST_DOWN);
        assert!(health.try_use().is_none(), "left alone");
        health.set(|_| State::Down {
            until: Instant::now(),
            left_alone: FIRST_DOWN,
        });
        assert_eq!(health.try_use().unwrap().failed(), FIRST_DOWN * 2);
        health.set(|_| State::Down {
            until: Instant::now(),
            left_alone: MAX_DOWN,
        });
        assert_eq!(health.try_use().unwrap().failed(), MAX_DOWN);
    }

    #[test]
    fn reads_failing_together_count_once() {
        let health = Health::unknown();
        health.try_use().unwrap().answered();
        let (a, b) = (health.try_use().unwrap(), health.try_use().unwrap());
        assert_eq!(a.failed(), FIRST_DOWN);
        assert_eq!(b.failed(), FIRST_DOWN, "the same failure, not a second one");
    }

    #[test]
    fn a_read_with_nowhere_else_to_go_tries_a_replica_left_alone() {
        let health = Health::unknown();
        assert_eq!(health.try_use().unwrap().failed(), FIRST_DOWN);
        assert!(health.try_use().is_none(), "left alone");
        assert_eq!(
            health.use_anyway().failed(),
            FIRST_DOWN,
            "no longer than before"
        );
        assert!(health.try_use().is_none(), "still left alone");
        health.use_anyway().answered();
        assert!(health.try_use().is_some(), "up again");
    }

    #[test]
    fn a_cancelled_probe_hands_the_replica_to_the_next_read() {
        let health = Health::unknown();
        drop(health.try_use().unwrap());
        let next = health.try_use().expect("probed again");
        next.answered();
        assert!(health.try_use().is_some());
    }
}
