//! Loader tests: every refusal names its file and line; valid files load
//! into typed tasks and the right graph.

use std::time::Duration;

use strand_dag::{BeadId, DependencyType};

use super::{MAX_RETRIES, Task, TaskAction, Workflow, WorkflowError};

fn load(text: &str) -> Result<Workflow, WorkflowError> {
    Workflow::from_toml_str("wf.toml", text)
}

fn refuse(text: &str) -> WorkflowError {
    match load(text) {
        Ok(wf) => panic!("expected a refusal, loaded {wf:?}"),
        Err(e) => e,
    }
}

fn id(s: &str) -> BeadId {
    BeadId::from(s)
}

const ETL: &str = r#"name = "etl"

[[task]]
id = "extract"
run = "sh -c 'echo extracting'"
priority = 5
retries = 3
timeout = "30s"
affinity = "io"
estimate = "2m"

[[task]]
id = "transform"
handler = "transform_rows"
deps = ["extract"]
estimate = "1h 30m"

[[task]]
id = "audit"
run = "true"
after = ["extract"]

[[task]]
id = "load"
run = "echo load"
deps = ["transform"]
after = ["audit"]
"#;

#[test]
fn given_full_example_when_loading_then_tasks_are_typed() {
    let wf = load(ETL).unwrap();
    assert_eq!(wf.name(), "etl");
    assert_eq!(wf.source_name(), "wf.toml");
    let ids: Vec<&str> = wf.tasks().iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["extract", "transform", "audit", "load"]);
    let extract = wf.task(&id("extract")).unwrap();
    assert_eq!(
        extract.action,
        TaskAction::Run("sh -c 'echo extracting'".into())
    );
    assert_eq!(extract.priority, 5);
    assert_eq!(extract.retries, 3);
    assert_eq!(extract.timeout, Some(Duration::from_secs(30)));
    assert_eq!(extract.affinity.as_deref(), Some("io"));
    assert_eq!(extract.estimate, Some(Duration::from_secs(120)));
    assert_eq!(extract.line, 4);
    let transform = wf.task(&id("transform")).unwrap();
    assert_eq!(
        transform.action,
        TaskAction::Handler("transform_rows".into())
    );
    assert_eq!(transform.deps, vec![id("extract")]);
    assert_eq!(transform.estimate, Some(Duration::from_secs(5400)));
}

#[test]
fn given_defaults_when_loading_then_zero_priority_no_retries_no_timeout() {
    let wf = load("name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\n").unwrap();
    let task = &wf.tasks()[0];
    assert_eq!((task.priority, task.retries), (0, 0));
    assert_eq!(task.timeout, None);
    assert_eq!(task.affinity, None);
    assert_eq!(task.estimate, None);
    assert!(task.deps.is_empty() && task.after.is_empty());
}

#[test]
fn given_deps_and_after_when_loading_then_blocking_and_preferred_edges() {
    let wf = load(ETL).unwrap();
    let dag = wf.dag();
    assert_eq!(dag.node_count(), 4);
    assert_eq!(dag.edge_count(), 4);
    assert_eq!(
        dag.edge(&id("extract"), &id("transform")),
        Some(DependencyType::Blocking)
    );
    assert_eq!(
        dag.edge(&id("extract"), &id("audit")),
        Some(DependencyType::PreferredOrder)
    );
    assert_eq!(
        dag.edge(&id("audit"), &id("load")),
        Some(DependencyType::PreferredOrder)
    );
    assert_eq!(
        dag.edge(&id("transform"), &id("load")),
        Some(DependencyType::Blocking)
    );
}

#[test]
fn given_estimates_when_computing_critical_path_then_weights_are_milliseconds() {
    let wf = load(ETL).unwrap();
    let weights = wf.estimates_ms();
    assert_eq!(weights.get(&id("extract")), Some(&120_000));
    assert_eq!(weights.get(&id("load")), None);
    let path = wf.dag().critical_path(&weights).unwrap();
    assert_eq!(path.path, vec![id("extract"), id("transform"), id("load")]);
    assert_eq!(path.total_weight, 120_000 + 5_400_000);
}

#[test]
fn given_unknown_dependency_when_loading_then_refused_at_its_line() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\ndeps = [\n  \"b\",\n]\n");
    assert!(
        matches!(&err, WorkflowError::UnknownDependency { file, line: 6, task, dependency }
            if file == "wf.toml" && task == &id("a") && dependency == &id("b")),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "wf.toml:6: task `a` depends on unknown task `b`"
    );
}

#[test]
fn given_unknown_after_target_when_loading_then_refused_at_its_line() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\nafter = [\"ghost\"]\n");
    assert!(
        matches!(err, WorkflowError::UnknownDependency { line: 5, .. }),
        "{err:?}"
    );
}

#[test]
fn given_duplicate_id_when_loading_then_refused_at_the_second_with_the_first_line() {
    let err = refuse(
        "name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\n\n[[task]]\nid = \"a\"\nrun = \"false\"\n",
    );
    assert!(
        matches!(&err, WorkflowError::DuplicateId { line: 7, first_line: 3, id: dup, .. } if dup == &id("a")),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "wf.toml:7: duplicate task id `a` (first defined on line 3)"
    );
}

#[test]
fn given_cycle_when_loading_then_refused_naming_its_tasks_and_closing_line() {
    let text = r#"name = "loop"
[[task]]
id = "a"
run = "true"
deps = ["c"]
[[task]]
id = "b"
run = "true"
deps = ["a"]
[[task]]
id = "c"
run = "true"
deps = ["b"]
"#;
    let err = refuse(text);
    assert!(
        matches!(&err, WorkflowError::Cycle { line: 5, cycle, .. }
            if cycle == &vec![id("a"), id("b"), id("c")]),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "wf.toml:5: dependency cycle: a -> b -> c -> a"
    );
    assert_eq!(err.line(), Some(5));
}

#[test]
fn given_cycle_through_after_when_loading_then_refused() {
    let text = "name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\nafter = [\"b\"]\n[[task]]\nid = \"b\"\nrun = \"true\"\ndeps = [\"a\"]\n";
    let err = refuse(text);
    assert!(
        matches!(err, WorkflowError::Cycle { line: 5, .. }),
        "{err:?}"
    );
}

#[test]
fn given_self_dependency_when_loading_then_refused_at_its_line() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\ndeps = [\"a\"]\n");
    assert!(
        matches!(err, WorkflowError::SelfDependency { line: 5, .. }),
        "{err:?}"
    );
}

#[test]
fn given_same_dependency_in_deps_and_after_when_loading_then_refused_at_the_repeat() {
    let text = "name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\n[[task]]\nid = \"b\"\nrun = \"true\"\ndeps = [\"a\"]\nafter = [\"a\"]\n";
    let err = refuse(text);
    assert!(
        matches!(&err, WorkflowError::DuplicateDependency { line: 9, dependency, .. } if dependency == &id("a")),
        "{err:?}"
    );
}

#[test]
fn given_bad_duration_when_loading_then_refused_at_its_line() {
    let err =
        refuse("name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\ntimeout = \"30 parsecs\"\n");
    assert!(
        matches!(&err, WorkflowError::BadDuration { line: 5, key: "timeout", value, .. } if value == "30 parsecs"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("wf.toml:5: invalid duration `30 parsecs` for `timeout`")
    );
}

#[test]
fn given_duration_without_unit_when_loading_then_refused() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\n\nestimate = \"30\"\n");
    assert!(
        matches!(
            err,
            WorkflowError::BadDuration {
                line: 6,
                key: "estimate",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn given_zero_timeout_when_loading_then_refused() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\ntimeout = \"0s\"\n");
    assert!(
        matches!(err, WorkflowError::BadDuration { line: 5, .. }),
        "{err:?}"
    );
}

#[test]
fn given_duration_as_a_number_when_loading_then_refused_as_wrong_type() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\ntimeout = 30\n");
    assert!(
        matches!(err, WorkflowError::Syntax { line: 5, .. }),
        "{err:?}"
    );
}

#[test]
fn given_unknown_task_key_when_loading_then_refused_at_its_line() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\ndep = [\"b\"]\n");
    assert!(
        matches!(&err, WorkflowError::UnknownKey { line: 5, key, table, .. } if key == "dep" && table == "task `a`"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("wf.toml:5: unknown key `dep` in task `a` (expected one of: id, run,")
    );
}

#[test]
fn given_unknown_top_level_key_when_loading_then_refused_at_its_line() {
    let err = refuse("name = \"x\"\nversion = 2\n[[task]]\nid = \"a\"\nrun = \"true\"\n");
    assert!(
        matches!(&err, WorkflowError::UnknownKey { line: 2, key, .. } if key == "version"),
        "{err:?}"
    );
}

#[test]
fn given_two_unknown_keys_when_loading_then_the_first_in_the_file_is_named() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"a\"\nzzz = 1\nrun = \"true\"\naaa = 2\n");
    assert!(
        matches!(&err, WorkflowError::UnknownKey { line: 4, key, .. } if key == "zzz"),
        "{err:?}"
    );
}

#[test]
fn given_invalid_toml_when_loading_then_syntax_error_at_its_line() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"a\nrun = \"true\"\n");
    assert!(
        matches!(err, WorkflowError::Syntax { line: 3, .. }),
        "{err:?}"
    );
}

#[test]
fn given_wrong_type_when_loading_then_syntax_error_at_the_value() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\ndeps = \"b\"\n");
    assert!(
        matches!(err, WorkflowError::Syntax { line: 5, .. }),
        "{err:?}"
    );
}

#[test]
fn given_missing_name_when_loading_then_refused() {
    let err = refuse("[[task]]\nid = \"a\"\nrun = \"true\"\n");
    assert!(matches!(err, WorkflowError::Syntax { .. }), "{err:?}");
    assert!(err.to_string().contains("name"), "{err}");
}

#[test]
fn given_no_tasks_when_loading_then_refused_at_the_name() {
    let err = refuse("# nothing yet\nname = \"empty\"\n");
    assert!(
        matches!(err, WorkflowError::NoTasks { line: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn given_task_without_action_when_loading_then_refused_at_its_id() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"a\"\n");
    assert!(
        matches!(err, WorkflowError::Action { line: 3, .. }),
        "{err:?}"
    );
}

#[test]
fn given_task_with_run_and_handler_when_loading_then_refused() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\nhandler = \"h\"\n");
    assert!(
        matches!(err, WorkflowError::Action { line: 3, .. }),
        "{err:?}"
    );
}

#[test]
fn given_empty_id_when_loading_then_refused() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"\"\nrun = \"true\"\n");
    assert!(
        matches!(
            err,
            WorkflowError::InvalidValue {
                line: 3,
                key: "id",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn given_too_many_retries_when_loading_then_refused() {
    let text = format!(
        "name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\nretries = {}\n",
        MAX_RETRIES + 1
    );
    let err = refuse(&text);
    assert!(
        matches!(
            err,
            WorkflowError::InvalidValue {
                line: 5,
                key: "retries",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn given_negative_retries_when_loading_then_refused() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\nretries = -1\n");
    assert!(
        matches!(
            err,
            WorkflowError::InvalidValue {
                line: 5,
                key: "retries",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn given_priority_beyond_i32_when_loading_then_refused() {
    let err = refuse("name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\npriority = 3000000000\n");
    assert!(
        matches!(
            err,
            WorkflowError::InvalidValue {
                line: 5,
                key: "priority",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn given_missing_file_when_loading_from_disk_then_read_error_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.toml");
    let err = Workflow::from_file(&path).unwrap_err();
    assert!(
        matches!(&err, WorkflowError::Read { path: p, .. } if p == &path),
        "{err:?}"
    );
    assert_eq!(err.line(), None);
}

#[test]
fn given_file_on_disk_when_loading_then_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wf.toml");
    std::fs::write(
        &path,
        "name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\ndeps = [\"q\"]\n",
    )
    .unwrap();
    let err = Workflow::from_file(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}:5: task `a` depends on unknown task `q`", path.display())
    );
}

#[test]
fn given_valid_file_on_disk_when_loading_then_same_as_from_string() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("etl.toml");
    std::fs::write(&path, ETL).unwrap();
    let from_disk = Workflow::from_file(&path).unwrap();
    let from_text = Workflow::from_toml_str(&path.display().to_string(), ETL).unwrap();
    assert_eq!(from_disk, from_text);
}

/// `workflow` with every task's line set to 0 (JSON has none).
fn without_lines(workflow: &Workflow) -> Vec<Task> {
    workflow
        .tasks()
        .iter()
        .cloned()
        .map(|task| Task { line: 0, ..task })
        .collect()
}

#[test]
fn given_the_example_as_json_when_loading_then_it_is_the_same_workflow_as_the_file() {
    let file = load(ETL).unwrap();
    let table: toml::Table = toml::from_str(ETL).unwrap();
    let json = serde_json::to_value(&table).unwrap();
    let from_json = Workflow::from_json("definition", &json).unwrap();
    assert_eq!(from_json.name(), file.name());
    assert_eq!(from_json.dag(), file.dag());
    assert_eq!(without_lines(&from_json), without_lines(&file));
    assert_eq!(from_json.estimates_ms(), file.estimates_ms());
}

#[test]
fn given_json_with_no_file_form_when_loading_then_refused_as_not_a_file() {
    for definition in [
        serde_json::json!([1, 2]),
        serde_json::json!("name = \"x\""),
        serde_json::json!({ "name": "x", "task": [{ "id": "a", "run": null }] }),
    ] {
        let refused = Workflow::from_json("definition", &definition).unwrap_err();
        assert!(
            matches!(refused, WorkflowError::NotAFile { ref file, .. } if file == "definition"),
            "{definition}: {refused:?}"
        );
    }
}

#[test]
fn given_json_breaking_a_rule_when_loading_then_refused_by_the_same_rule_as_a_file() {
    let definition = serde_json::json!({
        "name": "x",
        "task": [{ "id": "a", "run": "true", "deps": ["missing"] }],
    });
    let refused = Workflow::from_json("definition", &definition).unwrap_err();
    assert!(
        matches!(refused, WorkflowError::UnknownDependency { ref file, .. } if file == "definition (as TOML)"),
        "{refused:?}"
    );
    let typo =
        serde_json::json!({ "name": "x", "task": [{ "id": "a", "run": "true", "dep": [] }] });
    assert!(matches!(
        Workflow::from_json("definition", &typo).unwrap_err(),
        WorkflowError::UnknownKey { .. }
    ));
}
