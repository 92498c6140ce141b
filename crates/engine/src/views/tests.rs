//! Run listings: pages, walked by their cursors, are the whole listing in
//! order, filters applied, whatever the page size.

use strand_projections::synthetic::{HistoryParams, history};
use strand_projections::{EventMeta, RunStatus, StateManager, fold_in_memory};

use super::{RunFilter, RunList};

/// A state of 40 runs, some finished each way, some running.
fn state() -> StateManager {
    let params = HistoryParams {
        workflows: 40,
        beads_per_workflow: 3,
        doom_per_mille: 300,
        concurrent_workflows: 6,
        ..HistoryParams::default()
    };
    let events: Vec<_> = history(5, &params).collect();
    let cut = events.len() * 9 / 10;
    let events = (1..)
        .zip(events.into_iter().take(cut))
        .map(|(seq, (event, at_ms))| (EventMeta { seq, at_ms }, event));
    fold_in_memory(StateManager::new(), events).unwrap()
}

/// Every run `filter` admits, newest first, listed in pages of `limit`.
fn paged(state: &StateManager, filter: &RunFilter, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut before = None;
    loop {
        let page = RunList::of(
            state,
            &RunFilter {
                limit: Some(limit),
                before: before.take(),
                ..filter.clone()
            },
        );
        assert!(page.runs.len() <= limit);
        ids.extend(page.runs.iter().map(|run| run.id.as_str().to_owned()));
        match page.next {
            Some(next) => before = Some(next),
            None => return ids,
        }
    }
}

#[test]
fn given_many_runs_when_listed_a_page_at_a_time_then_the_pages_are_the_whole_listing_in_order() {
    let state = state();
    for filter in [
        RunFilter::default(),
        RunFilter {
            state: Some(RunStatus::Completed),
            ..RunFilter::default()
        },
        RunFilter {
            state: Some(RunStatus::Running),
            ..RunFilter::default()
        },
    ] {
        let whole: Vec<String> = RunList::of(&state, &filter)
            .runs
            .iter()
            .map(|run| run.id.as_str().to_owned())
            .collect();
        let mut expected: Vec<_> = state
            .entries()
            .filter(|run| filter.state.is_none_or(|s| run.status() == s))
            .map(|run| (run.submitted_at_ms(), run.id().as_str().to_owned()))
            .collect();
        expected.sort_unstable_by(|a, b| b.cmp(a));
        let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
        assert!(!expected.is_empty(), "{filter:?} admits some run");
        assert_eq!(whole, expected, "{filter:?}");
        for limit in [1, 3, 7, expected.len(), expected.len() + 1] {
            assert_eq!(
                paged(&state, &filter, limit),
                expected,
                "{filter:?}, pages of {limit}"
            );
        }
    }
}
