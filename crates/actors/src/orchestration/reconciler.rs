//! [`Reconciler`]: on every tick (1 s by default) it asks the scheduler to
//! compare what it believes runs with what is alive. Attempts whose worker
//! died are then timed out with that reason and run again, each action an
//! event in the log. It is permanent under its own supervisor.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::task::JoinHandle;

use crate::orchestration::scheduler::SchedulerMsg;
use crate::orchestration::tree::names;
use crate::supervisor::{ChildHandle, SupervisorRef};

/// Where the reconciler finds the scheduler: the root of the tree, set
/// once it runs. The scheduler is looked up from it on every tick, so a
/// restarted workflow branch (new supervisor, new scheduler) is found too.
#[derive(Clone, Debug, Default)]
pub struct SchedulerLink(Arc<RwLock<Option<SupervisorRef>>>);

impl SchedulerLink {
    /// An empty link.
    pub fn new() -> Self {
        Self::default()
    }

    /// Point the link at the tree's root.
    pub fn set(&self, root: SupervisorRef) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Some(root);
    }

    /// The current scheduler, if the tree runs.
    async fn get(&self) -> Option<ChildHandle<SchedulerMsg>> {
        let root = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()?;
        root.supervisor(names::WORKFLOW)
            .await
            .ok()?
            .child::<SchedulerMsg>(names::SCHEDULER)
            .await
            .ok()
    }
}

/// What the reconciler is sent.
#[derive(Debug)]
pub enum ReconcilerMsg {
    /// Time to reconcile.
    Tick,
}

/// The reconciler actor; its arguments are the link and the interval.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reconciler;

/// Its state: the link and its timer.
#[derive(Debug)]
pub struct ReconcilerState {
    link: SchedulerLink,
    every: Duration,
    timer: Option<JoinHandle<()>>,
}

impl Actor for Reconciler {
    type Msg = ReconcilerMsg;
    type State = ReconcilerState;
    type Arguments = (SchedulerLink, Duration);

    async fn pre_start(
        &self,
        _myself: ActorRef<ReconcilerMsg>,
        (link, every): Self::Arguments,
    ) -> Result<ReconcilerState, ActorProcessingErr> {
        Ok(ReconcilerState {
            link,
            every,
            timer: None,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<ReconcilerMsg>,
        state: &mut ReconcilerState,
    ) -> Result<(), ActorProcessingErr> {
        state.timer = Some(myself.send_interval(state.every, || ReconcilerMsg::Tick));
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<ReconcilerMsg>,
        state: &mut ReconcilerState,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(timer) = state.timer.take() {
            timer.abort();
        }
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<ReconcilerMsg>,
        ReconcilerMsg::Tick: ReconcilerMsg,
        state: &mut ReconcilerState,
    ) -> Result<(), ActorProcessingErr> {
        // A scheduler that is down (restarting) recovers from the log on
        // its own; the next tick finds the new one.
        if let Some(scheduler) = state.link.get().await {
            let _ = scheduler.cast(SchedulerMsg::Reconcile);
        }
        Ok(())
    }
}
