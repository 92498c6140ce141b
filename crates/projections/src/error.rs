//! [`ProjectionError`], the one error type of this crate. Callers branch on
//! variants, never on text.

use strand_dag::{BeadId, DagError};

use crate::definition::DefinitionHash;
use crate::ids::{RunId, WorkerId};
use crate::kind::EventKind;
use crate::lifecycle::{BeadState, RunStatus};

/// Everything that can go wrong when encoding or decoding an event, or when
/// applying one to a projection, snapshotting it or restoring it.
///
/// An `apply` that returns an error has left the projection exactly as it was.
/// Variants about an event carry its `seq` and the ids involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectionError {
    /// The event's seq is not after the last applied one.
    #[error("event seq {seq} is not after the last applied seq {applied}")]
    OutOfOrder {
        /// The event's seq.
        seq: u64,
        /// The projection's last applied seq.
        applied: u64,
    },
    /// The event names a workflow that was never submitted.
    #[error("seq {seq}: unknown workflow `{workflow}`")]
    UnknownWorkflow {
        /// The event's seq.
        seq: u64,
        /// The workflow named.
        workflow: RunId,
    },
    /// A workflow with this id was already submitted.
    #[error("seq {seq}: workflow `{workflow}` was already submitted")]
    DuplicateWorkflow {
        /// The event's seq.
        seq: u64,
        /// The workflow named.
        workflow: RunId,
    },
    /// The submission is inconsistent.
    #[error("seq {seq}: bad submission of workflow `{workflow}`: {defect}")]
    BadSubmission {
        /// The event's seq.
        seq: u64,
        /// The workflow submitted.
        workflow: RunId,
        /// What is wrong with it.
        defect: SubmissionDefect,
    },
    /// An operator's control that the run's state does not allow (a pause
    /// of a finished or paused run, a resume of one not paused, a retry of
    /// one not failed or cancelled).
    #[error("seq {seq}: {event} is not allowed on run `{workflow}`, which is {status}{}", if *.paused { " and paused" } else { "" })]
    ControlNotApplicable {
        /// The event's seq.
        seq: u64,
        /// The run.
        workflow: RunId,
        /// The refused control event.
        event: EventKind,
        /// The run's status.
        status: RunStatus,
        /// Whether it is paused.
        paused: bool,
    },
    /// The event names a bead that is not in the workflow.
    #[error("seq {seq}: workflow `{workflow}` has no bead `{bead}`")]
    UnknownBead {
        /// The event's seq.
        seq: u64,
        /// The workflow.
        workflow: RunId,
        /// The bead named.
        bead: BeadId,
    },
    /// The bead's current state does not allow this event.
    #[error("seq {seq}: bead `{bead}` of workflow `{workflow}` is {from}: {event} is not allowed")]
    InvalidTransition {
        /// The event's seq.
        seq: u64,
        /// The workflow.
        workflow: RunId,
        /// The bead.
        bead: BeadId,
        /// The bead's state before the event.
        from: BeadState,
        /// The refused event.
        event: EventKind,
    },
    /// A pending bead was made ready before all its blocking dependencies
    /// completed.
    #[error(
        "seq {seq}: bead `{bead}` of workflow `{workflow}` made ready before its dependency `{missing}` completed"
    )]
    DependenciesNotCompleted {
        /// The event's seq.
        seq: u64,
        /// The workflow.
        workflow: RunId,
        /// The bead.
        bead: BeadId,
        /// One blocking dependency (the smallest id) that has not completed.
        missing: BeadId,
    },
    /// The event's attempt number is not the one the bead's state implies.
    #[error(
        "seq {seq}: bead `{bead}` of workflow `{workflow}`: attempt {found}, expected {expected}"
    )]
    AttemptMismatch {
        /// The event's seq.
        seq: u64,
        /// The workflow.
        workflow: RunId,
        /// The bead.
        bead: BeadId,
        /// The attempt the state implies.
        expected: u32,
        /// The attempt in the event.
        found: u32,
    },
    /// The workflow has finished: no workflow or bead event applies to it any more.
    #[error("seq {seq}: workflow `{workflow}` has already finished ({status})")]
    WorkflowFinished {
        /// The event's seq.
        seq: u64,
        /// The workflow.
        workflow: RunId,
        /// How it finished.
        status: RunStatus,
    },
    /// The fold of this event reads the run's stream, which the driver did
    /// not give ([`Projection::stream_needed`](crate::Projection::stream_needed)):
    /// a retry of a finished run the state holds as its summary.
    #[error("seq {seq}: the fold of this event for run `{workflow}` needs the run's stream")]
    StreamNeeded {
        /// The event's seq.
        seq: u64,
        /// The run.
        workflow: RunId,
    },
    /// The stream given for the fold of this event is not the history of
    /// the run the state holds a summary of (another submission or
    /// outcome, or no run at all).
    #[error(
        "seq {seq}: the stream given for run `{workflow}` is not the history its summary holds"
    )]
    StreamMismatch {
        /// The event's seq.
        seq: u64,
        /// The run.
        workflow: RunId,
    },
    /// The workflow was declared completed while one of its beads was not.
    #[error("seq {seq}: workflow `{workflow}` cannot complete: bead `{bead}` is {state}")]
    WorkflowIncomplete {
        /// The event's seq.
        seq: u64,
        /// The workflow.
        workflow: RunId,
        /// One bead (the smallest id) that has not completed.
        bead: BeadId,
        /// That bead's state.
        state: BeadState,
    },
    /// The event names a worker that was never spawned.
    #[error("seq {seq}: unknown worker `{worker}`")]
    UnknownWorker {
        /// The event's seq.
        seq: u64,
        /// The worker named.
        worker: WorkerId,
    },
    /// The worker died already and was not spawned again.
    #[error("seq {seq}: worker `{worker}` is not alive")]
    WorkerNotAlive {
        /// The event's seq.
        seq: u64,
        /// The worker named.
        worker: WorkerId,
    },
    /// A checkpoint event names a watermark after its own seq.
    #[error("seq {seq}: checkpoint `{name}` claims watermark {checkpoint_seq}, after its own seq")]
    CheckpointAhead {
        /// The event's seq.
        seq: u64,
        /// The checkpoint's name.
        name: String,
        /// The watermark it claims.
        checkpoint_seq: u64,
    },
    /// An envelope's kind tag names no event kind.
    #[error("unknown event kind tag {kind}")]
    UnknownKind {
        /// The tag.
        kind: u16,
    },
    /// The body decoded to another event than its envelope's kind says.
    #[error("envelope says {kind} but the body decodes as {decoded}")]
    KindMismatch {
        /// The kind in the envelope.
        kind: EventKind,
        /// The kind of the decoded body.
        decoded: EventKind,
    },
    /// An event body did not decode.
    #[error("event body of kind {kind} does not decode: {source}")]
    Decode {
        /// The kind in the envelope.
        kind: EventKind,
        /// The decoder's error.
        #[source]
        source: bincode::error::DecodeError,
    },
    /// An event body decoded with bytes left over (a body is exactly one event).
    #[error("event body of kind {kind} has {len} trailing bytes")]
    TrailingBytes {
        /// The kind in the envelope.
        kind: EventKind,
        /// How many bytes were left over.
        len: usize,
    },
    /// An event did not encode.
    #[error("event of kind {kind} does not encode: {source}")]
    Encode {
        /// The event's kind.
        kind: EventKind,
        /// The encoder's error.
        #[source]
        source: bincode::error::EncodeError,
    },
    /// An encoded event is over the body bound, so it could never be decoded.
    #[error("event of kind {kind} encodes to {len} bytes, over the bound of {max}")]
    EventTooLarge {
        /// The event's kind.
        kind: EventKind,
        /// Its encoded length.
        len: usize,
        /// [`MAX_EVENT_LEN`](crate::codec::MAX_EVENT_LEN).
        max: usize,
    },
    /// A snapshot did not encode.
    #[error("snapshot does not encode: {source}")]
    SnapshotEncode {
        /// The encoder's error.
        #[source]
        source: bincode::error::EncodeError,
    },
    /// A snapshot is over the snapshot bound, so it could never be restored.
    #[error("snapshot encodes to {len} bytes, over the bound of {max}")]
    SnapshotTooLarge {
        /// Its encoded length.
        len: usize,
        /// [`MAX_SNAPSHOT_LEN`](crate::codec::MAX_SNAPSHOT_LEN).
        max: usize,
    },
    /// Snapshot bytes did not decode.
    #[error("snapshot does not decode: {source}")]
    Snapshot {
        /// The decoder's error.
        #[source]
        source: bincode::error::DecodeError,
    },
    /// Snapshot bytes decoded with bytes left over.
    #[error("snapshot has {len} trailing bytes")]
    SnapshotTrailingBytes {
        /// How many bytes were left over.
        len: usize,
    },
    /// Snapshot bytes are of another format version.
    #[error("snapshot format version {found}, expected {expected}")]
    SnapshotVersion {
        /// The version in the bytes (or 0 when too short to hold one).
        found: u32,
        /// The version this code reads.
        expected: u32,
    },
    /// Snapshot bytes decoded but describe an impossible state.
    #[error("snapshot is inconsistent: {defect}")]
    SnapshotInconsistent {
        /// What is impossible.
        defect: SnapshotDefect,
    },
}

/// What is wrong with a workflow submission.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubmissionDefect {
    /// The DAG is not a DAG (a cycle or a self-loop).
    #[error("invalid graph: {0}")]
    InvalidDag(DagError),
    /// Two tasks have this id.
    #[error("two tasks are named `{0}`")]
    DuplicateTask(BeadId),
    /// A task is not a node of the DAG.
    #[error("task `{0}` is not a node of the graph")]
    TaskNotInDag(BeadId),
    /// The graph has more beads than one workflow may hold.
    #[error("{0} beads are more than one workflow may hold")]
    TooManyBeads(usize),
    /// A node of the DAG has no task.
    #[error("node `{0}` of the graph has no task")]
    MissingTask(BeadId),
    /// The submission's definition hash is not the hash of what it holds.
    #[error("its definition hash {claimed} is not the hash of its definition, {actual}")]
    DefinitionHash {
        /// The hash the submission carries.
        claimed: DefinitionHash,
        /// The hash of its name, graph and tasks.
        actual: DefinitionHash,
    },
}

/// What makes a decoded snapshot impossible.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotDefect {
    /// Two workflows have this id, or they are not in id order.
    #[error("workflow `{0}` is duplicated or out of order")]
    WorkflowOrder(RunId),
    /// A workflow's tasks or bead records do not match its graph's nodes.
    #[error("workflow `{workflow}`: {detail}")]
    WorkflowShape {
        /// The workflow.
        workflow: RunId,
        /// Which list does not match.
        detail: &'static str,
    },
    /// Two entries of a keyed list have this key, or they are not in order.
    #[error("{list} entry `{key}` is duplicated or out of order")]
    KeyOrder {
        /// Which list.
        list: &'static str,
        /// The offending key.
        key: String,
    },
    /// More events applied than seqs seen, or a seq with no event.
    #[error("events applied ({events}) and applied seq ({seq}) disagree")]
    Counters {
        /// Events applied.
        events: u64,
        /// Last applied seq.
        seq: u64,
    },
}
