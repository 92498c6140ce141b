//! The scheduler's per-bead metrics: handles by definition name, made once
//! per definition and found again without allocating, so a bead costs a
//! hash lookup and a few atomic adds (nothing at all without a recorder).

use std::collections::HashMap;
use std::time::Duration;

use metrics::{Counter, Histogram};

use crate::metrics::{BEAD_SECONDS, DEFINITION, QUEUE_WAIT_SECONDS, RETRIES, TIMEOUTS};

/// One definition's handles.
pub(super) struct Handles {
    duration: Histogram,
    wait: Histogram,
    retries: Counter,
    timeouts: Counter,
}

/// Every definition's handles.
#[derive(Default)]
pub(super) struct Metered {
    by_definition: HashMap<String, Handles>,
}

impl std::fmt::Debug for Metered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metered")
            .field("definitions", &self.by_definition.len())
            .finish()
    }
}

impl Metered {
    /// Run `record` on `definition`'s handles, made on first use.
    fn with(&mut self, definition: &str, record: impl FnOnce(&Handles)) {
        if let Some(handles) = self.by_definition.get(definition) {
            record(handles);
            return;
        }
        let label = || (DEFINITION, definition.to_owned());
        let handles = Handles {
            duration: metrics::histogram!(BEAD_SECONDS, &[label()]),
            wait: metrics::histogram!(QUEUE_WAIT_SECONDS, &[label()]),
            retries: metrics::counter!(RETRIES, &[label()]),
            timeouts: metrics::counter!(TIMEOUTS, &[label()]),
        };
        record(&handles);
        self.by_definition.insert(definition.to_owned(), handles);
    }

    /// An attempt of a bead of `definition` ran for `ran`.
    pub(super) fn ran(&mut self, definition: &str, ran: Duration) {
        self.with(definition, |h| h.duration.record(ran.as_secs_f64()));
    }

    /// A bead of `definition` waited `waited_ms` ready before it started.
    pub(super) fn waited(&mut self, definition: &str, waited_ms: u64) {
        #[expect(clippy::cast_precision_loss, reason = "a histogram sample")]
        let seconds = waited_ms as f64 / 1000.0;
        self.with(definition, |h| h.wait.record(seconds));
    }

    /// A retry of a bead of `definition` was planned.
    pub(super) fn retried(&mut self, definition: &str) {
        self.with(definition, |h| h.retries.increment(1));
    }

    /// An attempt of a bead of `definition` timed out.
    pub(super) fn timed_out(&mut self, definition: &str) {
        self.with(definition, |h| h.timeouts.increment(1));
    }
}
