//! Submissions: those queued together are admitted in order (against the
//! log and the runs accepted earlier in the batch), written in one synced
//! batch, then answered.

use ractor::RpcReplyPort;
use strand_projections::{DefinitionHash, DomainEvent, RunId, StateManager};

use crate::error::{ActorError, Result, RunDifference};
use crate::orchestration::scheduler::admission;
use crate::orchestration::scheduler::{Reuse, SchedulerState, Started, Submission};

/// A submission accepted into a batch, until it is answered.
struct Accepted {
    run: RunId,
    name: String,
    definition: DefinitionHash,
    input: String,
    reply: RpcReplyPort<Result<Started>>,
}

impl SchedulerState {
    /// Every submission queued: admitted in order (as if one by one), the
    /// accepted ones written in one synced batch, what follows from them in
    /// one more, then answered.
    pub(super) async fn submit_batch(&mut self) -> Result<()> {
        self.submit_queued = false;
        let mut accepted: Vec<Accepted> = Vec::new();
        let mut events = Vec::new();
        for (submission, reply) in std::mem::take(&mut self.submissions) {
            match self.admit(&submission, &accepted) {
                Err(error) => {
                    let _ = reply.send(Err(error));
                }
                Ok(Some(started)) => {
                    let _ = reply.send(Ok(started));
                }
                Ok(None) => {
                    // Refuse a bad submission before anything is written:
                    // the log must hold only events its projection accepts.
                    let checked = StateManager::check_submission(
                        &submission.run,
                        &submission.name,
                        submission.definition,
                        &submission.dag,
                        &submission.tasks,
                        &submission.settings,
                    );
                    if let Err(error) = checked {
                        let _ = reply.send(Err(error.into()));
                        continue;
                    }
                    accepted.push(Accepted {
                        run: submission.run.clone(),
                        name: submission.name.clone(),
                        definition: submission.definition,
                        input: submission.input.clone(),
                        reply,
                    });
                    let event = DomainEvent::RunSubmitted {
                        run: submission.run,
                        name: submission.name,
                        definition: submission.definition,
                        dag: Box::new(submission.dag),
                        tasks: submission.tasks,
                        input: submission.input,
                        settings: Box::new(submission.settings),
                    };
                    events.push(event);
                }
            }
        }
        if events.is_empty() {
            return Ok(());
        }
        if let Err(error) = self.persist(events).await {
            let poisoned = matches!(error, ActorError::Poisoned);
            let mut first = Some(error);
            for submission in accepted {
                let error = first.take().unwrap_or(ActorError::Poisoned);
                let _ = submission.reply.send(Err(error));
            }
            // Nothing more can be made durable: fail, and escalate.
            return if poisoned {
                Err(ActorError::Poisoned)
            } else {
                Ok(())
            };
        }
        let plans = accepted
            .iter()
            .filter_map(|submission| self.plan_advance(&submission.run, None))
            .collect();
        let carried = self.carry_out(plans).await;
        for submission in accepted {
            let started = Started {
                run: submission.run,
                existing: false,
            };
            let _ = submission.reply.send(Ok(started));
        }
        carried
    }

    /// The run `submission` names (in the log, or accepted earlier in this
    /// batch), `None` for a new run, or why it is refused.
    fn admit(&self, submission: &Submission, accepted: &[Accepted]) -> Result<Option<Started>> {
        if let Some(started) = admission::existing(&self.state, submission)? {
            return Ok(Some(started));
        }
        let found = |run: &RunId| {
            Ok(Some(Started {
                run: run.clone(),
                existing: true,
            }))
        };
        for earlier in accepted {
            match submission.reuse {
                Reuse::Exact if earlier.run == submission.run => {
                    if earlier.definition != submission.definition {
                        return Err(ActorError::RunConflict {
                            run: submission.run.as_str().to_owned(),
                            differs: RunDifference::Definition,
                        });
                    }
                    if !admission::same_input(&earlier.input, &submission.input) {
                        return Err(ActorError::RunConflict {
                            run: submission.run.as_str().to_owned(),
                            differs: RunDifference::Input,
                        });
                    }
                    return found(&earlier.run);
                }
                Reuse::New if earlier.run == submission.run => {
                    return Err(ActorError::RunExists {
                        run: submission.run.as_str().to_owned(),
                    });
                }
                Reuse::ResumeUnfinished if earlier.name == submission.name => {
                    if earlier.definition != submission.definition {
                        return Err(ActorError::DefinitionChanged {
                            run: earlier.run.as_str().to_owned(),
                            name: submission.name.clone(),
                            existing: earlier.definition.short(),
                            submitted: submission.definition.short(),
                        });
                    }
                    return found(&earlier.run);
                }
                _ => {}
            }
        }
        admission::check_affinity(
            &submission.tasks,
            &self.options.workers,
            self.placement.affinity(),
        )?;
        Ok(None)
    }
}
