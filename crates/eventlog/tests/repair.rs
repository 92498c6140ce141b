//! `repair truncate`: cutting the log back to a seq, with a copy taken first.

use std::path::Path;

use strand_eventlog::repair::{RemovedCheckpoint, plan_truncate, truncate_after};
use strand_eventlog::{Error, EventLog, LogOptions, NewCheckpoint, NewEvent, Seq};

/// 100 events over streams a/b/c (a gets seqs 1, 4, 7, …), checkpoints
/// "p" at 30 and 90 and "q" at 50, closed cleanly.
#[expect(clippy::unwrap_used, reason = "test fixture")]
fn fixture(dir: &Path) {
    let log = EventLog::open(dir, LogOptions::default()).unwrap();
    for n in 0..100u64 {
        let stream = match n % 3 {
            0 => "a",
            1 => "b",
            _ => "c",
        };
        log.append_blocking(vec![NewEvent::new(stream, 1, n.to_le_bytes().to_vec())])
            .unwrap();
        for (name, at) in [("p", 30), ("q", 50), ("p", 90)] {
            if n + 1 == at {
                log.put_checkpoint_blocking(NewCheckpoint {
                    name: name.into(),
                    seq: Seq(at),
                    format_version: 1,
                    data: vec![1, 2, 3],
                })
                .unwrap();
            }
        }
    }
    log.close_blocking().unwrap();
}

#[test]
fn given_a_log_when_planning_a_truncation_then_it_names_what_would_go_and_writes_nothing()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let plan = plan_truncate(dir.path(), Seq(60))?;
    assert_eq!((plan.last_seq, plan.records), (Seq(100), 40));
    assert_eq!(
        plan.streams,
        vec![("a".into(), 14), ("b".into(), 13), ("c".into(), 13)]
    );
    assert_eq!(
        plan.checkpoints,
        vec![RemovedCheckpoint {
            name: "p".into(),
            id: 2,
            seq: Some(Seq(90))
        }]
    );
    let log = EventLog::open_read_only(dir.path())?;
    assert_eq!(log.last_seq(), Seq(100));
    assert_eq!(log.list_checkpoints()?.len(), 3);
    Ok(())
}

#[test]
fn given_a_log_when_truncated_then_the_tail_and_newer_checkpoints_are_gone_a_backup_holds_everything_and_the_log_verifies()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fixture(&data);
    let backup = dir.path().join("backup");
    let outcome = truncate_after(&data, Seq(60), &backup)?;
    assert!(outcome.verify.ok, "{:?}", outcome.verify.error);
    assert_eq!(outcome.verify.last_seq, Some(Seq(60)));
    assert_eq!(outcome.plan.records, 40);

    // The copy taken first is the whole, untouched log.
    let copy = EventLog::open_read_only(&backup)?;
    assert_eq!(copy.last_seq(), Seq(100));
    assert!(copy.verify(&mut |_| {}).ok);

    let log = EventLog::open(&data, LogOptions::default())?;
    assert_eq!(log.last_seq(), Seq(60));
    assert_eq!(
        log.load_checkpoint("p", 1)?.checkpoint.map(|c| c.seq),
        Some(Seq(30))
    );
    assert_eq!(
        log.load_checkpoint("q", 1)?.checkpoint.map(|c| c.seq),
        Some(Seq(50))
    );
    let a: Vec<Seq> = log
        .read_stream("a", Seq(1))?
        .map(|e| e.map(|e| e.seq))
        .collect::<Result<_, _>>()?;
    assert_eq!(a.last(), Some(&Seq(58)));
    // Appends continue the sequence and the checksum chain.
    assert_eq!(
        log.append_blocking(vec![NewEvent::new("a", 1, vec![0])])?
            .first,
        Seq(61)
    );
    let report = log.verify(&mut |_| {});
    assert!(report.ok, "{:?}", report.error);
    assert_eq!(report.records, 61);
    Ok(())
}

#[test]
fn given_nothing_after_the_seq_when_truncating_then_refused_and_no_backup_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fixture(&data);
    let backup = dir.path().join("backup");
    let err = truncate_after(&data, Seq(100), &backup).unwrap_err();
    assert!(
        matches!(
            err,
            Error::BadTruncation {
                after: Seq(100),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!backup.exists());
}

#[test]
fn given_an_existing_backup_path_when_truncating_then_refused_and_nothing_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fixture(&data);
    let backup = dir.path().join("backup");
    std::fs::create_dir(&backup).unwrap();
    std::fs::write(backup.join("x"), b"x").unwrap();
    assert!(truncate_after(&data, Seq(10), &backup).is_err());
    assert_eq!(
        EventLog::open_read_only(&data).unwrap().last_seq(),
        Seq(100)
    );
}

#[test]
fn given_a_missing_directory_when_planning_then_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let err = plan_truncate(&dir.path().join("nope"), Seq(1)).unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}
