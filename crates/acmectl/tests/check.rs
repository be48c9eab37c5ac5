//! `acmectl check` and the gate in front of `synth`, as a user meets them: exit codes, the
//! text, JSON and SARIF reports, accepted findings, bad overrides and bad Guard files.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bundled_text() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../acme.yaml")).expect("bundled acme.yaml")
}

fn acmectl(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_acmectl")).args(args).current_dir(cwd).output().expect("acmectl runs")
}

/// A temp folder holding acme.yaml: the bundled file with `extra` appended.
fn project(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("acme.yaml"), format!("{}\n{extra}", bundled_text())).expect("write acme.yaml");
    dir
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

/// 1-based line of the first line of acme.yaml in `dir` containing `needle`.
fn line_of(dir: &Path, needle: &str) -> u64 {
    let text = std::fs::read_to_string(dir.join("acme.yaml")).expect("acme.yaml");
    text.lines().position(|l| l.contains(needle)).map(|i| i as u64 + 1).unwrap_or_else(|| panic!("no `{needle}`"))
}

const MULTI_AZ_OFF: &str =
    "overrides:\n  - stack: data\n    resource: Database\n    path: Properties.MultiAZ\n    value: false\n";

#[test]
fn the_bundled_platform_checks_clean() {
    let dir = project("");
    let out = acmectl(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("check: 0 findings, 0 accepted, 36 rules"), "{}", stdout(&out));
}

#[test]
fn findings_exit_1_and_name_rule_requirement_resource_and_fix() {
    let dir = project(MULTI_AZ_OFF);
    let out = acmectl(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("ACME-DB-006 data/Database Properties.MultiAZ"), "{text}");
    assert!(text.contains("highly available data operations"), "{text}");
    assert!(
        text.contains(&format!(
            "remove overrides[0]: it sets `Properties.MultiAZ` to false (acme.yaml:{}:5 overrides[0])",
            line_of(dir.path(), "- stack: data")
        )),
        "{text}"
    );

    let out = acmectl(&["check", "--output", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["passed"], false);
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "ACME-DB-006");
    assert_eq!(f["location"], serde_json::json!({ "type": "cloudformation", "stack": "data", "resource": "Database" }));
    assert_eq!(f["cause"], "overrides[0]");
    assert_eq!(f["acme_yaml"]["line"], line_of(dir.path(), "- stack: data"));
}

#[test]
fn a_relaxed_field_is_the_place_to_fix() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("acme.yaml"),
        bundled_text().replacen("backup_retention_days: 14", "backup_retention_days: 2", 1),
    )
    .expect("write");
    let out = acmectl(&["check", "--output", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let f = &json(&out)["findings"][0];
    assert_eq!(f["rule"], "ACME-DB-004");
    assert_eq!(f["fix"]["field"], "database.backup_retention_days");
    assert_eq!(f["acme_yaml"]["line"], line_of(dir.path(), "backup_retention_days: 2"));
}

/// The properties SARIF 2.1.0's schema requires, checked on every object that has them.
fn assert_sarif_shape(log: &Value) {
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().is_some_and(|s| s.contains("sarif-2.1.0")));
    let runs = log["runs"].as_array().expect("runs is an array");
    assert!(!runs.is_empty());
    for run in runs {
        let driver = &run["tool"]["driver"];
        assert!(driver["name"].is_string(), "toolComponent.name is required");
        let rules = driver["rules"].as_array().expect("rules");
        for rule in rules {
            assert!(rule["id"].is_string(), "reportingDescriptor.id is required");
            for key in ["shortDescription", "fullDescription", "help"] {
                assert!(rule[key]["text"].is_string(), "multiformatMessageString.text is required ({key})");
            }
        }
        for invocation in run["invocations"].as_array().into_iter().flatten() {
            assert!(invocation["executionSuccessful"].is_boolean(), "invocation.executionSuccessful is required");
            for n in invocation["toolConfigurationNotifications"].as_array().into_iter().flatten() {
                assert!(n["message"]["text"].is_string(), "notification.message is required");
            }
        }
        for result in run["results"].as_array().expect("results") {
            assert!(result["message"]["text"].is_string(), "result.message is required");
            assert!(["none", "note", "warning", "error"].contains(&result["level"].as_str().expect("level")));
            if let Some(i) = result["ruleIndex"].as_u64() {
                assert_eq!(rules[i as usize]["id"], result["ruleId"], "ruleIndex points at its rule");
            }
            for location in result["locations"].as_array().expect("locations") {
                if let Some(physical) = location.get("physicalLocation") {
                    assert!(physical["artifactLocation"]["uri"].is_string());
                    if let Some(region) = physical.get("region") {
                        assert!(region["startLine"].as_u64().is_some_and(|l| l >= 1), "startLine >= 1");
                    }
                }
            }
            for s in result["suppressions"].as_array().into_iter().flatten() {
                assert!(["inSource", "external"].contains(&s["kind"].as_str().expect("suppression.kind is required")));
            }
        }
    }
}

#[test]
fn sarif_points_at_acme_yaml_or_the_template_line() {
    let guard = "rule buckets_named {\n  Resources.*[ Type == 'AWS::S3::Bucket' ].Properties.BucketName exists\n}\n";
    let dir = project(MULTI_AZ_OFF);
    std::fs::create_dir(dir.path().join("policies")).expect("mkdir");
    std::fs::write(dir.path().join("policies/naming.guard"), guard).expect("write");
    let out = acmectl(&["check", "--rules", "policies", "--output", "sarif"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let log = json(&out);
    assert_sarif_shape(&log);
    let run = &log["runs"][0];
    assert!(
        run["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .any(|r| r["id"] == "GUARD-naming-buckets_named")
    );
    let results = run["results"].as_array().expect("results");
    let db = results.iter().find(|r| r["ruleId"] == "ACME-DB-006").expect("db finding");
    let at = &db["locations"][0]["physicalLocation"];
    assert_eq!(at["artifactLocation"]["uri"], "acme.yaml");
    assert_eq!(at["region"]["startLine"], line_of(dir.path(), "- stack: data"));
    // A Guard finding has no acme.yaml cause: it points at the resource in the template synth writes.
    let bucket = results
        .iter()
        .find(|r| {
            r["ruleId"] == "GUARD-naming-buckets_named"
                && r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "edge/AccessLogBucket"
        })
        .expect("guard finding on the ALB log bucket");
    let at = &bucket["locations"][0]["physicalLocation"];
    assert_eq!(at["artifactLocation"]["uri"], "out/cloudformation/edge.yaml");
    assert_eq!(
        acmectl(&["synth", "-f", "acme.yaml", "-o", "written"], dir.path()).status.code(),
        Some(1),
        "the gate refuses"
    );
    // Line numbers match the template synth writes (accept everything to get it written).
    let accept = "check:\n  accept:\n    - { rule: ACME-DB-006, reason: single-AZ staging database }\n    - { rule: GUARD-naming-buckets_named, reason: names are generated by CloudFormation }\n  rules: [policies]\n";
    let dir2 = project(&format!("{MULTI_AZ_OFF}{accept}"));
    std::fs::create_dir(dir2.path().join("policies")).expect("mkdir");
    std::fs::write(dir2.path().join("policies/naming.guard"), guard).expect("write");
    let out = acmectl(&["synth"], dir2.path());
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let template = std::fs::read_to_string(dir2.path().join("out/cloudformation/edge.yaml")).expect("edge.yaml");
    let line = template.lines().position(|l| l == "  AccessLogBucket:").expect("bucket in template") + 1;
    assert_eq!(at["region"]["startLine"], line as u64);
    // Accepted findings are suppressed results carrying the reason.
    let out = acmectl(&["check", "--output", "sarif"], dir2.path());
    assert_eq!(out.status.code(), Some(0));
    let log = json(&out);
    assert_sarif_shape(&log);
    let suppressed = log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "ACME-DB-006")
        .expect("accepted result");
    assert_eq!(suppressed["suppressions"][0]["justification"], "single-AZ staging database");
}

#[test]
fn the_gate_stops_synth_and_writes_nothing() {
    let dir = project(MULTI_AZ_OFF);
    let out = acmectl(&["synth"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("ACME-DB-006"), "{}", stdout(&out));
    assert!(stderr(&out).contains("synth refused: 1 finding stand"), "{}", stderr(&out));
    assert!(!dir.path().join("out").exists(), "nothing written");
}

#[test]
fn an_accepted_finding_lets_synth_through_and_is_shown_with_its_reason() {
    let accept = "check:\n  accept:\n    - rule: ACME-DB-006\n      stack: data\n      resource: Database\n      reason: staging database, rebuilt nightly from a snapshot\n";
    let dir = project(&format!("{MULTI_AZ_OFF}{accept}"));
    let out = acmectl(&["synth"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .contains("accepted ACME-DB-006 on data/Database: staging database, rebuilt nightly from a snapshot"),
        "{}",
        stdout(&out)
    );
    let template = std::fs::read_to_string(dir.path().join("out/cloudformation/data.yaml")).expect("data.yaml");
    assert!(template.contains("MultiAZ: false"), "the override is in the written template");
    let out = acmectl(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("~ ACME-DB-006 data/Database accepted"), "{}", stdout(&out));
}

#[test]
fn an_accept_scoped_to_another_resource_does_not_apply_and_is_reported_unused() {
    let accept = "check:\n  accept:\n    - rule: ACME-DB-006\n      resource: OtherDatabase\n      reason: scoped to a resource that does not break the rule\n";
    let dir = project(&format!("{MULTI_AZ_OFF}{accept}"));
    let out = acmectl(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("check.accept[0] accepts nothing"), "{}", stdout(&out));
    // A stale accept next to a passing platform: synth goes on and warns.
    let dir = project(accept);
    let out = acmectl(&["synth"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("warning: check.accept[0] accepts no finding"), "{}", stderr(&out));
}

#[test]
fn an_accept_without_a_reason_or_for_an_unknown_rule_is_bad_input() {
    let dir = project("check:\n  accept:\n    - rule: ACME-DB-006\n      reason: \"\"\n");
    let out = acmectl(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("check.accept[0].reason"), "{}", stderr(&out));
    let dir = project("check:\n  accept:\n    - rule: ACME-DB-06\n      reason: a rule id with a typo in it\n");
    let out = acmectl(&["check", "--output", "json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let problem = &json(&out)["error"]["problems"][0];
    assert_eq!(problem["field"], "check.accept[0].rule");
    assert_eq!(problem["line"], line_of(dir.path(), "rule: ACME-DB-06"));
    assert!(problem["help"].as_str().is_some_and(|h| h.contains("ACME-DB-006")), "{problem}");
}

#[test]
fn a_bad_override_is_bad_input_with_the_nearest_names() {
    let dir =
        project("overrides:\n  - stack: data\n    resource: Databse\n    path: Properties.MultiAZ\n    value: false\n");
    for verb in ["check", "synth"] {
        let out = acmectl(&[verb], dir.path());
        assert_eq!(out.status.code(), Some(2), "{verb}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("acme.yaml:{}:15: overrides[0].resource", line_of(dir.path(), "resource: Databse"))),
            "{err}"
        );
        assert!(err.contains("did you mean `Database`?"), "{err}");
    }
    let dir = project(
        "overrides:\n  - stack: data\n    resource: Database\n    path: Properties.Nope.Deeper\n    value: 1\n",
    );
    let out = acmectl(&["check", "--output", "json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let problem = &json(&out)["error"]["problems"][0];
    assert_eq!(problem["field"], "overrides[0].path");
    assert!(problem["help"].as_str().is_some_and(|h| h.starts_with("nearest properties")), "{problem}");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn guard_rules_become_findings_and_bad_files_are_bad_input() {
    let dir = project("");
    let rules: PathBuf = dir.path().join("policies");
    std::fs::create_dir(&rules).expect("mkdir");
    std::fs::write(rules.join("db.guard"), "rule single_az {\n  Resources.*[ Type == 'AWS::RDS::DBInstance' ].Properties.MultiAZ == false\n  <<\n  our staging policy: one zone\n  >>\n}\n").expect("write");
    let out = acmectl(&["check", "--rules", "policies", "--output", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "GUARD-db-single_az");
    assert_eq!(f["location"]["resource"], "Database");
    assert_eq!(f["property"], "Properties.MultiAZ");
    assert_eq!(f["message"], "our staging policy: one zone");

    std::fs::write(rules.join("broken.guard"), "rule broken {\n  Resources.*[ Type == \n}\n").expect("write");
    std::fs::write(rules.join("binary.guard"), [0xff, 0xfe, 0x00]).expect("write");
    let out = acmectl(&["check", "--rules", "policies"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("binary.guard is not UTF-8"), "{}", stderr(&out));
    std::fs::remove_file(rules.join("binary.guard")).expect("rm");
    let out = acmectl(&["check", "--rules", "policies"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("broken.guard") && err.contains("column 23"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = acmectl(&["check", "--rules", "no-such-folder"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-such-folder"));
}
