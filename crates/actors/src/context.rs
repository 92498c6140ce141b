//! [`Context`]: what every supervisor in a tree shares, and the root's
//! bounded [`ErrorHistory`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::state_manager::StateManagerSlot;
use crate::store::EventStore;

/// Shared by every supervisor and child of one tree.
#[derive(Clone, Debug)]
pub struct Context {
    /// The log, through the event store.
    pub store: EventStore,
    /// Wall-clock time for supervision decisions.
    pub clock: Arc<dyn Clock>,
    /// The root's bounded history of failures anywhere in the tree.
    pub errors: ErrorHistory,
    /// How long a supervisor waits for a child to stop gracefully before
    /// killing it.
    pub stop_timeout: Duration,
    /// The tree's state manager, once it runs: an actor that needs the
    /// same projection (the scheduler) copies it instead of replaying the
    /// log a second time.
    pub state_manager: StateManagerSlot,
}

impl Context {
    /// A context on `store` with the system clock and a history of 128
    /// failures.
    pub fn new(store: EventStore) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            errors: ErrorHistory::new(128),
            stop_timeout: Duration::from_secs(5),
            state_manager: StateManagerSlot::default(),
        }
    }

    /// The same context with another clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// One failure seen somewhere in the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorRecord {
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The supervisor that saw it.
    pub supervisor: String,
    /// The child that failed (the supervisor's own name for an escalation).
    pub child: String,
    /// What happened.
    pub reason: String,
}

/// A bounded, shared history of failures: the oldest is dropped first.
#[derive(Clone, Debug)]
pub struct ErrorHistory {
    inner: Arc<Mutex<VecDeque<ErrorRecord>>>,
    capacity: usize,
}

impl ErrorHistory {
    /// An empty history keeping at most `capacity` records (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            inner: Arc::new(Mutex::new(VecDeque::with_capacity(capacity))),
            capacity,
        }
    }

    /// Record a failure.
    pub fn push(&self, record: ErrorRecord) {
        let mut records = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if records.len() == self.capacity {
            records.pop_front();
        }
        records.push_back(record);
    }

    /// Every record kept, oldest first.
    pub fn snapshot(&self) -> Vec<ErrorRecord> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// How many records it keeps at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}
