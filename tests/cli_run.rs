//! `strand run`: the CLI contract (exit codes, JSON shape) and finding a
//! finished run again by its id without running finished tasks again.

use std::path::Path;

use assert_cmd::Command;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn strand(data: &Path) -> Result<Command, Box<dyn std::error::Error>> {
    let mut cmd = Command::cargo_bin("strand")?;
    cmd.arg("--data").arg(data).arg("-q");
    Ok(cmd)
}

#[test]
fn given_a_workflow_with_an_unknown_dependency_when_run_then_exit_2_and_nothing_is_written()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let file = tmp.path().join("bad.toml");
    std::fs::write(
        &file,
        "name = \"bad\"\n[[task]]\nid = \"a\"\nrun = \"true\"\ndeps = [\"nope\"]\n",
    )?;
    let data = tmp.path().join("data");
    let out = strand(&data)?.arg("run").arg(&file).output()?;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)?.contains("bad.toml:5"));
    assert!(!data.exists(), "nothing written");
    Ok(())
}

#[test]
fn given_a_run_id_when_run_twice_then_the_second_run_reports_it_without_running_tasks_again()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let marker = tmp.path().join("ran.txt");
    let file = tmp.path().join("wf.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"twice\"\n\
             [[task]]\nid = \"a\"\nrun = \"echo a >> {m}\"\n\
             [[task]]\nid = \"b\"\nrun = \"echo b >> {m}\"\ndeps = [\"a\"]\n",
            m = marker.display()
        ),
    )?;
    let data = tmp.path().join("data");
    for _ in 0..2 {
        let out = strand(&data)?
            .args(["-o", "json", "run", "--id", "twice-1"])
            .arg(&file)
            .output()?;
        assert_eq!(out.status.code(), Some(0));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        assert_eq!(json["workflow"], "twice");
        assert_eq!(json["run"], "twice-1");
        assert_eq!(json["state"], "completed");
        assert_eq!(json["beads"]["completed"], 2);
        assert_eq!(json["beads"]["failed"], 0);
    }
    assert_eq!(
        std::fs::read_to_string(&marker)?,
        "a\nb\n",
        "each task ran once"
    );
    Ok(())
}

#[test]
fn given_a_failing_task_when_run_then_exit_1_with_the_reason_and_its_dependents_not_run()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let file = tmp.path().join("wf.toml");
    std::fs::write(
        &file,
        "name = \"broken\"\n\
         [[task]]\nid = \"a\"\nrun = \"echo oops; exit 3\"\nretries = 1\n\
         [[task]]\nid = \"b\"\nrun = \"true\"\ndeps = [\"a\"]\n",
    )?;
    let out = strand(&tmp.path().join("data"))?
        .args(["-o", "json", "run"])
        .arg(&file)
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(json["state"], "failed");
    assert_eq!(json["beads"]["pending"], 1);
    let reason = json["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("2 attempt") && reason.contains("exit status 3") && reason.contains("oops"),
        "{reason}"
    );
    Ok(())
}
