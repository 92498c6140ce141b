//! `strand run` with runs: nightly reruns get their own ids, `--id` is
//! idempotent and refuses another input, an unfinished run of a changed
//! definition is refused, inputs reach shell tasks, outputs pass along a
//! diamond, hard affinity no worker has is refused, a file's priorities
//! order the beads; and `strand runs` and `strand output`.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::path::Path;
use std::process::Stdio;

use strand::eventlog::{EventLog, Seq};
use strand::projections::DomainEvent;

mod common;

use common::cli::{json, last_seq, show, start_and_kill, strand, waits_unless_go, write};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn given_a_nightly_file_when_run_twice_then_two_runs_complete_with_distinct_ids() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let file = write(
        tmp.path(),
        "nightly.toml",
        "name = \"nightly\"\n[[task]]\nid = \"a\"\nrun = \"echo ran >> runs.txt\"\n",
    );
    let mut ids = Vec::new();
    for _ in 0..2 {
        let done = json(
            strand(&data).current_dir(tmp.path()).arg("run").arg(&file),
            0,
        );
        assert_eq!(done["state"], "completed");
        assert_eq!(done["existing"], false);
        ids.push(done["run"].as_str().unwrap().to_owned());
    }
    assert_ne!(ids[0], ids[1]);
    assert!(ids.iter().all(|id| id.starts_with("nightly-")), "{ids:?}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("runs.txt"))?,
        "ran\nran\n"
    );

    let runs = json(strand(&data).arg("runs"), 0);
    let listed: Vec<&str> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], ids[1], "newest first");
    let one = json(strand(&data).args(["runs", "--limit", "1"]), 0);
    assert_eq!(one["runs"].as_array().map(Vec::len), Some(1));
    let none = json(
        strand(&data).args(["runs", "--definition", "other", "--state", "completed"]),
        0,
    );
    assert_eq!(none["runs"].as_array().map(Vec::len), Some(0));
    let future = json(
        strand(&data).args(["runs", "--since", "2999-01-01T00:00:00Z"]),
        0,
    );
    assert_eq!(future["runs"].as_array().map(Vec::len), Some(0));
    Ok(())
}

#[test]
fn given_a_run_id_when_run_with_another_input_then_exit_2_and_nothing_is_written() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let file = write(
        tmp.path(),
        "wf.toml",
        "name = \"wf\"\n[input]\nregion = \"eu\"\n[[task]]\nid = \"a\"\nrun = \"true\"\n",
    );
    let first = json(strand(&data).args(["run", "--id", "r1"]).arg(&file), 0);
    assert_eq!(first["run"], "r1");
    let same = json(
        strand(&data)
            .args(["run", "--id", "r1", "--input", "region=eu"])
            .arg(&file),
        0,
    );
    assert_eq!(
        same["existing"], true,
        "the default given again is the same input"
    );
    let before = last_seq(&data);
    let out = strand(&data)
        .args(["run", "--id", "r1", "--input", "region=us"])
        .arg(&file)
        .output()?;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(show(&out).contains("another input"), "{}", show(&out));
    assert_eq!(last_seq(&data), before, "nothing written");

    let changed = write(
        tmp.path(),
        "wf.toml",
        "name = \"wf\"\n[input]\nregion = \"eu\"\n[[task]]\nid = \"a\"\nrun = \"false\"\n",
    );
    let out = strand(&data)
        .args(["run", "--id", "r1"])
        .arg(&changed)
        .output()?;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(show(&out).contains("another definition"), "{}", show(&out));
    assert_eq!(last_seq(&data), before, "nothing written");

    for bad in [["--input", "novalue"], ["--worker-label", "gpu"]] {
        let out = strand(&data).arg("run").args(bad).arg(&file).output()?;
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", show(&out));
    }
    assert_eq!(last_seq(&data), before, "nothing written");
    Ok(())
}

#[test]
fn given_an_unfinished_run_when_its_definition_changed_then_exit_2_naming_both_hashes() -> TestResult
{
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let slow = format!(
        "name = \"etl\"\n[[task]]\nid = \"a\"\nrun = \"{}\"\n",
        waits_unless_go(tmp.path())
    );
    let file = write(tmp.path(), "etl.toml", &slow);
    start_and_kill(&data, tmp.path(), &file);
    let hash_of = |data: &Path| {
        let runs = json(strand(data).arg("runs"), 0);
        runs["runs"][0]["definition_hash"].as_str().unwrap()[..12].to_owned()
    };
    let old_hash = hash_of(&data);
    write(
        tmp.path(),
        "etl.toml",
        "name = \"etl\"\n[[task]]\nid = \"a\"\nrun = \"true\"\n",
    );
    let before = last_seq(&data);
    let out = strand(&data).arg("run").arg(&file).output()?;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let message = show(&out);
    assert!(
        message.contains(&old_hash) && message.contains("--id"),
        "{message}"
    );
    assert_eq!(last_seq(&data), before, "nothing written");

    // The old definition again resumes the killed run (no --id needed).
    write(tmp.path(), "etl.toml", &slow);
    std::fs::write(tmp.path().join("go"), "")?;
    let resumed = json(
        strand(&data).current_dir(tmp.path()).arg("run").arg(&file),
        0,
    );
    assert_eq!(resumed["existing"], true);
    assert_eq!(resumed["state"], "completed");
    Ok(())
}

#[test]
fn given_inputs_and_a_diamond_when_run_then_tasks_see_the_input_and_their_dependencies_outputs()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let input_file = write(tmp.path(), "in.json", r#"{"day": "2026-12-02", "n": 1}"#);
    let file = write(
        tmp.path(),
        "diamond.toml",
        r#"name = "diamond"
[input]
region = "eu"
n = 0
[[task]]
id = "top"
run = "echo $STRAND_INPUT_REGION-$STRAND_INPUT_DAY-$STRAND_INPUT_N; echo noise >&2"
[[task]]
id = "left"
run = "tr a-z A-Z < $STRAND_DEPS_DIR/top"
deps = ["top"]
[[task]]
id = "right"
run = "printf 'from-file' > $STRAND_OUTPUT; echo ignored"
deps = ["top"]
[[task]]
id = "bottom"
run = "printf '%s+%s+%s' \"$(cat $STRAND_DEPS_DIR/left)\" \"$(cat $STRAND_DEPS_DIR/right)\" \"$(grep -c region $STRAND_INPUT)\""
deps = ["left", "right"]
"#,
    );
    let done = json(
        strand(&data)
            .arg("run")
            .arg(&file)
            .arg("--input-file")
            .arg(&input_file)
            .args(["--input", "n=7"]),
        0,
    );
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(
        done["outputs"]["bottom"]["data"],
        "EU-2026-12-02-7+from-file+1"
    );
    let run = done["run"].as_str().unwrap();
    let raw = strand(&data).args(["output", run, "top"]).output()?;
    assert_eq!(raw.stdout, b"eu-2026-12-02-7\n", "stderr is not output");
    let status = json(strand(&data).args(["status", run]), 0);
    assert_eq!(status["input"]["n"], 7);
    let top = status["beads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == "top")
        .unwrap();
    assert_eq!(top["log_tail"], "noise\n");
    let text = strand(&data).args(["status", run]).output()?;
    assert!(String::from_utf8_lossy(&text.stdout).contains("EU-2026-12-02-7"));

    for (args, code) in [
        (vec!["output", "no-such-run", "top"], 2),
        (vec!["output", run, "no-such-bead"], 2),
    ] {
        let out = strand(&data).args(&args).output()?;
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", show(&out));
    }
    Ok(())
}

#[test]
fn given_hard_affinity_no_worker_has_when_run_then_exit_2_and_with_a_labelled_worker_it_runs()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let file = write(
        tmp.path(),
        "gpu.toml",
        "name = \"gpu\"\n[[task]]\nid = \"train\"\nrun = \"true\"\naffinity = \"gpu\"\n",
    );
    let out = strand(&data).arg("run").arg(&file).output()?;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(show(&out).contains("\"train\"") && show(&out).contains("\"gpu\""));
    assert!(!data.exists(), "nothing written");
    let done = json(
        strand(&data)
            .args(["run", "--worker-label", "gpu=1"])
            .arg(&file),
        0,
    );
    assert_eq!(done["state"], "completed");
    Ok(())
}

#[test]
fn given_a_file_with_priorities_when_run_on_one_worker_then_beads_start_highest_first() -> TestResult
{
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let file = write(
        tmp.path(),
        "prio.toml",
        "name = \"prio\"\n\
         [[task]]\nid = \"low\"\nrun = \"true\"\npriority = 1\n\
         [[task]]\nid = \"high\"\nrun = \"true\"\npriority = 9\n\
         [[task]]\nid = \"mid\"\nrun = \"true\"\npriority = 5\n",
    );
    let done = json(strand(&data).args(["run", "--workers", "1"]).arg(&file), 0);
    let run = done["run"].as_str().unwrap();
    let log = EventLog::open_read_only(&data)?;
    let mut order = Vec::new();
    for event in log.read_stream(&format!("workflow/{run}"), Seq::FIRST)? {
        if let DomainEvent::BeadStarted { bead, .. } = strand::actors::decode(&event?)?.1 {
            order.push(bead.into_string());
        }
    }
    assert_eq!(order, ["high", "mid", "low"]);
    Ok(())
}

#[test]
fn given_no_engine_when_run_detached_then_the_submission_is_durable_and_the_next_run_runs_it()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let file = write(
        tmp.path(),
        "later.toml",
        "name = \"later\"\n[[task]]\nid = \"a\"\nrun = \"echo done\"\n",
    );
    let detached = json(
        strand(&data)
            .args(["run", "--detach", "--id", "d1"])
            .arg(&file),
        0,
    );
    assert_eq!(detached["run"], "d1");
    assert_eq!(detached["existing"], false);
    let runs = json(strand(&data).args(["runs"]), 0);
    assert_eq!(runs["runs"][0]["id"], "d1");
    assert_eq!(runs["runs"][0]["state"], "running", "durable, not run yet");
    let again = json(
        strand(&data)
            .args(["run", "--detach", "--id", "d1"])
            .arg(&file),
        0,
    );
    assert_eq!(again["existing"], true, "idempotent");
    let done = json(strand(&data).arg("run").arg(&file), 0);
    assert_eq!(done["run"], "d1", "the unfinished run of the name resumes");
    assert_eq!(done["state"], "completed");
    assert_eq!(done["outputs"]["a"]["data"], "done\n");
    Ok(())
}

#[test]
fn given_a_strand_run_in_progress_when_another_run_is_detached_then_that_engine_runs_it()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let (up, ran) = (tmp.path().join("up"), tmp.path().join("ran"));
    for path in [&up, &ran] {
        common::cli::fifo(path);
    }
    let long = write(
        tmp.path(),
        "long.toml",
        &format!(
            "name = \"long\"\n[[task]]\nid = \"a\"\nrun = \"echo up > {}; sleep 100\"\n",
            up.display()
        ),
    );
    let other = write(
        tmp.path(),
        "other.toml",
        &format!(
            "name = \"other\"\n[[task]]\nid = \"b\"\nrun = \"echo ran > {}\"\n",
            ran.display()
        ),
    );
    let running = strand(&data)
        .args(["-o", "json", "run", "--id", "long-1"])
        .arg(&long)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    // The long run's task is running: its engine and socket are up.
    assert_eq!(std::fs::read_to_string(&up)?, "up\n");
    let detached = json(strand(&data).args(["run", "--detach"]).arg(&other), 0);
    assert!(
        detached["run"].as_str().unwrap().starts_with("other-"),
        "{detached}"
    );
    // The engine of the first `strand run` ran the detached run's task.
    assert_eq!(std::fs::read_to_string(&ran)?, "ran\n");
    json(strand(&data).args(["cancel", "long-1"]), 0);
    let out = running.wait_with_output()?;
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    Ok(())
}
