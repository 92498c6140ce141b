//! One workflow in flight in a synthetic history: its generated graph and
//! the beads that have been released and not yet completed.

use std::collections::VecDeque;

use strand_dag::{BeadId, DependencyType, WorkflowDag};

use crate::definition::DefinitionHash;
use crate::event::{BackoffSpec, DomainEvent, RunSettings, TaskAction, TaskSpec};
use crate::ids::{RunId, WorkerId};
use crate::output::Output;
use crate::synthetic::HistoryParams;
use crate::synthetic::rng::SplitMix64;

/// How far back a bead's dependencies reach, in bead indices: keeps the
/// graph deep (chains) and wide (many ready beads) at once.
const DEPENDENCY_WINDOW: usize = 256;

/// Attempts after which a bead always succeeds, so every history ends.
/// Matches the tasks' `retries` (3) + 1.
const MAX_ATTEMPTS: u32 = 4;

/// Scheduled-but-never-started detours (requeue, scheduled timeout) per
/// attempt, so that a bead always gets to run.
const MAX_STALLS: u8 = 2;

/// The next event a released bead will produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// `BeadReady`.
    Ready,
    /// `BeadScheduled`.
    Schedule,
    /// `BeadStarted`, or a detour: requeue (`BeadReady`) or a scheduled timeout.
    Start,
    /// `BeadCompleted`, `BeadFailed` or `BeadTimedOut`.
    Finish,
    /// `BeadRetryScheduled`.
    Retry,
}

/// A released bead and what it does next.
#[derive(Clone, Debug)]
struct Flight {
    /// Bead index (position in the generated graph).
    bead: usize,
    /// The next event.
    step: Step,
    /// Attempts started so far.
    attempts: u32,
    /// Detours taken during the current attempt.
    stalls: u8,
}

/// What happened to a workflow after one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Still going.
    Going,
    /// Finished (completed, failed or cancelled): drop it.
    Finished,
}

/// Shared context of one step: the history's randomness, clock and output.
pub(crate) struct Context<'a> {
    pub(crate) rng: &'a mut SplitMix64,
    pub(crate) out: &'a mut VecDeque<DomainEvent>,
    pub(crate) params: &'a HistoryParams,
    pub(crate) workers: &'a [WorkerId],
    pub(crate) now_ms: u64,
}

impl Context<'_> {
    fn worker(&mut self) -> WorkerId {
        let at = self.rng.index(self.workers.len());
        self.workers
            .get(at)
            .cloned()
            .unwrap_or_else(|| WorkerId::from("worker-0"))
    }
}

/// A workflow being walked through its lifecycle.
pub(crate) struct Live {
    id: RunId,
    /// Bead ids by index (sorted: the names are zero-padded).
    names: Vec<BeadId>,
    /// Blocking dependents of each bead.
    dependents: Vec<Vec<usize>>,
    /// Blocking dependencies of each bead not yet completed.
    waiting: Vec<u32>,
    /// Released, not completed beads.
    flights: Vec<Flight>,
    /// Beads not yet completed.
    /// Written with the events of before runs (`WorkflowSubmitted`,
    /// `BeadCompleted`).
    legacy: bool,
    /// It expires once completed (every fourth run, from the fourth).
    expires: bool,
    remaining: usize,
    /// Steps taken so far.
    steps: u64,
    /// The step at which the workflow is failed or cancelled (`u64::MAX`: never).
    doom_at: u64,
    /// Whether doom is a cancellation (else a failure).
    doom_cancels: bool,
}

/// The settings of run `number`: every fourth has a timeout far away and
/// its first bead's own backoff; the others none.
fn settings_of(number: usize, names: &[BeadId]) -> RunSettings {
    if !number.is_multiple_of(4) {
        return RunSettings::default();
    }
    let spec = BackoffSpec {
        initial_ms: 100,
        max_ms: 10_000,
        multiplier: 3,
    };
    RunSettings {
        timeout_ms: Some(86_400_000),
        backoff: names
            .first()
            .map(|bead| (bead.clone(), spec))
            .into_iter()
            .collect(),
    }
}

/// The zero-padded name of bead `index`, so that names sort like indices.
fn bead_name(index: usize) -> BeadId {
    BeadId::from(format!("b{index:06}"))
}

/// The step at which a workflow of `count` beads is doomed (failed or
/// cancelled), or never (`u64::MAX`): drawn as submissions always drew it.
fn doom_at(cx: &mut Context<'_>, count: usize) -> u64 {
    let doomed = cx.rng.chance(cx.params.doom_per_mille);
    let per_bead = u64::try_from(count).unwrap_or(u64::MAX).saturating_mul(4);
    if doomed {
        1 + cx.rng.below(per_bead)
    } else {
        u64::MAX
    }
}

impl Live {
    /// Generates workflow number `number`, emits its `WorkflowSubmitted` and
    /// the `BeadReady` of its roots (lazily, as flights). Returns `None` when
    /// the workflow has no bead (it is completed at once).
    pub(crate) fn submit(number: usize, cx: &mut Context<'_>) -> Option<Self> {
        let id = RunId::from(format!("wf-{number:05}"));
        let count = cx.params.beads_per_workflow;
        let names: Vec<BeadId> = (0..count).map(bead_name).collect();
        let mut dag = WorkflowDag::new();
        for name in &names {
            let added = dag.add_node(name.clone()).is_ok();
            debug_assert!(added, "generated bead names are unique");
        }
        let mut dependents = vec![Vec::new(); count];
        let mut waiting = vec![0_u32; count];
        for (bead, name) in names.iter().enumerate().skip(1) {
            let deps = cx.rng.index(cx.params.max_deps.min(bead) + 1);
            for _ in 0..deps {
                let dependency = bead - 1 - cx.rng.index(bead.min(DEPENDENCY_WINDOW));
                let kind = if cx.rng.chance(cx.params.after_per_mille) {
                    DependencyType::PreferredOrder
                } else {
                    DependencyType::Blocking
                };
                let Some(from) = names.get(dependency) else {
                    continue;
                };
                // A duplicate pick is refused by the graph; skip it.
                if dag.add_edge(from, name, kind).is_ok() && kind.is_blocking() {
                    if let Some(list) = dependents.get_mut(dependency) {
                        list.push(bead);
                    }
                    if let Some(count) = waiting.get_mut(bead) {
                        *count += 1;
                    }
                }
            }
        }
        let tasks = names
            .iter()
            .enumerate()
            .map(|(index, name)| TaskSpec {
                id: name.clone(),
                action: TaskAction::Run(format!("echo {index}")),
                priority: i32::from(u8::try_from(index % 3).unwrap_or(0)),
                retries: MAX_ATTEMPTS - 1,
                timeout_ms: Some(30_000),
                affinity: index.is_multiple_of(5).then(|| "io".to_owned()),
            })
            .collect();
        // Odd workflows are written as before runs existed (the formats a
        // log of that time holds), even ones as runs with an input.
        let legacy = number % 2 == 1;
        let name = format!("synthetic-{number}");
        let submission = if legacy {
            DomainEvent::WorkflowSubmitted {
                workflow: id.clone(),
                name,
                dag: Box::new(dag),
                tasks,
            }
        } else {
            let settings = settings_of(number, &names);
            DomainEvent::RunSubmitted {
                run: id.clone(),
                definition: DefinitionHash::of_run(&name, &dag, &tasks, &settings),
                name,
                dag: Box::new(dag),
                tasks,
                input: format!("{{\"number\":{number}}}"),
                settings: Box::new(settings),
            }
        };
        cx.out.push_back(submission);
        if count == 0 {
            cx.out
                .push_back(DomainEvent::WorkflowCompleted { workflow: id });
            return None;
        }
        let flights = waiting
            .iter()
            .enumerate()
            .filter(|(_, waiting)| **waiting == 0)
            .map(|(bead, _)| Flight {
                bead,
                step: Step::Ready,
                attempts: 0,
                stalls: 0,
            })
            .collect();
        Some(Self {
            id,
            names,
            dependents,
            waiting,
            flights,
            remaining: count,
            legacy,
            expires: number % 4 == 3,
            steps: 0,
            doom_at: doom_at(cx, count),
            doom_cancels: cx.rng.chance(500),
        })
    }

    fn name(&self, bead: usize) -> BeadId {
        self.names
            .get(bead)
            .cloned()
            .unwrap_or_else(|| bead_name(bead))
    }

    /// Emits the next event of one random released bead (or dooms the workflow).
    pub(crate) fn advance(&mut self, cx: &mut Context<'_>) -> Outcome {
        self.steps += 1;
        if self.steps >= self.doom_at {
            self.doom(cx);
            return Outcome::Finished;
        }
        let at = cx.rng.index(self.flights.len());
        if at >= self.flights.len() {
            return Outcome::Finished;
        }
        let mut flight = self.flights.swap_remove(at);
        let workflow = self.id.clone();
        let bead = self.name(flight.bead);
        let params = cx.params;
        let event = match flight.step {
            Step::Ready => {
                flight.step = Step::Schedule;
                DomainEvent::BeadReady { workflow, bead }
            }
            Step::Schedule => {
                flight.step = Step::Start;
                DomainEvent::BeadScheduled {
                    workflow,
                    bead,
                    worker: cx.worker(),
                }
            }
            Step::Start
                if flight.stalls < MAX_STALLS && cx.rng.chance(params.timeout_per_mille / 2) =>
            {
                flight.stalls += 1;
                if cx.rng.chance(500) {
                    // The worker went away before starting: requeue.
                    flight.step = Step::Schedule;
                    DomainEvent::BeadReady { workflow, bead }
                } else {
                    flight.step = Step::Retry;
                    DomainEvent::BeadTimedOut {
                        workflow,
                        bead,
                        attempt: flight.attempts + 1,
                        reason: "not started in time".to_owned(),
                    }
                }
            }
            Step::Start => {
                flight.attempts += 1;
                flight.stalls = 0;
                flight.step = Step::Finish;
                DomainEvent::BeadStarted {
                    workflow,
                    bead,
                    worker: cx.worker(),
                    attempt: flight.attempts,
                }
            }
            Step::Finish => return self.finish(flight, workflow, bead, cx),
            Step::Retry => {
                flight.step = Step::Ready;
                let backoff_ms = 100_u64 << flight.attempts.min(10);
                DomainEvent::BeadRetryScheduled {
                    workflow,
                    bead,
                    at_ms: cx.now_ms + backoff_ms,
                }
            }
        };
        cx.out.push_back(event);
        self.flights.push(flight);
        Outcome::Going
    }

    /// The end of a running attempt: a failure, a timeout, or a completion
    /// that releases the bead's dependents (and may complete the workflow).
    fn finish(
        &mut self,
        mut flight: Flight,
        workflow: RunId,
        bead: BeadId,
        cx: &mut Context<'_>,
    ) -> Outcome {
        let attempt = flight.attempts;
        if attempt < MAX_ATTEMPTS {
            if cx.rng.chance(cx.params.failure_per_mille) {
                flight.step = Step::Retry;
                cx.out.push_back(DomainEvent::BeadFailed {
                    workflow,
                    bead,
                    attempt,
                    error: format!("exit status {}", 1 + cx.rng.below(3)),
                    retryable: true,
                });
                self.flights.push(flight);
                return Outcome::Going;
            }
            if cx.rng.chance(cx.params.timeout_per_mille) {
                flight.step = Step::Retry;
                cx.out.push_back(DomainEvent::BeadTimedOut {
                    workflow,
                    bead,
                    attempt,
                    reason: "attempt ran out of time".to_owned(),
                });
                self.flights.push(flight);
                return Outcome::Going;
            }
        }
        cx.out.push_back(if self.legacy {
            DomainEvent::BeadCompleted {
                workflow,
                bead,
                attempt,
                output: "ok".to_owned(),
            }
        } else {
            DomainEvent::BeadCompletedWithOutput {
                run: workflow,
                bead,
                attempt,
                output: Output::text("ok"),
                log_tail: String::new(),
            }
        });
        for &dependent in self
            .dependents
            .get(flight.bead)
            .map_or(&[][..], Vec::as_slice)
        {
            if let Some(waiting) = self.waiting.get_mut(dependent) {
                *waiting = waiting.saturating_sub(1);
                if *waiting == 0 {
                    self.flights.push(Flight {
                        bead: dependent,
                        step: Step::Ready,
                        attempts: 0,
                        stalls: 0,
                    });
                }
            }
        }
        self.remaining = self.remaining.saturating_sub(1);
        if self.remaining == 0 {
            cx.out.push_back(DomainEvent::WorkflowCompleted {
                workflow: self.id.clone(),
            });
            if self.expires {
                // Past its retention, the completed run leaves the state.
                cx.out.push_back(DomainEvent::RunExpired {
                    run: self.id.clone(),
                });
            }
            return Outcome::Finished;
        }
        Outcome::Going
    }

    /// Fails or cancels the workflow: cancels every released bead, then
    /// finishes the workflow. Beads never released stay pending.
    fn doom(&mut self, cx: &mut Context<'_>) {
        let reason = if self.doom_cancels {
            "cancelled by operator"
        } else {
            "a bead failed for good"
        };
        if self.doom_cancels && !self.legacy {
            // An operator pauses, thinks again, resumes, then cancels.
            cx.out.push_back(DomainEvent::RunPaused {
                run: self.id.clone(),
                reason: "looking into it".to_owned(),
            });
            cx.out.push_back(DomainEvent::RunResumed {
                run: self.id.clone(),
            });
        }
        self.flights.sort_unstable_by_key(|flight| flight.bead);
        for flight in &self.flights {
            cx.out.push_back(DomainEvent::BeadCancelled {
                workflow: self.id.clone(),
                bead: self.name(flight.bead),
                reason: reason.to_owned(),
            });
        }
        let workflow = self.id.clone();
        let reason = reason.to_owned();
        if self.doom_cancels {
            cx.out
                .push_back(DomainEvent::WorkflowCancelled { workflow, reason });
        } else if self.legacy {
            cx.out
                .push_back(DomainEvent::WorkflowFailed { workflow, reason });
        } else {
            // An operator retries it with nothing to rerun; it fails again.
            cx.out.push_back(DomainEvent::WorkflowFailed {
                workflow: workflow.clone(),
                reason: reason.clone(),
            });
            cx.out.push_back(DomainEvent::RunRetried {
                run: workflow.clone(),
                beads: Vec::new(),
            });
            cx.out
                .push_back(DomainEvent::WorkflowFailed { workflow, reason });
        }
    }
}
