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

/// Every variant's pipelines under both providers, with and without approval and account id,
/// each distinct file once (most variants share their pipelines), under `<provider>/`.
fn write_pipelines() -> (tempfile::TempDir, Vec<PathBuf>, Vec<PathBuf>) {
    use acme_spec::CiProvider;
    let dir = tempfile::Builder::new().prefix("acmectl-pipelines-").tempdir().expect("temp dir");
    let mut seen = std::collections::BTreeSet::new();
    let (mut workflows, mut jenkinsfiles) = (vec![], vec![]);
    for (variant, base) in common::variants() {
        for provider in [CiProvider::Github, CiProvider::Jenkins] {
            for (approval, account) in [(true, true), (false, false)] {
                let mut p = base.clone();
                p.ci.provider = provider;
                p.ci.approval = approval;
                if !account {
                    p.ci.account_id = None;
                    p.ci.runner = vec!["self-hosted".into(), "acme-deploy".into()];
                    p.services[0].source.test = Some("npm ci && npm test -- --ci".into());
                }
                let folder = dir.path().join(format!("{variant}-{approval}-{provider:?}"));
                for (path, text) in acme_synth::pipelines::pipelines(&p).files {
                    if !seen.insert(text.clone()) && !path.ends_with("actionlint.yaml") {
                        continue;
                    }
                    let file = folder.join(&path);
                    std::fs::create_dir_all(file.parent().expect("has parent")).expect("mkdir");
                    std::fs::write(&file, text).expect("write file");
                    if path.ends_with("Jenkinsfile") {
                        jenkinsfiles.push(file)
                    } else if path.ends_with(".yml") {
                        workflows.push(file)
                    }
                }
            }
        }
    }
    (dir, workflows, jenkinsfiles)
}

/// actionlint, with shellcheck over every `run:` script, and the configuration acmectl
/// writes beside the workflows when there is one; `files` must give no finding.
fn actionlint(files: &[PathBuf]) -> (bool, String) {
    let config =
        files.first().and_then(|f| f.parent()?.parent().map(|d| d.join("actionlint.yaml"))).filter(|c| c.is_file());
    let mut command = Command::new(tool("actionlint", "actionlint"));
    if let Some(config) = config {
        command.arg("-config-file").arg(config);
    }
    let out = command
        .arg("-shellcheck")
        .arg(tool("shellcheck", "shellcheck"))
        .arg("-pyflakes=")
        .args(files)
        .output()
        .expect("actionlint runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success() && text.trim().is_empty(), text)
}

#[test]
fn actionlint_and_shellcheck_find_nothing_in_the_workflows() {
    let (_dir, workflows, _) = write_pipelines();
    assert!(workflows.len() >= 10, "too few workflows: {}", workflows.len());
    // One run per folder of workflows, each with its own actionlint.yaml.
    let mut folders: std::collections::BTreeMap<&Path, Vec<PathBuf>> = std::collections::BTreeMap::new();
    for w in &workflows {
        folders.entry(w.parent().expect("in a folder")).or_default().push(w.clone());
    }
    for files in folders.values() {
        let (clean, text) = actionlint(files);
        assert!(clean, "actionlint findings:\n{text}");
    }
}

#[test]
fn actionlint_reports_a_broken_workflow_and_a_shell_mistake() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bad.yml");
    std::fs::write(
        &file,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo $UNQUOTED\n        bogus: 1\n",
    )
    .expect("write");
    let (clean, text) = actionlint(&[file]);
    assert!(!clean && text.contains("bogus"), "{text}");
    assert!(text.contains("SC2086"), "shellcheck did not run under actionlint:\n{text}");
}

/// npm-groovy-lint (CodeNarc) with its profile for Jenkinsfiles: no error, warning or info.
fn groovy_lint(dir: &Path) -> (serde_json::Value, String) {
    let out = Command::new(tool("npm-groovy-lint", "npm-groovy-lint"))
        // No CodeNarc server left running in the background.
        .args(["--noserver", "--config", "recommended-jenkinsfile", "--loglevel", "info", "--output", "json"])
        .arg(dir)
        .output()
        .expect("npm-groovy-lint runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let report = serde_json::from_str(&text).unwrap_or_else(|e| panic!("npm-groovy-lint JSON: {e}\n{text}"));
    (report, text)
}

#[test]
fn npm_groovy_lint_finds_nothing_in_the_jenkinsfiles() {
    let (dir, _, jenkinsfiles) = write_pipelines();
    assert!(jenkinsfiles.len() >= 10, "too few Jenkinsfiles: {}", jenkinsfiles.len());
    let (report, text) = groovy_lint(dir.path());
    let summary = &report["summary"];
    assert_eq!(summary["totalFilesLinted"], jenkinsfiles.len(), "{summary}");
    assert_eq!(summary["totalFoundNumber"], 0, "npm-groovy-lint findings:\n{text}");
}

#[test]
fn npm_groovy_lint_reports_a_broken_jenkinsfile() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("Jenkinsfile"), "pipeline {\n    agent none\n    stages {\n        stage('a' {\n")
        .expect("write");
    let (report, text) = groovy_lint(dir.path());
    assert!(report["summary"]["totalFoundErrorNumber"].as_u64().unwrap_or(0) > 0, "{text}");
}

#[test]
fn shellcheck_finds_nothing_in_the_jenkins_steps() {
    use acme_spec::CiProvider;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = vec![];
    for (variant, mut p) in common::variants() {
        p.ci.provider = CiProvider::Jenkins;
        p.services[0].source.test = Some("npm ci && npm test -- --ci".into());
        let mut scripts = acme_synth::pipelines::jenkins::platform_scripts(&p);
        for s in acme_synth::pipelines::services(&p) {
            scripts.extend(acme_synth::pipelines::jenkins::service_scripts(&p, &s));
        }
        for (i, script) in scripts.iter().enumerate() {
            let file = dir.path().join(format!("{variant}-{i}.sh"));
            std::fs::write(&file, format!("#!/usr/bin/env bash\n{script}")).expect("write");
            files.push(file);
        }
    }
    let out = Command::new(tool("shellcheck", "shellcheck"))
        .args(["--shell", "bash", "--severity", "style"])
        .args(&files)
        .output()
        .expect("shellcheck runs");
    assert!(out.status.success(), "shellcheck findings:\n{}", String::from_utf8_lossy(&out.stdout));
}
