//! The binary as a user meets it: exit codes, what lands in the output folder, and what never does.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn acmectl(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_acmectl")).args(args).current_dir(cwd).output().expect("acmectl runs")
}

fn bundled() -> String {
    repo_root().join("acme.yaml").display().to_string()
}

#[test]
fn synth_writes_every_stack_and_the_plan() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = acmectl(&["synth", "-f", &bundled(), "-o", "build"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"), "every template goes inline");
    let build = dir.path().join("build");
    for stack in
        ["keys", "network", "dns", "ci", "cluster", "registry", "data", "edge", "services", "observability", "backup"]
    {
        assert!(build.join(format!("cloudformation/{stack}.yaml")).is_file(), "{stack}.yaml missing");
    }
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(build.join("plan.json")).expect("plan.json")).expect("plan is JSON");
    assert_eq!(plan["platform"], "acme");
    for file in ["platform", "web", "api", "auth", "chat"] {
        let text = std::fs::read_to_string(build.join(format!("kubernetes/{file}.yaml")))
            .unwrap_or_else(|e| panic!("kubernetes/{file}.yaml: {e}"));
        assert!(text.starts_with("---\napiVersion: "), "{file}.yaml is not a YAML stream of objects");
    }
}

#[test]
fn synth_writes_the_pipelines_of_the_chosen_ci() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = acmectl(&["synth", "-f", &bundled(), "-o", "build"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Jenkinsfiles in pipelines/"));
    for job in ["platform", "web", "api", "auth", "chat"] {
        let text = std::fs::read_to_string(dir.path().join(format!("build/pipelines/jenkins/{job}/Jenkinsfile")))
            .unwrap_or_else(|e| panic!("{job}/Jenkinsfile: {e}"));
        assert!(text.contains("pipeline {\n"), "{job}");
    }
    assert!(!dir.path().join("build/pipelines/github").exists(), "only the provider acme.yaml names");
}

#[test]
fn synth_output_is_byte_identical_across_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    for o in ["a", "b"] {
        assert_eq!(acmectl(&["synth", "-f", &bundled(), "-o", o], dir.path()).status.code(), Some(0));
    }
    for entry in walk(&dir.path().join("a")) {
        let rel = entry.strip_prefix(dir.path().join("a")).expect("inside a");
        let a = std::fs::read(&entry).expect("read a");
        let b = std::fs::read(dir.path().join("b").join(rel)).expect("same file in b");
        assert!(a == b, "{} differs between runs", rel.display());
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = vec![];
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() { files.extend(walk(&p)) } else { files.push(p) }
    }
    files
}

#[test]
fn invalid_file_exits_2_names_the_place_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(repo_root().join("acme.yaml")).expect("bundled file");
    let broken = text.replacen("talks_to: [api]", "talks_to: [nobody]", 1);
    assert_ne!(broken, text, "the bundled file declares web → api");
    std::fs::write(dir.path().join("acme.yaml"), broken).expect("write");
    let out = acmectl(&["synth"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("acme.yaml") && err.contains("talks_to") && err.contains("nobody"), "{err}");
    assert!(!dir.path().join("out").exists(), "nothing may be written on bad input");
}

#[test]
fn a_failed_run_leaves_the_previous_output_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(repo_root().join("acme.yaml"), dir.path().join("acme.yaml")).expect("copy");
    assert_eq!(acmectl(&["synth"], dir.path()).status.code(), Some(0));
    let before = std::fs::read(dir.path().join("out/plan.json")).expect("plan");
    std::fs::write(dir.path().join("acme.yaml"), "name: [").expect("write");
    assert_eq!(acmectl(&["synth"], dir.path()).status.code(), Some(2));
    assert_eq!(std::fs::read(dir.path().join("out/plan.json")).expect("plan"), before);
}

#[test]
fn refuses_to_replace_a_folder_that_is_not_acmectl_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("src")).expect("mkdir");
    std::fs::write(dir.path().join("src/main.rs"), "fn main() {}").expect("write");
    let out = acmectl(&["synth", "-f", &bundled(), "-o", "src"], dir.path());
    assert_eq!(out.status.code(), Some(3));
    assert!(dir.path().join("src/main.rs").is_file(), "the user's file survives");
}

#[test]
fn missing_file_is_bad_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = acmectl(&["synth", "-f", "nope.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.yaml"));
}

#[test]
fn schema_is_json_and_describes_services() {
    let out = acmectl(&["schema"], &repo_root());
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("schema is JSON");
    assert!(schema.to_string().contains("services"));
}

#[test]
fn json_output_lists_the_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = acmectl(&["synth", "-f", &bundled(), "--output", "json"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["files"].as_array().expect("files").iter().any(|f| f == "plan.json"));
    assert_eq!(v["staged_through_s3"], serde_json::json!([]));
}

#[test]
fn json_output_reports_problems_for_machines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(repo_root().join("acme.yaml")).expect("bundled file");
    std::fs::write(dir.path().join("acme.yaml"), text.replacen("zones: 3", "zones: 1", 1)).expect("write");
    let out = acmectl(&["synth", "--output", "json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    let problem = &v["error"]["problems"][0];
    assert_eq!(problem["field"], "network.zones");
    assert_eq!(problem["line"], text.lines().position(|l| l.contains("zones: 3")).expect("zones line") + 1);
    assert!(problem["help"].as_str().is_some_and(|h| h.contains("2 to 6")), "{problem}");
}

/// `n` unrouted services, each with a bucket of its own (a role and a bucket output each).
fn services_with_buckets(n: usize) -> String {
    let mut y = String::from(
        "name: big\nregion: us-east-1\ndomain: big.example.com\n\
         alerts: { email: [ops@big.example.com] }\n\
         ci: { provider: jenkins, agent_roles: [\"arn:aws:iam::111122223333:role/agent\"] }\nservices:\n",
    );
    for i in 0..n {
        y.push_str(&format!(
            "  - {{ name: svc{i}, port: 8080, health: {{ path: /healthz }}, uses: [{{ bucket: files }}] }}\n"
        ));
    }
    y
}

#[test]
fn a_platform_over_cloudformation_quotas_is_refused_before_writing() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("fits.yaml"), services_with_buckets(100)).expect("write");
    let fits = acmectl(&["synth", "-f", "fits.yaml", "-o", "fits"], dir.path());
    assert_eq!(fits.status.code(), Some(0));
    // Within the quotas, but too large to send inline: written, and said how deploy sends them.
    let warning = String::from_utf8_lossy(&fits.stderr);
    assert!(warning.contains("`acmectl deploy` stages them in the keys stack's staging bucket"), "{warning}");
    assert!(warning.contains("\n  registry stack: ") && warning.contains("(the limit is 51200)"), "{warning}");
    std::fs::write(dir.path().join("over.yaml"), services_with_buckets(101)).expect("write");
    let out = acmectl(&["synth", "-f", "over.yaml", "-o", "over"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("services stack: 202 outputs, over the quota of 200"), "{err}");
    assert!(!dir.path().join("over").exists());
}

/// A platform of `hosts` services on hosts of their own, and `paths` services by path on www.
fn hosts_and_paths(hosts: usize, paths: usize) -> String {
    let mut y = String::from(
        "name: big\nregion: us-east-1\ndomain: big.example.com\nnetwork: { cidr: 10.0.0.0/16, zones: 3 }\n\
         cluster: { version: \"1.34\" }\nalerts: { email: [ops@big.example.com] }\n\
         ci: { provider: jenkins, agent_roles: [\"arn:aws:iam::111122223333:role/big-jenkins-agent\"] }\nservices:\n",
    );
    for i in 0..hosts {
        y.push_str(&format!(
            "  - {{ name: svc{i}, port: 8080, health: {{ path: /healthz }}, routes: [{{ host: h{i}.big.example.com }}] }}\n"
        ));
    }
    for i in 0..paths {
        y.push_str(&format!(
            "  - {{ name: www{i}, port: 8080, health: {{ path: /healthz }}, routes: [{{ host: www.big.example.com, path: /p{i} }}] }}\n"
        ));
    }
    y
}

#[test]
fn synth_shards_the_load_balancers_and_refuses_a_host_no_load_balancer_holds() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("wide.yaml"), hosts_and_paths(30, 100)).expect("write");
    let out = acmectl(&["synth", "-f", "wide.yaml", "-o", "wide", "--output", "json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let shards = summary["load_balancers"]["shards"].as_array().expect("shards");
    let hosts: Vec<usize> = shards.iter().map(|s| s["hosts"].as_array().map_or(0, Vec::len)).collect();
    // 30 hosts of one rule each fill the first (26 hosts) and start the second; www's 100 paths
    // take a load balancer of their own.
    assert_eq!(hosts, [26, 4, 1], "{summary:#}");
    assert_eq!(shards[2]["stack"], "edge-3");
    assert_eq!(shards[2]["load"]["rules"], 100);
    assert_eq!(summary["load_balancers"]["quotas"]["hosts"], 26);
    for stack in ["edge", "edge-2", "edge-3"] {
        assert!(dir.path().join(format!("wide/cloudformation/{stack}.yaml")).exists(), "{stack}");
    }
    let text = acmectl(&["synth", "-f", "wide.yaml", "-o", "wide"], dir.path());
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("3 load balancers (each ALB's quotas: 26 hosts, 100 rules"), "{stdout}");
    assert!(stdout.contains("edge-3"), "{stdout}");

    // The 101st path on www: refused at its line, nothing written.
    std::fs::write(dir.path().join("over.yaml"), hosts_and_paths(30, 101)).expect("write");
    let out = acmectl(&["synth", "-f", "over.yaml", "-o", "over"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("over.yaml:139:"), "the line of the 101st path: {err}");
    assert!(err.contains("services[130].routes[0]"), "{err}");
    assert!(err.contains("101 listener rules, over the quota of 100"), "{err}");
    assert!(err.contains("a host cannot span load balancers"), "{err}");
    assert!(!dir.path().join("over").exists());
}

// --- diagram ---------------------------------------------------------------------------------

const DIAGRAM_FILES: [&str; 4] = ["architecture.mmd", "architecture.svg", "traffic-flow.mmd", "traffic-flow.svg"];

#[test]
fn diagram_writes_both_pictures_and_their_mermaid_sources() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = acmectl(&["diagram", "-f", &bundled(), "-o", "pics"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("pics/diagrams"));
    let written: Vec<String> = std::fs::read_dir(dir.path().join("pics/diagrams"))
        .expect("diagrams folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(written, DIAGRAM_FILES);
    for svg in ["architecture.svg", "traffic-flow.svg"] {
        let text = std::fs::read_to_string(dir.path().join("pics/diagrams").join(svg)).expect("svg");
        assert!(text.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"") && text.ends_with("</svg>\n"), "{svg}");
        for service in ["web", "api", "auth", "chat"] {
            assert!(text.contains(&format!("data-service=\"{service}\"")), "{svg} lacks {service}");
        }
    }
    let mermaid = std::fs::read_to_string(dir.path().join("pics/diagrams/architecture.mmd")).expect("mmd");
    assert!(mermaid.contains("flowchart TB") && mermaid.contains("service_web -->|\"talks to\"| service_api"));
}

#[test]
fn diagram_output_is_byte_identical_across_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    for o in ["a", "b"] {
        assert_eq!(acmectl(&["diagram", "-f", &bundled(), "-o", o], dir.path()).status.code(), Some(0));
    }
    for f in DIAGRAM_FILES {
        let a = std::fs::read(dir.path().join("a/diagrams").join(f)).expect("a");
        assert!(a == std::fs::read(dir.path().join("b/diagrams").join(f)).expect("b"), "{f} differs");
    }
}

#[test]
fn diagram_replaces_only_the_diagrams_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert_eq!(acmectl(&["synth", "-f", &bundled()], dir.path()).status.code(), Some(0));
    let plan = std::fs::read(dir.path().join("out/plan.json")).expect("plan");
    assert!(dir.path().join("out/diagrams/architecture.svg").is_file(), "synth draws the pictures too");
    std::fs::write(dir.path().join("out/diagrams/stale.svg"), "<svg/>").expect("write");
    assert_eq!(acmectl(&["diagram", "-f", &bundled()], dir.path()).status.code(), Some(0));
    assert_eq!(std::fs::read(dir.path().join("out/plan.json")).expect("plan"), plan, "the rest of out is untouched");
    assert!(dir.path().join("out/cloudformation/network.yaml").is_file());
    assert!(!dir.path().join("out/diagrams/stale.svg").exists(), "the diagrams folder is replaced whole");
    assert!(dir.path().join("out/diagrams/traffic-flow.svg").is_file());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .expect("out")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "no staging folder left behind: {leftovers:?}");
}

#[test]
fn synth_takes_over_a_folder_holding_only_diagrams() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert_eq!(acmectl(&["diagram", "-f", &bundled()], dir.path()).status.code(), Some(0));
    let out = acmectl(&["synth", "-f", &bundled()], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("out/plan.json").is_file() && dir.path().join("out/diagrams/architecture.svg").is_file());
}

#[test]
fn diagram_refuses_a_diagrams_folder_that_is_not_acmectl_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("docs/diagrams")).expect("mkdir");
    std::fs::write(dir.path().join("docs/diagrams/whiteboard.png"), "mine").expect("write");
    let out = acmectl(&["diagram", "-f", &bundled(), "-o", "docs"], dir.path());
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("architecture.svg"), "names the marker it looked for");
    assert!(dir.path().join("docs/diagrams/whiteboard.png").is_file(), "the user's file survives");
}

#[test]
fn diagram_of_an_invalid_file_exits_2_and_leaves_the_pictures_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(repo_root().join("acme.yaml")).expect("bundled file");
    std::fs::write(dir.path().join("acme.yaml"), &text).expect("write");
    assert_eq!(acmectl(&["diagram"], dir.path()).status.code(), Some(0));
    let before = std::fs::read(dir.path().join("out/diagrams/architecture.svg")).expect("svg");
    std::fs::write(dir.path().join("acme.yaml"), text.replacen("talks_to: [api]", "talks_to: [nobody]", 1))
        .expect("write");
    let out = acmectl(&["diagram"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("acme.yaml") && err.contains("talks_to") && err.contains("nobody"), "{err}");
    assert_eq!(std::fs::read(dir.path().join("out/diagrams/architecture.svg")).expect("svg"), before);

    let fresh = tempfile::tempdir().expect("temp dir");
    assert_eq!(acmectl(&["diagram", "-f", "missing.yaml"], fresh.path()).status.code(), Some(2));
    assert!(!fresh.path().join("out").exists(), "nothing written on bad input");
}

#[test]
fn diagram_json_lists_the_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = acmectl(&["diagram", "-f", &bundled(), "--output", "json"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["platform"], "acme");
    let files: Vec<&str> = v["files"].as_array().expect("files").iter().filter_map(|f| f.as_str()).collect();
    assert_eq!(files, DIAGRAM_FILES.map(|f| format!("diagrams/{f}")));
}

/// The pictures in the README are the tool's own output for the bundled acme.yaml.
#[test]
fn the_readme_pictures_are_what_acmectl_draws_today() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert_eq!(acmectl(&["diagram", "-f", &bundled(), "-o", "docs"], dir.path()).status.code(), Some(0));
    for f in DIAGRAM_FILES {
        let fresh = std::fs::read(dir.path().join("docs/diagrams").join(f)).expect("drawn");
        let committed = std::fs::read(repo_root().join("docs/diagrams").join(f)).unwrap_or_default();
        assert!(
            fresh == committed,
            "docs/diagrams/{f} is stale: run `cargo run -p acmectl -- diagram -o docs` at the repository root and commit it"
        );
    }
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README");
    for f in
        ["docs/diagrams/architecture.svg", "docs/diagrams/traffic-flow.svg", "cargo run -p acmectl -- diagram -o docs"]
    {
        assert!(readme.contains(f), "README shows {f}");
    }
}
