//! Temporary: where WorkflowSubmitted time goes.
use std::time::Instant;
use rustc_hash::FxHashMap;
use strand_projections::synthetic::{HistoryParams, history};
use strand_projections::{DomainEvent, EventMeta, Projection, StateManager, BeadId};

fn main() {
    let params = HistoryParams::with_target_events(100_000);
    let sub = history(7, &params).find(|(e, _)| matches!(e, DomainEvent::WorkflowSubmitted { .. })).unwrap().0;
    let DomainEvent::WorkflowSubmitted { dag, .. } = &sub else { return };
    for _ in 0..3 {
        let t = Instant::now(); dag.validate().unwrap(); println!("validate {:?}", t.elapsed());
        let t = Instant::now(); let e = dag.edges(); println!("edges {:?} ({})", t.elapsed(), e.len());
        let t = Instant::now(); let m: FxHashMap<BeadId, usize> = dag.nodes().enumerate().map(|(i, id)| (id.clone(), i)).collect(); println!("position map {:?}", t.elapsed());
        let t = Instant::now(); let c = dag.clone(); println!("clone {:?}", t.elapsed());
        let t = Instant::now(); drop(c); println!("drop {:?}", t.elapsed());
        let t = Instant::now(); let mut s = StateManager::empty(); s.apply(EventMeta{seq:1, at_ms:1}, sub.clone()).unwrap(); println!("apply incl clone {:?}", t.elapsed());
        let t = Instant::now(); drop(s); println!("drop state {:?}", t.elapsed());
        drop(m);
    }
}
