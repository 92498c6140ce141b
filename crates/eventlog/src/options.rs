//! Options for opening a log.

use crate::error::{Error, Result};

/// How a log is opened and how its writer batches. Defaults suit an
/// orchestrator with a few hundred concurrent producers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LogOptions {
    /// Create the directory and an empty log when none exists (default true).
    pub create_if_missing: bool,
    /// Append requests that may wait for the writer before producers are made
    /// to wait (backpressure instead of memory growth). Default 4096.
    pub queue_capacity: usize,
    /// Most events one synced write may carry. Default 4096.
    pub max_batch_events: usize,
    /// Most bytes (frames) one synced write may carry. Default 8 MiB.
    pub max_batch_bytes: usize,
    /// Checkpoint generations kept per name; at least 2 so that a bad newest
    /// generation can fall back to an older one. Default 2.
    pub checkpoint_generations: usize,
    /// Stream-index entries kept in memory before they are written to the
    /// store in bulk (one chunk per stream); also the most records an open
    /// after a crash re-reads to rebuild them. Default 16384.
    pub index_flush_events: usize,
    /// Test-only fault injection.
    #[cfg(feature = "failpoints")]
    pub failpoints: Option<crate::failpoint::FailPoints>,
}

impl Default for LogOptions {
    fn default() -> Self {
        Self {
            create_if_missing: true,
            queue_capacity: 4096,
            max_batch_events: 4096,
            max_batch_bytes: 8 * 1024 * 1024,
            checkpoint_generations: 2,
            index_flush_events: 16_384,
            #[cfg(feature = "failpoints")]
            failpoints: None,
        }
    }
}

impl LogOptions {
    /// Set [`LogOptions::create_if_missing`].
    #[must_use]
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }

    /// Set [`LogOptions::queue_capacity`].
    #[must_use]
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// Set [`LogOptions::max_batch_events`].
    #[must_use]
    pub fn max_batch_events(mut self, events: usize) -> Self {
        self.max_batch_events = events;
        self
    }

    /// Set [`LogOptions::max_batch_bytes`].
    #[must_use]
    pub fn max_batch_bytes(mut self, bytes: usize) -> Self {
        self.max_batch_bytes = bytes;
        self
    }

    /// Set [`LogOptions::checkpoint_generations`].
    #[must_use]
    pub fn checkpoint_generations(mut self, generations: usize) -> Self {
        self.checkpoint_generations = generations;
        self
    }

    /// Set [`LogOptions::index_flush_events`].
    #[must_use]
    pub fn index_flush_events(mut self, events: usize) -> Self {
        self.index_flush_events = events;
        self
    }

    /// Inject faults (test builds only).
    #[cfg(feature = "failpoints")]
    #[must_use]
    pub fn failpoints(mut self, failpoints: crate::failpoint::FailPoints) -> Self {
        self.failpoints = Some(failpoints);
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let refuse = |name, reason| Err(Error::InvalidOption { name, reason });
        if self.queue_capacity == 0 {
            return refuse("queue_capacity", "must be at least 1");
        }
        if self.max_batch_events == 0 {
            return refuse("max_batch_events", "must be at least 1");
        }
        if self.max_batch_bytes < crate::frame::HEADER_LEN + 1 {
            return refuse("max_batch_bytes", "must hold at least one frame");
        }
        if self.index_flush_events == 0 {
            return refuse("index_flush_events", "must be at least 1");
        }
        if self.checkpoint_generations < 2 {
            return refuse("checkpoint_generations", "must be at least 2");
        }
        Ok(())
    }
}
