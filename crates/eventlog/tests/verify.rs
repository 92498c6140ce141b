//! `verify` finds every kind of damage and never reports a damaged log as a
//! shorter, healthy one.

use std::path::Path;

use rocksdb::{DB, Options};
use strand_eventlog::fuzzing::sample_record;
use strand_eventlog::{Error, EventLog, LogOptions, NewEvent, Seq};

const CFS: [&str; 4] = ["log", "stream_index", "checkpoints", "meta"];

fn write_log(dir: &Path, n: u64) -> Result<(), Error> {
    let log = EventLog::open(dir, LogOptions::default())?;
    for i in 0..n {
        log.append_blocking(vec![NewEvent::new(format!("s{}", i % 3), 1, vec![7; 64])])?;
    }
    log.close_blocking()
}

/// Overwrite (or delete) raw keys under the log, bypassing Strand.
#[expect(
    clippy::unwrap_used,
    reason = "test helper: a panic here fails the test"
)]
fn tamper(dir: &Path, f: impl FnOnce(&DB)) {
    let db = DB::open_cf(&Options::default(), dir, CFS).unwrap();
    f(&db);
}

#[expect(
    clippy::unwrap_used,
    reason = "test helper: a panic here fails the test"
)]
fn verify(dir: &Path) -> strand_eventlog::VerifyReport {
    EventLog::open_read_only(dir).unwrap().verify(&mut |_| {})
}

#[test]
fn given_healthy_log_when_verified_then_ok_with_counts() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 20)?;
    let report = verify(dir.path());
    assert!(report.ok, "{:?}", report.error);
    assert_eq!(
        (report.records, report.first_seq, report.last_seq),
        (20, Some(Seq(1)), Some(Seq(20)))
    );
    assert_eq!(report.index_entries, 20);
    assert_eq!(report.first_bad_seq, None);
    Ok(())
}

#[test]
fn given_flipped_byte_in_record_when_verified_then_first_bad_seq_names_it() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 10)?;
    tamper(dir.path(), |db| {
        let cf = db.cf_handle("log").unwrap();
        let mut value = db.get_cf(cf, 6u64.to_be_bytes()).unwrap().unwrap();
        value[20] ^= 0x40;
        db.put_cf(cf, 6u64.to_be_bytes(), value).unwrap();
    });
    let report = verify(dir.path());
    assert!(!report.ok);
    assert_eq!(report.first_bad_seq, Some(Seq(6)));
    assert_eq!(report.records, 5);
    assert!(matches!(
        report.error,
        Some(Error::CorruptRecord { seq: Seq(6), .. })
    ));
    // A writable open of a log whose damage is mid-log still opens (the tail
    // is intact); reading through the damage fails with the typed error.
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    let err = log
        .read_range(Seq(1), Seq(10))?
        .find_map(Result::err)
        .unwrap();
    assert!(matches!(err, Error::CorruptRecord { seq: Seq(6), .. }));
    Ok(())
}

#[test]
fn given_deleted_record_when_verified_then_gap_is_reported() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 10)?;
    tamper(dir.path(), |db| {
        db.delete_cf(db.cf_handle("log").unwrap(), 4u64.to_be_bytes())
            .unwrap();
    });
    let report = verify(dir.path());
    assert_eq!(report.first_bad_seq, Some(Seq(4)));
    assert!(matches!(
        report.error,
        Some(Error::Gap {
            expected: Seq(4),
            found: Seq(5)
        })
    ));
    Ok(())
}

#[test]
fn given_record_replaced_by_valid_frame_with_wrong_chain_when_verified_then_chain_mismatch()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 5)?;
    tamper(dir.path(), |db| {
        // A well-formed record (good crc, right seq) that was not written
        // after seq 2: reordering or splicing is caught by the chain.
        let forged = sample_record(3, "s0", 1, &[7; 64], 0xDEAD_BEEF).unwrap();
        db.put_cf(db.cf_handle("log").unwrap(), 3u64.to_be_bytes(), forged)
            .unwrap();
    });
    let report = verify(dir.path());
    assert_eq!(report.first_bad_seq, Some(Seq(3)));
    assert!(matches!(
        report.error,
        Some(Error::ChainMismatch { seq: Seq(3), .. })
    ));
    Ok(())
}

#[test]
fn given_tail_removed_after_clean_close_when_opened_then_lost_tail_refuses() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 10)?;
    tamper(dir.path(), |db| {
        let log = db.cf_handle("log").unwrap();
        let index = db.cf_handle("stream_index").unwrap();
        db.delete_cf(log, 10u64.to_be_bytes()).unwrap();
        let mut key = vec![0, 2, b's', b'0'];
        key.extend_from_slice(&10u64.to_be_bytes());
        db.delete_cf(index, key).unwrap();
    });
    let report = verify(dir.path());
    assert!(!report.ok, "a shorter log is never reported healthy");
    assert_eq!(report.records, 9);
    assert_eq!(report.first_bad_seq, Some(Seq(10)));
    assert!(matches!(
        report.error,
        Some(Error::LostTail {
            expected_at_least: Seq(10),
            found: Seq(9)
        })
    ));
    let err = EventLog::open(dir.path(), LogOptions::default()).unwrap_err();
    assert!(matches!(err, Error::LostTail { .. }));
    Ok(())
}

#[test]
fn given_corrupt_tail_record_when_opened_for_writing_then_refused_with_its_seq() -> Result<(), Error>
{
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 4)?;
    tamper(dir.path(), |db| {
        db.put_cf(db.cf_handle("log").unwrap(), 4u64.to_be_bytes(), b"garbage")
            .unwrap();
    });
    let err = EventLog::open(dir.path(), LogOptions::default()).unwrap_err();
    assert!(
        matches!(err, Error::CorruptRecord { seq: Seq(4), .. }),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn given_index_entry_removed_when_verified_then_index_count_reported() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 3)?;
    tamper(dir.path(), |db| {
        let mut key = vec![0, 2, b's', b'1'];
        key.extend_from_slice(&2u64.to_be_bytes());
        db.delete_cf(db.cf_handle("stream_index").unwrap(), key)
            .unwrap();
    });
    let report = verify(dir.path());
    assert!(matches!(
        report.error,
        Some(Error::IndexCount {
            records: 3,
            entries: 2
        })
    ));
    Ok(())
}

#[test]
fn given_other_format_version_when_opened_then_unsupported_format() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 1)?;
    tamper(dir.path(), |db| {
        db.put_cf(db.cf_handle("meta").unwrap(), "format_version", [9u8])
            .unwrap();
    });
    for err in [
        EventLog::open(dir.path(), LogOptions::default()).unwrap_err(),
        EventLog::open_read_only(dir.path()).unwrap_err(),
    ] {
        assert!(matches!(
            err,
            Error::UnsupportedFormat {
                found: 9,
                supported: strand_eventlog::FORMAT_VERSION
            }
        ));
    }
    Ok(())
}

/// Flip one byte at many offsets of every file of a cleanly closed log: each
/// trial must end in a refused open, a verify that reports a problem, or a
/// verify that reports the full, intact log. Never fewer records as ok.
#[test]
fn given_byte_flips_anywhere_in_closed_log_files_when_verified_then_never_a_silent_short_log()
-> Result<(), Error> {
    let pristine = tempfile::tempdir().unwrap();
    write_log(pristine.path(), 300)?;
    let files: Vec<_> = std::fs::read_dir(pristine.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    let (mut refused, mut reported, mut intact) = (0, 0, 0);
    for file in &files {
        let len = std::fs::metadata(file).unwrap().len();
        if len == 0 {
            continue;
        }
        for k in 0..6u64 {
            let offset = (len * (2 * k + 1)) / 12;
            let trial = tempfile::tempdir().unwrap();
            for f in &files {
                std::fs::copy(f, trial.path().join(f.file_name().unwrap())).unwrap();
            }
            let target = trial.path().join(file.file_name().unwrap());
            let mut bytes = std::fs::read(&target).unwrap();
            bytes[usize::try_from(offset).unwrap()] ^= 0x10;
            std::fs::write(&target, bytes).unwrap();
            match EventLog::open_read_only(trial.path()) {
                Err(_) => refused += 1,
                Ok(log) => {
                    let report = log.verify(&mut |_| {});
                    if report.ok {
                        assert_eq!(
                            report.records, 300,
                            "flip in {file:?} at {offset}: short log reported ok"
                        );
                        intact += 1;
                    } else {
                        reported += 1;
                    }
                }
            }
        }
    }
    println!("byte flips: refused={refused} reported={reported} intact={intact}");
    assert!(refused + reported > 0, "some flips must be caught");
    Ok(())
}
