//! The synthesized files held to other people's tools: cfn-lint (no error, no warning) and
//! checkov's CloudFormation checks on the templates; kubernetes-validate (strict, at the
//! platform's cluster version) and checkov's Kubernetes checks on the manifests. No failed
//! check anywhere; skips only inline, with a reason.
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

/// Every variant's files under `prefix/` (`cloudformation/` or `kubernetes/`), written under
/// one folder as `<variant>/<file>.yaml`, with the variant's cluster version.
fn write_variants(prefix: &str) -> (tempfile::TempDir, Vec<(String, PathBuf)>) {
    // No leading dot: checkov's Kubernetes runner skips hidden folders, and found nothing.
    let dir = tempfile::Builder::new().prefix("acmectl-").tempdir().expect("temp dir");
    let mut files = vec![];
    for (variant, platform) in common::variants() {
        for (path, text) in acme_synth::synthesize(&platform).files() {
            if let Some(name) = path.strip_prefix(prefix) {
                let file = dir.path().join(variant).join(name);
                std::fs::create_dir_all(file.parent().expect("has parent")).expect("mkdir");
                std::fs::write(&file, text).expect("write file");
                files.push((platform.cluster.version.clone(), file));
            }
        }
    }
    (dir, files)
}

#[test]
fn cfn_lint_finds_no_error_and_no_warning() {
    let (_dir, files) = write_variants("cloudformation/");
    let out = Command::new(tool("cfn-lint", "cfn-lint"))
        .args(["--format", "parseable", "--"])
        .args(files.iter().map(|(_, f)| f))
        .output()
        .expect("cfn-lint runs");
    let findings = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && findings.trim().is_empty(),
        "cfn-lint findings:\n{findings}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs checkov's `framework` checks over `dir`: no failed check, no parsing error, more checks
/// passed than `min_passed`, and every skip with a reason a reviewer can read.
fn assert_checkov_clean(dir: &Path, framework: &str, min_passed: usize) {
    let out = Command::new(tool("checkov", "checkov"))
        .args(["--skip-download", "--compact", "--output", "json", "--framework", framework, "-d"])
        .arg(dir)
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
    assert!(failed.is_empty(), "checkov {framework} failed checks:\n{}", failed.join("\n"));
    let summary = &report["summary"];
    assert_eq!(summary["parsing_errors"], 0, "checkov could not parse some files: {summary}");
    let passed = summary["passed"].as_u64().unwrap_or(0);
    assert!(passed as usize > min_passed, "checkov {framework} ran too few checks ({passed})");
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

#[test]
fn checkov_finds_no_failed_check_and_every_skip_has_a_reason() {
    let (dir, files) = write_variants("cloudformation/");
    assert_checkov_clean(dir.path(), "cloudformation", files.len());
}

#[test]
fn checkov_kubernetes_finds_no_failed_check_and_every_skip_has_a_reason() {
    let (dir, files) = write_variants("kubernetes/");
    // A few dozen checks per Deployment alone.
    assert_checkov_clean(dir.path(), "kubernetes", 20 * files.len());
}

/// Custom resources kubernetes-validate has no schema for: Auto Mode's own kinds. It can only
/// warn that it skipped them; every other warning fails the test.
const KINDS_WITHOUT_SCHEMA: [(&str, &str); 2] =
    [("TargetGroupBinding", "eks.amazonaws.com/v1"), ("ApplicationNetworkPolicy", "networking.k8s.aws/v1alpha1")];

fn kubernetes_validate(version: &str, files: &[&PathBuf]) {
    let out = Command::new(tool("kubernetes-validate", "kubernetes-validate"))
        .args(["--strict", "--quiet", "--kubernetes-version", &format!("{version}.0")])
        .args(files)
        .output()
        .expect("kubernetes-validate runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let unexpected: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| {
            !KINDS_WITHOUT_SCHEMA.iter().any(|(kind, api)| {
                l.starts_with("WARN ")
                    && l.contains(&format!("Couldn't find schema for kind {kind} with api version {api} "))
            })
        })
        .collect();
    assert!(
        out.status.success() && unexpected.is_empty(),
        "kubernetes-validate {version} (exit {:?}):\n{}",
        out.status.code(),
        unexpected.join("\n")
    );
}

#[test]
fn kubernetes_validate_strict_passes_every_manifest_at_its_cluster_version() {
    let (_dir, files) = write_variants("kubernetes/");
    let versions: std::collections::BTreeSet<&str> = files.iter().map(|(v, _)| v.as_str()).collect();
    for version in versions {
        let at: Vec<&PathBuf> = files.iter().filter(|(v, _)| v == version).map(|(_, f)| f).collect();
        kubernetes_validate(version, &at);
    }
}

/// The oldest and newest versions acme.yaml accepts: the objects use no field outside both.
#[test]
fn kubernetes_validate_strict_passes_across_the_supported_versions() {
    let (_dir, files) = write_variants("kubernetes/");
    let all: Vec<&PathBuf> = files.iter().map(|(_, f)| f).collect();
    let range = acme_spec::validate::CLUSTER_VERSIONS;
    for minor in [*range.start(), *range.end()] {
        kubernetes_validate(&format!("1.{minor}"), &all);
    }
}

#[test]
fn kubernetes_validate_fails_on_a_broken_manifest() {
    // The helper must not pass by ignoring output: an unknown field is an error under --strict.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\nautomountToken: false\n")
        .expect("write");
    let outcome = std::panic::catch_unwind(|| kubernetes_validate("1.34", &[&file]));
    assert!(outcome.is_err(), "a strict-mode error went unnoticed");
}
