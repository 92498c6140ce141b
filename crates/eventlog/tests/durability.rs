//! Durability and seq assignment of the group-commit writer, on real RocksDB
//! with synced writes.

use std::collections::BTreeSet;

use strand_eventlog::{Error, EventLog, LogOptions, NewEvent, Seq};

fn event(stream: &str, n: u64) -> NewEvent {
    NewEvent::new(stream, 1, n.to_le_bytes().to_vec())
}

/// Guards against acknowledged events living only in memory: every event
/// acknowledged before the handle is dropped (no clean close) is read back
/// after reopening.
#[test]
fn given_acknowledged_appends_when_reopened_without_close_then_every_event_is_there()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let mut acked = Vec::new();
    {
        let log = EventLog::open(dir.path(), LogOptions::default())?;
        for n in 0..50 {
            let range = log.append_blocking(vec![event("a", n), event("b", n)])?;
            acked.push(range);
        }
        // Dropped without close: only the WAL holds these events.
    }
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    assert_eq!(log.last_seq(), Seq(100));
    let events: Vec<_> = log
        .read_range(Seq(1), Seq(100))?
        .collect::<Result<_, _>>()?;
    assert_eq!(events.len(), 100);
    for (i, range) in acked.iter().enumerate() {
        let n = i as u64;
        assert_eq!(range.len(), 2);
        let first = &events[usize::try_from(range.first.0 - 1).unwrap()];
        assert_eq!(
            (first.stream.as_str(), first.body.as_slice()),
            ("a", &n.to_le_bytes()[..])
        );
    }
    // Appends continue the sequence and the chain after a reopen.
    assert_eq!(log.append_blocking(vec![event("a", 99)])?.first, Seq(101));
    assert!(log.verify(&mut |_| {}).ok);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_many_concurrent_producers_when_appending_then_ranges_are_disjoint_and_cover_one_to_total()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    let producers = 64u64;
    let per_producer = 40u64;
    let mut tasks = Vec::new();
    for p in 0..producers {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut ranges = Vec::new();
            for i in 0..per_producer {
                let size = 1 + (i % 3);
                let events = (0..size)
                    .map(|k| event(&format!("p{p}"), i * 10 + k))
                    .collect();
                ranges.push((log.append(events).await?, size));
            }
            Ok::<_, Error>(ranges)
        }));
    }
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for task in tasks {
        for (range, size) in task.await.unwrap()? {
            assert_eq!(range.len(), size, "a range is exactly the events appended");
            for seq in range.iter() {
                assert!(seen.insert(seq.0), "seq {seq} assigned twice");
            }
            total += size;
        }
    }
    assert_eq!(seen, (1..=total).collect::<BTreeSet<_>>());
    let stats = log.stats();
    assert_eq!(stats.events, total);
    assert!(stats.fsyncs <= producers * per_producer);
    let log2 = log.clone();
    let report = tokio::task::spawn_blocking(move || log2.verify(&mut |_| {}))
        .await
        .unwrap();
    assert!(report.ok, "{:?}", report.error);
    assert_eq!(report.records, total);
    log.close().await
}

#[test]
fn given_streams_when_read_by_stream_then_only_that_stream_in_seq_order() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    for n in 0..10 {
        log.append_blocking(vec![event(if n % 2 == 0 { "even" } else { "odd" }, n)])?;
    }
    let odd: Vec<_> = log.read_stream("odd", Seq(5))?.collect::<Result<_, _>>()?;
    let seqs: Vec<u64> = odd.iter().map(|e| e.seq.0).collect();
    assert_eq!(seqs, vec![6, 8, 10]);
    assert!(odd.iter().all(|e| e.stream == "odd"));
    // A stream whose name is a prefix of another's sees only its own events.
    log.append_blocking(vec![event("od", 0)])?;
    assert_eq!(log.read_stream("od", Seq(1))?.count(), 1);
    Ok(())
}

#[test]
fn given_bad_appends_when_submitted_then_typed_errors_and_nothing_written() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    assert!(matches!(
        log.append_blocking(vec![]),
        Err(Error::EmptyAppend)
    ));
    let long_name = "s".repeat(strand_eventlog::MAX_STREAM_LEN + 1);
    assert!(matches!(
        log.append_blocking(vec![event("ok", 1), event(&long_name, 2)]),
        Err(Error::StreamNameTooLong { .. })
    ));
    let huge = NewEvent::new("big", 1, vec![0; strand_eventlog::MAX_PAYLOAD_LEN]);
    assert!(matches!(
        log.append_blocking(vec![huge]),
        Err(Error::RecordTooLarge { .. })
    ));
    assert_eq!(log.last_seq(), Seq(0));
    // The failed requests consumed no seq.
    assert_eq!(log.append_blocking(vec![event("ok", 1)])?.first, Seq(1));
    Ok(())
}

#[test]
fn given_closed_log_when_appending_then_closed_and_reopen_continues() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    log.append_blocking(vec![event("a", 1)])?;
    log.close_blocking()?;
    assert!(matches!(
        log.append_blocking(vec![event("a", 2)]),
        Err(Error::Closed)
    ));
    drop(log);
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    assert_eq!(log.append_blocking(vec![event("a", 2)])?.first, Seq(2));
    Ok(())
}

#[test]
fn given_missing_directory_when_opened_without_create_then_not_found_and_nothing_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent");
    let err = EventLog::open(&path, LogOptions::default().create_if_missing(false)).unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }));
    assert!(matches!(
        EventLog::open_read_only(&path),
        Err(Error::NotFound { .. })
    ));
    assert!(!path.exists());
}

#[test]
fn given_read_only_log_when_appending_then_read_only_error() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    EventLog::open(dir.path(), LogOptions::default())?.close_blocking()?;
    let log = EventLog::open_read_only(dir.path())?;
    assert!(matches!(
        log.append_blocking(vec![event("a", 1)]),
        Err(Error::ReadOnly)
    ));
    Ok(())
}

#[test]
fn given_invalid_options_when_opening_then_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err =
        EventLog::open(dir.path(), LogOptions::default().checkpoint_generations(1)).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidOption {
            name: "checkpoint_generations",
            ..
        }
    ));
}

#[test]
fn given_a_creation_killed_before_its_rename_when_the_log_is_created_again_then_the_staging_directory_is_gone_and_the_log_whole()
-> Result<(), Error> {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    // What a process killed mid-creation leaves: a hidden staging directory
    // with part of a database in it, and nothing at the target.
    let stale = root.path().join(".data.strand-create-killed");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("MANIFEST-000001"), b"half").unwrap();
    let log = EventLog::open(&data, LogOptions::default())?;
    log.append_blocking(vec![event("s", 1)])?;
    log.close_blocking()?;
    drop(log);
    assert!(!stale.exists(), "the stale staging directory is removed");
    let names: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["data"], "only the log is left beside it");
    // Whole: read-only commands open it (every column family is there).
    assert_eq!(EventLog::open_read_only(&data)?.last_seq(), Seq(1));
    Ok(())
}
