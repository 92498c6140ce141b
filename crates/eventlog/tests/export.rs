//! Export and import: a framed, checksummed copy of the log that reproduces
//! it exactly, and that is refused whole when damaged.

use std::path::Path;

use strand_eventlog::{Error, Event, EventLog, ExportDefect, LogOptions, NewEvent, Seq};

#[expect(clippy::unwrap_used, reason = "test fixture")]
fn filled_log(dir: &Path, events: u64) -> Vec<Event> {
    let log = EventLog::open(dir, LogOptions::default()).unwrap();
    for chunk in 0..events.div_ceil(10) {
        let batch = (chunk * 10..(chunk * 10 + 10).min(events))
            .map(|n| NewEvent::new(format!("s{}", n % 3), 7, format!("event {n}").into_bytes()))
            .collect();
        log.append_blocking(batch).unwrap();
    }
    log.close_blocking().unwrap();
    read_all(dir)
}

#[expect(clippy::unwrap_used, reason = "test fixture")]
fn read_all(dir: &Path) -> Vec<Event> {
    let log = EventLog::open_read_only(dir).unwrap();
    log.read_range(Seq(1), log.last_seq())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[expect(clippy::unwrap_used, reason = "test fixture")]
fn export(data: &Path, file: &Path) {
    let log = EventLog::open_read_only(data).unwrap();
    log.export_to(file, &mut |_, _| {}).unwrap();
}

/// Nothing but the expected entries may be in the import's parent: no
/// staging directory survives a refused import.
#[expect(clippy::unwrap_used, reason = "test fixture")]
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn given_a_log_when_exported_and_imported_then_every_record_is_identical_and_verifies()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let original = filled_log(&data, 95);
    let file = dir.path().join("log.export");
    let exported = EventLog::open_read_only(&data)?.export_to(&file, &mut |_, _| {})?;
    assert_eq!((exported.records, exported.last_seq), (95, Seq(95)));
    assert_eq!(exported.bytes, std::fs::metadata(&file).unwrap().len());

    let target = dir.path().join("imported");
    let imported = EventLog::import_from(&file, &target, &mut |_, _| {})?;
    assert_eq!(imported, exported);
    assert_eq!(read_all(&target), original);
    let log = EventLog::open(&target, LogOptions::default())?;
    assert!(log.verify(&mut |_| {}).ok);
    assert_eq!(log.read_stream("s1", Seq(1))?.count(), 32);
    // The imported log goes on where the original ended.
    assert_eq!(
        log.append_blocking(vec![NewEvent::new("s0", 1, vec![1])])?
            .first,
        Seq(96)
    );
    assert!(log.verify(&mut |_| {}).ok);
    Ok(())
}

#[test]
fn given_an_empty_log_when_exported_and_imported_then_the_import_is_an_empty_log()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(filled_log(&data, 0).is_empty());
    let file = dir.path().join("empty.export");
    export(&data, &file);
    let target = dir.path().join("imported");
    let report = EventLog::import_from(&file, &target, &mut |_, _| {})?;
    assert_eq!((report.records, report.last_seq), (0, Seq(0)));
    assert_eq!(EventLog::open_read_only(&target)?.last_seq(), Seq(0));
    Ok(())
}

/// Guards against a torn export (a copy cut short, a full disk) importing as
/// a silently shorter log, or leaving a half-written data directory.
#[test]
fn given_an_export_cut_at_every_offset_of_its_last_records_when_imported_then_refused_as_truncated_and_nothing_is_left()
 {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    filled_log(&data, 20);
    let file = dir.path().join("log.export");
    export(&data, &file);
    let bytes = std::fs::read(&file).unwrap();
    let before = entries(dir.path());
    let target = dir.path().join("imported");
    let cut_file = dir.path().join("cut.export");
    // The last three records and the trailer span well under 300 bytes.
    for cut in bytes.len().saturating_sub(300)..bytes.len() {
        std::fs::write(&cut_file, &bytes[..cut]).unwrap();
        match EventLog::import_from(&cut_file, &target, &mut |_, _| {}) {
            Err(Error::BadExport {
                offset,
                last_good_seq,
                defect: ExportDefect::Truncated,
            }) => {
                assert!(offset <= cut as u64, "cut {cut}: offset {offset}");
                assert!(last_good_seq <= Seq(20), "cut {cut}");
            }
            other => panic!("cut at {cut} of {}: {other:?}", bytes.len()),
        }
        assert!(!target.exists(), "cut {cut}: partial import left behind");
        std::fs::remove_file(&cut_file).unwrap();
        assert_eq!(entries(dir.path()), before, "cut {cut}");
    }
}

#[test]
fn given_an_export_with_a_flipped_byte_in_a_record_when_imported_then_refused_naming_its_offset_and_the_last_good_seq()
 {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    filled_log(&data, 20);
    let file = dir.path().join("log.export");
    export(&data, &file);
    let mut bytes = std::fs::read(&file).unwrap();
    // Find record 11's frame by walking the frames: magic, header, records.
    let mut offset = 8;
    let frame_len = |at: usize, bytes: &[u8]| {
        15 + u32::from_le_bytes(bytes[at + 3..at + 7].try_into().unwrap()) as usize
    };
    offset += frame_len(offset, &bytes); // header
    for _ in 1..11 {
        offset += frame_len(offset, &bytes);
    }
    bytes[offset + 20] ^= 0x10;
    std::fs::write(&file, &bytes).unwrap();
    let target = dir.path().join("imported");
    match EventLog::import_from(&file, &target, &mut |_, _| {}) {
        Err(Error::BadExport {
            offset: at,
            last_good_seq,
            defect: ExportDefect::Frame(_),
        }) => assert_eq!((at, last_good_seq), (offset as u64, Seq(10))),
        other => panic!("{other:?}"),
    }
    assert!(!target.exists());
}

#[test]
fn given_bytes_after_the_trailer_when_imported_then_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    filled_log(&data, 5);
    let file = dir.path().join("log.export");
    export(&data, &file);
    let mut bytes = std::fs::read(&file).unwrap();
    let len = bytes.len() as u64;
    bytes.push(0);
    std::fs::write(&file, &bytes).unwrap();
    let err = EventLog::import_from(&file, &dir.path().join("t"), &mut |_, _| {}).unwrap_err();
    assert!(
        matches!(err, Error::BadExport { offset, defect: ExportDefect::TrailingBytes, last_good_seq: Seq(5) } if offset == len),
        "{err:?}"
    );
}

#[test]
fn given_a_file_that_is_not_an_export_when_imported_then_refused_as_bad_magic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wf.toml");
    std::fs::write(&file, "name = \"x\"\n").unwrap();
    let err = EventLog::import_from(&file, &dir.path().join("t"), &mut |_, _| {}).unwrap_err();
    assert!(
        matches!(
            err,
            Error::BadExport {
                offset: 0,
                defect: ExportDefect::BadMagic,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn given_a_non_empty_target_when_imported_then_refused_and_the_target_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    filled_log(&data, 5);
    let file = dir.path().join("log.export");
    export(&data, &file);
    let err = EventLog::import_from(&file, &data, &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, Error::ImportTargetNotEmpty { .. }), "{err:?}");
    assert_eq!(read_all(&data).len(), 5);
}

#[test]
fn given_an_empty_target_directory_when_imported_then_it_receives_the_log() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let original = filled_log(&data, 12);
    let file = dir.path().join("log.export");
    export(&data, &file);
    let target = dir.path().join("empty");
    std::fs::create_dir(&target).unwrap();
    EventLog::import_from(&file, &target, &mut |_, _| {})?;
    assert_eq!(read_all(&target), original);
    Ok(())
}

#[test]
fn given_an_existing_file_when_exported_over_it_then_refused_and_the_file_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    filled_log(&data, 3);
    let file = dir.path().join("precious");
    std::fs::write(&file, b"keep me").unwrap();
    let log = EventLog::open_read_only(&data).unwrap();
    let err = log.export_to(&file, &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, Error::ExportTargetExists { .. }), "{err:?}");
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
}
