//! Planning a trim: how far the log can be trimmed without losing what is
//! still needed, and the base state at that point.
//!
//! A trim at seq S is safe when nothing still needs a record at or before
//! S:
//! - every run the state holds (unfinished, retained finished) folds from
//!   its stream, which begins at its submission: S is before the oldest;
//! - a durable actor recovers from its newest checkpoint plus its stream:
//!   S is at or before the oldest of those checkpoints;
//! - a supervisor folds its own stream for restart intensity, backoff and
//!   its breakers, none of which looks further back than its window and
//!   open period: S is older than `keep_recent` (default one hour);
//! - the stream index must be written out past S;
//! - the state manager needs a base: its state at exactly S, folded here
//!   and stored with the trim.

use strand_eventlog::{
    BASE_CHECKPOINT_PREFIX, EventLog, NewCheckpoint, Seq, TrimRequest, base_checkpoint_name,
};
use strand_projections::{Projection, StateManager};

use crate::engine::ReplayEngine;
use crate::error::ReplayError;

/// What holds a trim back at its seq.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrimLimit {
    /// The seq the operator asked for.
    Asked,
    /// The oldest run the state still holds begins after it.
    Run {
        /// The run's id.
        run: String,
    },
    /// A durable actor's newest checkpoint is there.
    Checkpoint {
        /// Its name.
        name: String,
    },
    /// Later records are younger than the minimum age kept.
    Recent,
    /// The stream index is written out only that far.
    Index,
    /// The state has applied no further (a running engine's state lags
    /// its log by the records in flight).
    Unapplied,
    /// The log ends there.
    End,
}

impl TrimLimit {
    /// A short description, for the plan shown to an operator.
    pub fn describe(&self) -> String {
        match self {
            Self::Asked => "the seq asked for".to_owned(),
            Self::Run { run } => format!("run {run} (the oldest the state still holds)"),
            Self::Checkpoint { name } => format!("the newest checkpoint of {name}"),
            Self::Recent => "the records younger than the minimum age kept".to_owned(),
            Self::Index => "the stream index's watermark".to_owned(),
            Self::Unapplied => "the records the state has not applied yet".to_owned(),
            Self::End => "the log's end".to_owned(),
        }
    }
}

/// A trim worked out, not yet carried out.
#[derive(Debug)]
pub struct TrimPlan {
    /// The log's first seq now.
    pub first: Seq,
    /// The last seq the trim removes (before `first` when it removes none).
    pub upto: Seq,
    /// What stops it there.
    pub limit: TrimLimit,
    /// The state manager at exactly `upto`: the base.
    pub base: Option<StateManager>,
}

impl TrimPlan {
    /// Records it removes.
    pub fn records(&self) -> u64 {
        (self.upto.get() + 1).saturating_sub(self.first.get())
    }

    /// The request that carries it out, archiving into `archive` first.
    ///
    /// # Errors
    /// [`ReplayError::Snapshot`] when the base does not encode.
    pub fn request(&self, archive: Option<std::path::PathBuf>) -> Result<TrimRequest, ReplayError> {
        let base = match &self.base {
            Some(state) => vec![NewCheckpoint {
                name: StateManager::NAME.to_owned(),
                seq: self.upto,
                format_version: StateManager::SNAPSHOT_VERSION,
                data: state.snapshot().map_err(ReplayError::Snapshot)?,
            }],
            None => Vec::new(),
        };
        Ok(TrimRequest {
            upto: self.upto,
            base,
            archive,
        })
    }
}

/// What of the log the state manager still needs: every record from
/// `from` on. Taken from the live state of a running engine, or from the
/// state rebuilt at the log's end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateHold {
    /// The first seq still needed.
    pub from: Seq,
    /// The run whose stream begins there; `None` when the state holds no
    /// run and `from` is just past the last record it applied.
    pub run: Option<String>,
}

impl StateHold {
    /// What `state` needs: its oldest run's stream, and nothing it has not
    /// applied yet (a run submitted since is not in it).
    pub fn of(state: &StateManager) -> Self {
        match state
            .entries()
            .min_by_key(strand_projections::RunEntry::submitted_seq)
        {
            Some(oldest) => Self {
                from: Seq(oldest.submitted_seq()),
                run: Some(oldest.id().as_str().to_owned()),
            },
            None => Self {
                from: Seq(state.applied_seq().saturating_add(1)),
                run: None,
            },
        }
    }
}

/// What the trim of a log is asked to respect.
#[derive(Clone, Copy, Debug)]
pub struct TrimBounds {
    /// Trim no record at or after this seq (`--before`); `None` for as far
    /// as is safe.
    pub before: Option<Seq>,
    /// Trim no record stamped after this time (now less the minimum age).
    pub not_after_ms: u64,
}

impl ReplayEngine {
    /// Work out the trim of this engine's log that `bounds` and `hold`
    /// (what the state manager still needs) allow, and fold the base.
    ///
    /// # Errors
    /// The log's read errors; a fold that fails.
    pub fn plan_trim(&self, hold: &StateHold, bounds: TrimBounds) -> Result<TrimPlan, ReplayError> {
        let log = self.log();
        let first = log.first_seq();
        let mut upto = log.last_seq();
        let mut limit = TrimLimit::End;
        let mut lower = |seq: Seq, why: TrimLimit| {
            if seq < upto {
                upto = seq;
                limit = why;
            }
        };
        if let Some(before) = bounds.before {
            lower(Seq(before.get().saturating_sub(1)), TrimLimit::Asked);
        }
        let holder = match &hold.run {
            Some(run) => TrimLimit::Run { run: run.clone() },
            None => TrimLimit::Unapplied,
        };
        lower(Seq(hold.from.get().saturating_sub(1)), holder);
        for (name, seq) in durable_checkpoints(log)? {
            lower(seq, TrimLimit::Checkpoint { name });
        }
        lower(log.index_upto()?, TrimLimit::Index);
        if upto < first {
            return Ok(TrimPlan {
                first,
                upto: Seq(first.get() - 1),
                limit,
                base: None,
            });
        }
        let (base, reached, young) = self.fold_until(upto, bounds.not_after_ms)?;
        if young {
            limit = TrimLimit::Recent;
        }
        Ok(TrimPlan {
            first,
            upto: reached,
            limit,
            base: (reached >= first).then_some(base),
        })
    }

    /// The state manager folded up to `upto`, stopping before the first
    /// event stamped after `not_after_ms`: the state, the seq it reached,
    /// and whether it stopped early.
    fn fold_until(
        &self,
        upto: Seq,
        not_after_ms: u64,
    ) -> Result<(StateManager, Seq, bool), ReplayError> {
        let name = StateManager::NAME;
        let point = self.start_before::<StateManager>(
            name,
            &[name.to_owned(), base_checkpoint_name(name)],
            upto.get(),
        )?;
        let mut state = point.projection;
        let from = Seq(state.applied_seq()).next();
        let mut young = false;
        let mut reached = Seq(state.applied_seq());
        if from <= upto {
            let stop = self.log().for_each_event(from, upto, |event| {
                if event.at_ms > not_after_ms {
                    young = true;
                    return Err(ReplayError::Stopped);
                }
                if !self.skips(event.seq) {
                    self.apply_event(&mut state, &event)?;
                }
                reached = event.seq;
                Ok(())
            });
            match stop {
                Ok(_) | Err(ReplayError::Stopped) => {}
                Err(error) => return Err(error),
            }
        }
        Ok((state, reached, young))
    }
}

/// The newest checkpoint seq of every durable actor (each name but the
/// state manager's and the bases).
fn durable_checkpoints(log: &EventLog) -> Result<Vec<(String, Seq)>, ReplayError> {
    let mut newest: std::collections::BTreeMap<String, Seq> = std::collections::BTreeMap::new();
    for info in log.list_checkpoints()? {
        if info.name == StateManager::NAME || info.name.starts_with(BASE_CHECKPOINT_PREFIX) {
            continue;
        }
        let Ok(summary) = info.status else {
            continue;
        };
        let seq = newest.entry(info.name).or_insert(summary.seq);
        *seq = (*seq).max(summary.seq);
    }
    Ok(newest.into_iter().collect())
}
