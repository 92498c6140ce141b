//! `strand dag` and `strand bench dag`: output shapes and exit codes of the
//! CLI contract (0 with a picture, 2 for a refused workflow file or bad usage).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ETL: &str = r#"name = "etl"

[[task]]
id = "extract"
run = "echo extract"
estimate = "2m"

[[task]]
id = "clean"
run = "echo clean"
deps = ["extract"]
estimate = "10s"

[[task]]
id = "transform"
run = "echo transform"
deps = ["extract"]
estimate = "5m"

[[task]]
id = "load"
run = "echo load"
deps = ["clean", "transform"]
after = ["report"]

[[task]]
id = "report"
run = "echo report"
"#;

fn strand(dir: &Path) -> Result<Command, Box<dyn std::error::Error>> {
    let mut cmd = Command::cargo_bin("strand")?;
    cmd.current_dir(dir).env_remove("STRAND_DATA");
    Ok(cmd)
}

fn write(dir: &Path, name: &str, text: &str) -> Result<PathBuf, std::io::Error> {
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path)
}

#[test]
fn given_workflow_when_printing_dot_then_every_task_and_edge_is_drawn() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = write(dir.path(), "etl.toml", ETL)?;
    let out = strand(dir.path())?
        .arg("dag")
        .arg(&file)
        .args(["--format", "dot"])
        .output()?;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)?;
    assert!(text.starts_with("digraph workflow {"), "{text}");
    assert!(text.contains("\"extract\" -> \"transform\";"), "{text}");
    assert!(
        text.contains("\"report\" -> \"load\" [style=dashed];"),
        "{text}"
    );
    assert!(!text.contains("critical"), "{text}");
    Ok(())
}

#[test]
fn given_workflow_when_printing_dot_with_critical_path_then_path_is_marked_and_listed() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let file = write(dir.path(), "etl.toml", ETL)?;
    let out = strand(dir.path())?
        .arg("dag")
        .arg(&file)
        .args(["--format", "dot", "--critical-path"])
        .output()?;
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout)?;
    assert!(
        text.starts_with("// critical path (total weight 420000): extract -> transform -> load\n"),
        "{text}"
    );
    assert!(
        text.contains("\"extract\" -> \"transform\" [color="),
        "{text}"
    );
    assert!(text.contains("\"extract\" -> \"clean\";"), "{text}");
    Ok(())
}

#[test]
fn given_workflow_when_printing_mermaid_with_critical_path_then_flowchart_with_listing()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let file = write(dir.path(), "etl.toml", ETL)?;
    let out = strand(dir.path())?
        .arg("dag")
        .arg(&file)
        .args(["--format", "mermaid", "--critical-path"])
        .output()?;
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout)?;
    assert!(text.starts_with("flowchart TD\n"), "{text}");
    assert!(text.contains("-.->"), "{text}");
    assert!(text.contains("classDef critical"), "{text}");
    assert!(
        text.contains("%% critical path (total weight 420000): extract -> transform -> load"),
        "{text}"
    );
    Ok(())
}

#[test]
fn given_workflow_when_printing_json_then_layout_hints_and_critical_path() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = write(dir.path(), "etl.toml", ETL)?;
    let out = strand(dir.path())?
        .args(["-o", "json", "dag"])
        .arg(&file)
        .args(["--format", "json", "--critical-path"])
        .output()?;
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(doc["workflow"], "etl");
    assert_eq!(doc["layers"], 3);
    assert_eq!(doc["nodes"].as_array().map(Vec::len), Some(5));
    let load = doc["nodes"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["id"] == "load"))
        .cloned();
    assert_eq!(
        load.as_ref().map(|n| n["layer"].clone()),
        Some(Value::from(2))
    );
    assert_eq!(doc["critical_path"]["total_weight"], 420_000);
    assert_eq!(
        doc["critical_path"]["path"],
        serde_json::json!(["extract", "transform", "load"])
    );
    let dashed = doc["edges"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["type"] == "preferred_order"))
        .cloned();
    assert_eq!(
        dashed.map(|e| e["from"].clone()),
        Some(Value::from("report"))
    );
    Ok(())
}

#[test]
fn given_json_output_and_dot_format_when_printing_then_one_document_carrying_the_picture()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let file = write(dir.path(), "etl.toml", ETL)?;
    let out = strand(dir.path())?
        .args(["dag", "--format", "dot", "--critical-path", "-o", "json"])
        .arg(&file)
        .output()?;
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(doc["format"], "dot");
    assert!(
        doc["picture"]
            .as_str()
            .is_some_and(|p| p.contains("digraph workflow"))
    );
    assert_eq!(doc["critical_path"]["path"][0], "extract");
    Ok(())
}

#[test]
fn given_unknown_dependency_when_printing_then_exit_2_naming_file_and_line() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = write(
        dir.path(),
        "bad.toml",
        "name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\ndeps = [\"ghost\"]\n",
    )?;
    let out = strand(dir.path())?.arg("dag").arg(&file).output()?;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr)?;
    assert!(
        stderr.contains(&format!(
            "{}:5: task `a` depends on unknown task `ghost`",
            file.display()
        )),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    Ok(())
}

#[test]
fn given_cycle_when_printing_with_json_output_then_exit_2_and_error_document() -> TestResult {
    let dir = tempfile::tempdir()?;
    let text = "name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\ndeps = [\"b\"]\n[[task]]\nid = \"b\"\nrun = \"true\"\ndeps = [\"a\"]\n";
    let file = write(dir.path(), "loop.toml", text)?;
    let out = strand(dir.path())?
        .args(["-o", "json", "dag"])
        .arg(&file)
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout)?;
    let error = doc["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("loop.toml:5: dependency cycle: a -> b -> a"),
        "{error}"
    );
    Ok(())
}

#[test]
fn given_missing_file_when_printing_then_exit_2() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = strand(dir.path())?.args(["dag", "nowhere.toml"]).output()?;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)?.contains("nowhere.toml"));
    Ok(())
}

#[test]
fn given_unknown_format_when_printing_then_usage_error_exit_2() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = write(dir.path(), "etl.toml", ETL)?;
    let out = strand(dir.path())?
        .arg("dag")
        .arg(&file)
        .args(["--format", "png"])
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    Ok(())
}

#[test]
fn given_small_graph_when_benchmarking_dag_then_json_figures_and_ok() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = strand(dir.path())?
        .args([
            "-o", "json", "bench", "dag", "--nodes", "2000", "--seed", "7",
        ])
        .output()?;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(doc["bench"], "dag");
    assert_eq!(doc["nodes"], 2000);
    assert_eq!(doc["tracker_completions"], 2000);
    assert_eq!(doc["ok"], true);
    let edges = doc["edges"].as_u64().unwrap_or_default();
    assert!(
        (7000..8000).contains(&edges),
        "about 4 edges per node, got {edges}"
    );
    for key in [
        "build_ms",
        "topological_order_ms",
        "topological_order_kahn_ms",
        "tracker_run_ms",
        "raw_kahn_ms",
    ] {
        assert!(doc[key].as_f64().is_some(), "{key} in {doc}");
    }
    Ok(())
}

#[test]
fn given_same_seed_when_benchmarking_twice_then_same_graph() -> TestResult {
    let dir = tempfile::tempdir()?;
    let edges = |seed: &str| -> Result<Value, Box<dyn std::error::Error>> {
        let out = strand(dir.path())?
            .args([
                "-o", "json", "bench", "dag", "--nodes", "500", "--seed", seed,
            ])
            .output()?;
        Ok(serde_json::from_slice::<Value>(&out.stdout)?["edges"].clone())
    };
    assert_eq!(edges("42")?, edges("42")?);
    Ok(())
}

#[test]
fn given_zero_nodes_when_benchmarking_dag_then_usage_error() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = strand(dir.path())?
        .args(["bench", "dag", "--nodes", "0"])
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    Ok(())
}
