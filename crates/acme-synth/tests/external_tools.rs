//! The synthesized templates held to other people's tools: cfn-lint (no error, no warning)
//! and checkov's CloudFormation checks (no failed check; skips only inline, with a reason).
//!
//! The tools are pinned and installed by `scripts/tools.sh` into `target/tools` (or
//! `$ACME_TOOLS_DIR`). A missing tool fails the test: it must never pass by not running.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn tool(venv: &str, bin: &str) -> PathBuf {
    let dir = std::env::var_os("ACME_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tools"));
    let path = dir.join(venv).join("bin").join(bin);
    assert!(path.is_file(), "{} is missing: run scripts/tools.sh (scripts/test.sh does)", path.display());
    path
}

/// Every variant's templates, written under one folder: `<variant>/<stack>.yaml`.
fn write_variants() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = vec![];
    for (variant, platform) in common::variants() {
        for (path, text) in acme_synth::synthesize(&platform).files() {
            if let Some(name) = path.strip_prefix("cloudformation/") {
                let file = dir.path().join(variant).join(name);
                std::fs::create_dir_all(file.parent().expect("has parent")).expect("mkdir");
                std::fs::write(&file, text).expect("write template");
                files.push(file);
            }
        }
    }
    (dir, files)
}

#[test]
fn cfn_lint_finds_no_error_and_no_warning() {
    let (_dir, files) = write_variants();
    let out = Command::new(tool("cfn-lint", "cfn-lint"))
        .args(["--format", "parseable", "--"])
        .args(&files)
        .output()
        .expect("cfn-lint runs");
    let findings = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && findings.trim().is_empty(),
        "cfn-lint findings:\n{findings}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn checkov_finds_no_failed_check_and_every_skip_has_a_reason() {
    let (dir, files) = write_variants();
    let out = Command::new(tool("checkov", "checkov"))
        .args(["--skip-download", "--compact", "--output", "json", "--framework", "cloudformation", "-d"])
        .arg(dir.path())
        .output()
        .expect("checkov runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("checkov JSON: {e}\n{text}"));
    let results = &report["results"];
    let failed: Vec<String> = results["failed_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| format!("{} {} {}: {}", c["check_id"], c["file_path"], c["resource"], c["check_name"]))
        .collect();
    assert!(failed.is_empty(), "checkov failed checks:\n{}", failed.join("\n"));
    let summary = &report["summary"];
    assert_eq!(summary["parsing_errors"], 0, "checkov could not parse some templates: {summary}");
    let passed = summary["passed"].as_u64().unwrap_or(0);
    assert!(passed as usize > files.len(), "checkov ran too few checks ({passed}) over {} templates", files.len());
    for skip in results["skipped_checks"].as_array().into_iter().flatten() {
        let reason = skip["check_result"]["suppress_comment"].as_str().unwrap_or("");
        assert!(
            reason.len() >= 30,
            "skip of {} on {} has no real reason: {reason:?}",
            skip["check_id"],
            skip["resource"]
        );
    }
}
