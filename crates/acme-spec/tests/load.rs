//! The loader as a user meets it: the bundled file, every kind of mistake, any bytes at all.

use acme_spec::{LoadError, Severity, fixture, load_str};

const BUNDLED: &str = include_str!("../../../acme.yaml");

#[test]
fn bundled_acme_yaml_is_the_fixture() {
    let platform = load_str("acme.yaml", BUNDLED).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(platform, fixture::acme());
}

/// `(line:column, field, message, help)` of every problem in `text`.
fn problems(text: &str) -> Vec<(String, String, String, String)> {
    match load_str("acme.yaml", text) {
        Ok(_) => vec![],
        Err(e) => e
            .problems()
            .iter()
            .map(|p| {
                (
                    format!("{}:{}", p.line, p.column),
                    p.field.clone(),
                    p.message.clone(),
                    p.help.clone().unwrap_or_default(),
                )
            })
            .collect(),
    }
}

/// The bundled file with one substring replaced; the replacement must apply.
fn bundled_with(from: &str, to: &str) -> String {
    assert!(BUNDLED.contains(from), "acme.yaml has no `{from}`");
    BUNDLED.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1).unwrap_or_else(|| panic!("no line with {needle}"))
}

/// Asserts exactly one problem, at the line of `at_line_with`, on `field`, whose message
/// contains `message`, with a help line.
#[track_caller]
fn assert_one(text: &str, at_line_with: &str, field: &str, message: &str) {
    let found = problems(text);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    let (at, f, m, help) = &found[0];
    let line = line_of(text, at_line_with);
    assert!(at.starts_with(&format!("{line}:")), "problem at {at}, expected line {line}: {found:#?}");
    assert_eq!(f, field);
    assert!(m.contains(message), "message {m:?} lacks {message:?}");
    assert!(!help.is_empty(), "no help for {m:?}");
}

#[test]
fn a_route_to_a_port_the_service_does_not_have() {
    let text = bundled_with("path: /api\n", "path: /api\n        port: 9090\n");
    assert_one(&text, "port: 9090", "services[1].routes[0].port", "has no port 9090");
}

#[test]
fn a_route_may_target_a_declared_extra_port() {
    let text = bundled_with("path: /api\n", "path: /api\n        port: 9090\n").replacen(
        "    talks_to: [auth]",
        "    ports: { admin: 9090 }\n    talks_to: [auth]",
        1,
    );
    assert_eq!(problems(&text), vec![]);
}

#[test]
fn two_services_claiming_the_same_host_and_path() {
    let text =
        bundled_with("      - host: chat.acme.example.com", "      - host: www.acme.example.com\n        path: /api/");
    assert_one(
        &text,
        "path: /api/",
        "services[3].routes[0].path",
        "`www.acme.example.com/api` is already routed by services[1].routes[0]",
    );
}

#[test]
fn a_cidr_too_small_for_the_zones() {
    let text = bundled_with("cidr: 10.20.0.0/16", "cidr: 10.20.0.0/24");
    assert_one(&text, "cidr:", "network.cidr", "too small for 3 zones");
    let fits = bundled_with("cidr: 10.20.0.0/16", "cidr: 10.20.0.0/20");
    assert_eq!(problems(&fits), vec![]);
}

#[test]
fn talks_to_an_unknown_service_suggests_the_nearest() {
    let text = bundled_with("talks_to: [api]", "talks_to: [apy]");
    assert_one(&text, "talks_to: [apy]", "services[0].talks_to[0]", "`apy` is not a service");
    assert!(problems(&text)[0].3.contains("did you mean `api`"));
}

#[test]
fn talks_to_itself_is_an_error_but_a_cycle_is_not() {
    let own = bundled_with("talks_to: [api]", "talks_to: [web]");
    assert_one(&own, "talks_to: [web]", "services[0].talks_to[0]", "lists itself");
    let cycle =
        bundled_with("    websocket: true\n    talks_to: [auth]", "    websocket: true\n    talks_to: [auth, web]")
            .replacen("talks_to: [api]", "talks_to: [api, chat]", 1);
    assert_eq!(problems(&cycle), vec![]);
}

#[test]
fn an_engine_other_than_postgres_or_mysql() {
    let text = bundled_with("engine: postgres", "engine: oracle");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].0.starts_with(&format!("{}:", line_of(&text, "engine: oracle"))), "{found:#?}");
    assert!(
        found[0].2.contains("oracle") && found[0].2.contains("postgres") && found[0].2.contains("mysql"),
        "{found:#?}"
    );
}

#[test]
fn a_domain_that_is_not_a_dns_name() {
    assert_one(
        &bundled_with("domain: acme.example.com", "domain: acme_example.com"),
        "domain:",
        "domain",
        "not a valid DNS name",
    );
    let upper = problems(&bundled_with("domain: acme.example.com", "domain: ACME.example.com"));
    assert!(upper.iter().any(|p| p.1 == "domain" && p.3.contains("lowercase")), "{upper:#?}");
}

#[test]
fn a_service_without_a_health_path() {
    let text = bundled_with(
        "  - name: auth\n    port: 8080\n    health: { path: /healthz }\n",
        "  - name: auth\n    port: 8080\n",
    );
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].2.contains("missing field `health`"), "{found:#?}");
    assert!(found[0].0.starts_with(&format!("{}:", line_of(&text, "name: auth"))), "{found:#?}");
}

#[test]
fn a_port_outside_the_valid_range() {
    for port in ["0", "70000", "-1"] {
        let text = bundled_with("  - name: chat\n    port: 8080", &format!("  - name: chat\n    port: {port}"));
        assert_one(&text, &format!("port: {port}"), "services[3].port", "outside 1..=65535");
    }
}

#[test]
fn a_health_path_that_is_no_path() {
    for path in ["healthz", "\"\"", "/health z"] {
        let text = bundled_with(
            "  - name: auth\n    port: 8080\n    health: { path: /healthz }\n",
            &format!("  - name: auth\n    port: 8080\n    health: {{ path: {path} }}\n"),
        );
        assert_one(&text, &format!("{{ path: {path} }}"), "services[2].health.path", "is not an HTTP path");
    }
}

#[test]
fn extra_and_route_ports_outside_the_valid_range() {
    let text =
        bundled_with("  - name: chat\n    port: 8080", "  - name: chat\n    port: 8080\n    ports: { admin: 65536 }");
    assert_one(&text, "admin: 65536", "services[3].ports.admin", "outside 1..=65535");
    let text = bundled_with("path: /api\n", "path: /api\n        port: 0\n");
    assert_one(&text, "port: 0", "services[1].routes[0].port", "outside 1..=65535");
}

#[test]
fn names_acmectl_writes_itself_are_reserved() {
    let text = bundled_with("  - name: chat\n", "  - name: platform\n");
    assert_one(&text, "name: platform", "services[3].name", "out/kubernetes/platform.yaml");
    for key in ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "DATABASE_URL", "ACME_X"] {
        let text = bundled_with("    websocket: true\n", &format!("    websocket: true\n    env: {{ {key}: x }}\n"));
        assert_one(&text, "env:", &format!("services[3].env.{key}"), &format!("`{key}`"));
    }
    // Other AWS_ settings stay the service's own.
    let text = bundled_with("    websocket: true\n", "    websocket: true\n    env: { AWS_MAX_ATTEMPTS: \"5\" }\n");
    assert!(problems(&text).is_empty());
}

#[test]
fn field_lines_trace_paths_back_to_the_file() {
    assert_eq!(acme_spec::field_line(BUNDLED, "services[1].talks_to[0]"), Some(line_of(BUNDLED, "talks_to: [auth]")));
    assert_eq!(acme_spec::field_line(BUNDLED, "services[2].uses[0]"), Some(line_of(BUNDLED, "uses: [database]")));
    assert_eq!(acme_spec::field_line(BUNDLED, "services[9]"), None, "no ancestor fallback");
}

#[test]
fn replicas_min_above_max() {
    let text = bundled_with("    websocket: true\n", "    websocket: true\n    replicas: { min: 5, max: 3 }\n");
    assert_one(&text, "replicas:", "services[3].replicas.min", "min 5 is above max 3");
}

#[test]
fn a_memory_limit_below_the_request() {
    let text = bundled_with(
        "    websocket: true\n",
        "    websocket: true\n    resources: { memory: 1Gi, memory_limit: 512Mi }\n",
    );
    assert_one(&text, "resources:", "services[3].resources.memory_limit", "below the request");
}

#[test]
fn a_cpu_request_too_large_for_its_default_limit() {
    let text = bundled_with(
        "    websocket: true\n",
        "    websocket: true\n    resources: { cpu: \"4611686018427387904m\" }\n",
    );
    assert_one(&text, "resources:", "services[3].resources.cpu", "too large");
}

#[test]
fn unknown_fields_are_rejected_with_their_place() {
    let text = bundled_with("    websocket: true\n", "    websocket: true\n    websockets: true\n");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].0.starts_with(&format!("{}:", line_of(&text, "websockets"))), "{found:#?}");
    assert!(found[0].2.contains("websockets"), "{found:#?}");
}

#[test]
fn names_that_differ_only_in_punctuation() {
    let service = bundled_with("  - name: chat\n    port: 8080", "  - name: we-b\n    port: 8080");
    assert_one(&service, "name: we-b", "services[3].name", "differs from `web` (services[0].name) only in punctuation");
    let host = bundled_with(
        "      - host: auth.acme.example.com",
        "      - host: a-uth.acme.example.com\n      - host: auth.acme.example.com",
    );
    assert_one(&host, "- host: auth.acme", "services[2].routes[1].host", "differs from `a-uth.acme.example.com`");
}

#[test]
fn a_host_outside_the_domain() {
    let text = bundled_with("host: chat.acme.example.com", "host: chat.other.example.org");
    assert_one(&text, "chat.other", "services[3].routes[0].host", "not under the domain");
}

#[test]
fn database_use_without_a_database() {
    let start = BUNDLED.find("database:\n  engine").expect("database section");
    let end = BUNDLED[start..].find("\n\n").expect("section end") + start + 2;
    let text = format!("{}{}", &BUNDLED[..start], &BUNDLED[end..]);
    let found = problems(&text);
    assert_eq!(found.len(), 2, "api and auth use the database: {found:#?}");
    assert!(found.iter().all(|p| p.2.contains("has none")), "{found:#?}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = bundled_with("talks_to: [api]", "talks_to: [nobody]").replacen("zones: 3", "zones: 9", 1).replacen(
        "region: us-east-1",
        "region: moon",
        1,
    );
    let fields: Vec<String> = problems(&text).into_iter().map(|p| p.1).collect();
    assert_eq!(fields, ["region", "network.zones", "services[0].talks_to[0]"]);
}

#[test]
fn broken_yaml_names_its_place() {
    for (text, line) in [("name: acme\nservices: [\n", 2), ("name: acme\n\tregion: x\n", 2), ("name: [\n", 1)] {
        let found = problems(text);
        assert_eq!(found.len(), 1, "{text:?}: {found:#?}");
        assert!(found[0].0.starts_with(&format!("{line}:")), "{text:?}: {found:#?}");
    }
}

#[test]
fn a_duplicate_key_is_named() {
    let found = problems(&bundled_with("  zones: 3\n", "  zones: 3\n  zones: 4\n"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].2, "duplicate key `zones`");
}

#[test]
fn empty_and_non_mapping_files_are_errors() {
    for text in ["", "   \n", "- a\n- b\n", "just text", "---\nname: a\n---\nname: b\n"] {
        assert_eq!(problems(text).len(), 1, "{text:?}");
    }
}

#[test]
fn rendered_diagnostic_names_file_line_field_and_fix() {
    let text = bundled_with("talks_to: [api]", "talks_to: [nobody]");
    let err = load_str("acme.yaml", &text).expect_err("invalid");
    let mut rendered = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .render_report(&mut rendered, &err)
        .expect("renders");
    insta::assert_snapshot!(rendered);
}

#[test]
fn schema_describes_every_field() {
    let schema = acme_spec::json_schema().to_string();
    for field in ["talks_to", "websocket", "public_access_cidrs", "backup_retention_days", "vault_lock"] {
        assert!(schema.contains(field), "{field} missing from the schema");
    }
    assert!(schema.contains("Services this one calls"), "doc comments become descriptions");
}

#[test]
fn read_errors_name_the_file() {
    let err = acme_spec::load_file(std::path::Path::new("/nonexistent/acme.yaml")).expect_err("missing");
    assert!(matches!(err, LoadError::Read { .. }));
    assert!(err.to_string().contains("/nonexistent/acme.yaml"));
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn on_any_text(text in "\\PC{0,400}") {
            let _ = load_str("fuzz.yaml", &text);
        }

        #[test]
        fn on_the_bundled_file_with_a_slice_replaced(start in 0usize..2600, len in 0usize..40, junk in "[ -~\\n\\t]{0,12}") {
            let start = BUNDLED.floor_char_boundary(start.min(BUNDLED.len()));
            let end = BUNDLED.floor_char_boundary((start + len).min(BUNDLED.len()));
            let text = format!("{}{}{}", &BUNDLED[..start], junk, &BUNDLED[end..]);
            let _ = load_str("fuzz.yaml", &text);
        }

        #[test]
        fn on_yaml_shaped_values(port in any::<i64>(), zones in any::<i64>(), cidr in "[0-9./]{0,20}", host in "[a-zA-Z0-9.*-]{0,30}") {
            let text = bundled_with("cidr: 10.20.0.0/16", &format!("cidr: \"{cidr}\""))
                .replacen("zones: 3", &format!("zones: {zones}"), 1)
                .replacen("  - name: chat\n    port: 8080", &format!("  - name: chat\n    port: {port}"), 1)
                .replacen("host: chat.acme.example.com", &format!("host: \"{host}\""), 1);
            let _ = load_str("fuzz.yaml", &text);
        }
    }
}

#[test]
fn overrides_take_any_yaml_value_and_a_property_path() {
    let text = format!(
        "{BUNDLED}\noverrides:\n  - stack: data\n    resource: Database\n    path: Properties.Tags[0]\n    value: {{ Key: team, Value: db }}\n  - stack: edge\n    resource: LoadBalancer\n    path: Properties.LoadBalancerAttributes.2\n    remove: true\n"
    );
    let p = load_str("acme.yaml", &text).unwrap_or_else(|e| panic!("{e:?}"));
    use acme_spec::{OverrideAction, PathStep};
    assert_eq!(p.overrides.len(), 2);
    assert_eq!(p.overrides[0].path, [PathStep::Key("Tags".into()), PathStep::Index(0)]);
    assert_eq!(p.overrides[0].action, OverrideAction::Set(serde_json::json!({ "Key": "team", "Value": "db" })));
    assert_eq!(p.overrides[1].path_text(), "Properties.LoadBalancerAttributes[2]");
    assert_eq!(p.overrides[1].action, OverrideAction::Remove);
}

#[test]
fn an_override_needs_a_properties_path_and_one_action() {
    let text = format!(
        "{BUNDLED}\noverrides:\n  - stack: data\n    resource: Database\n    path: MultiAZ\n    value: false\n  - stack: data\n    resource: Database\n    path: Properties.MultiAZ\n"
    );
    let found = problems(&text);
    let fields: Vec<&str> = found.iter().map(|p| p.1.as_str()).collect();
    assert_eq!(fields, ["overrides[0].path", "overrides[1]"], "{found:?}");
    assert!(found[0].2.contains("does not start with `Properties`"), "{found:?}");
    assert_eq!(found[0].0, format!("{}:11", line_of(&text, "path: MultiAZ")));
    assert!(found[1].3.contains("remove: true"), "{found:?}");
}

#[test]
fn an_accepted_finding_needs_a_reason() {
    let text = format!("{BUNDLED}\ncheck:\n  accept:\n    - rule: ACME-DB-003\n      reason: \"\"\n");
    assert_one(&text, "reason: \"\"", "check.accept[0].reason", "needs a written reason");
    let ok = format!(
        "{BUNDLED}\ncheck:\n  accept:\n    - rule: ACME-DB-003\n      reason: staging database, rebuilt nightly from a snapshot\n      stack: data\n"
    );
    let p = load_str("acme.yaml", &ok).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(p.check.accept[0].stack.as_deref(), Some("data"));
}

#[test]
fn a_tls_policy_must_be_an_alb_policy() {
    let text = bundled_with("  waf: true", "  waf: true\n  tls_policy: TLSv1");
    assert_one(&text, "tls_policy", "edge.tls_policy", "not an Application Load Balancer security policy");
}

#[test]
fn a_ci_provider_acmectl_does_not_know_names_the_field() {
    let text = bundled_with("provider: jenkins", "provider: gitlab");
    assert_one(&text, "provider: gitlab", "ci.provider", "`gitlab` is not a CI provider");
    let found = problems(&text);
    assert!(found[0].3.contains("`jenkins` or `github`"), "{found:#?}");
    // A near miss gets a suggestion.
    let found = problems(&bundled_with("provider: jenkins", "provider: jenkin"));
    assert!(found[0].3.contains("did you mean `jenkins`?"), "{found:#?}");
}

#[test]
fn a_severity_that_does_not_exist_names_the_field_and_the_names() {
    let text = bundled_with("fail_on: high", "fail_on: severe");
    assert_one(&text, "fail_on: severe", "ci.fail_on", "`severe` is not a severity of ECR scan findings");
    let help = &problems(&text)[0].3;
    for name in ["informational", "low", "medium", "high", "critical"] {
        assert!(help.contains(name), "{help}");
    }
    assert!(problems(&bundled_with("fail_on: high", "fail_on: hihg"))[0].3.contains("did you mean `high`?"));
}

#[test]
fn severities_read_in_any_case_and_default_to_high() {
    for (written, expected) in [("CRITICAL", Severity::Critical), ("Medium", Severity::Medium), ("low", Severity::Low)]
    {
        let platform = load_str("acme.yaml", &bundled_with("fail_on: high", &format!("fail_on: {written}")))
            .unwrap_or_else(|e| panic!("{written}: {e:?}"));
        assert_eq!(platform.ci.fail_on, expected);
    }
    let platform = load_str("acme.yaml", &bundled_with("  fail_on: high\n", "")).expect("valid");
    assert_eq!(platform.ci.fail_on, Severity::High);
    assert!(!load_str("acme.yaml", &bundled_with("  approval: true\n", "")).expect("valid").ci.approval);
}

#[test]
fn source_defaults_to_the_services_folder() {
    let platform = load_str("acme.yaml", BUNDLED).expect("valid");
    let web = &platform.services[0].source;
    assert_eq!(
        (web.path.as_str(), web.dockerfile.as_str(), web.test.as_deref()),
        ("services/web", "services/web/Dockerfile", None)
    );
    let text =
        bundled_with("source: { test: make test }", "source: { path: apps/api/, dockerfile: docker/api.Dockerfile }");
    let api = load_str("acme.yaml", &text).expect("valid").services[1].source.clone();
    assert_eq!((api.path.as_str(), api.dockerfile.as_str()), ("apps/api", "docker/api.Dockerfile"));
}

#[test]
fn source_paths_must_stay_plain_and_inside_the_repository() {
    for bad in ["../other", "/abs/path", "services/*", "a b", "svc/./x", "-rf"] {
        let text = bundled_with("source: { test: make test }", &format!("source: {{ path: \"{bad}\" }}"));
        let found = problems(&text);
        assert!(
            found.iter().any(|p| p.1 == "services[1].source.path" && p.2.contains("not a plain path")),
            "{bad}: {found:#?}"
        );
    }
    let text = bundled_with("source: { test: make test }", "source: { dockerfile: \"../Dockerfile\" }");
    assert_one(&text, "dockerfile:", "services[1].source.dockerfile", "not a plain path");
    let text = bundled_with(
        "  account_id: \"111122223333\"\n",
        "  account_id: \"111122223333\"\n  platform_file: ../acme.yaml\n",
    );
    assert_one(&text, "platform_file:", "ci.platform_file", "not a plain path");
}

#[test]
fn a_test_command_is_one_line_of_shell() {
    let text = bundled_with("source: { test: make test }", "source: { test: \"make ${{ secrets.X }}\" }");
    assert_one(&text, "source:", "services[1].source.test", "GitHub Actions expression");
    let text = bundled_with("source: { test: make test }", "source: { test: \"make\\ntest\" }");
    assert_one(&text, "source:", "services[1].source.test", "one line");
}

#[test]
fn an_account_id_has_twelve_digits_quoted_or_not() {
    let text = bundled_with("account_id: \"111122223333\"", "account_id: 111122223333");
    assert_eq!(load_str("acme.yaml", &text).expect("valid").ci.account_id.as_deref(), Some("111122223333"));
    // Unquoted, a leading zero is lost to YAML's number reading: the help says to quote it.
    let text = bundled_with("account_id: \"111122223333\"", "account_id: 012345678901");
    assert_one(&text, "account_id:", "ci.account_id", "is not an AWS account id");
    assert!(problems(&text)[0].3.contains("quoted"));
    let text = bundled_with("account_id: \"111122223333\"", "account_id: \"1234\"");
    assert_one(&text, "account_id:", "ci.account_id", "`1234` is not an AWS account id");
}

#[test]
fn github_ci_with_a_private_cluster_needs_runners_inside_the_vpc() {
    let github = bundled_with("provider: jenkins", "provider: github").replacen(
        "  agent_roles:\n    - arn:aws:iam::111122223333:role/acme-jenkins-agent\n",
        "",
        1,
    );
    assert_one(&github, "ci:", "ci", "cannot reach the cluster");
    let with_runner =
        github.replacen("  fail_on: high\n", "  fail_on: high\n  runner: [self-hosted, acme-deploy]\n", 1);
    let platform = load_str("acme.yaml", &with_runner).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(platform.ci.runner, ["self-hosted", "acme-deploy"]);
    let bad = with_runner.replacen("acme-deploy]", "\"acme deploy\"]", 1);
    assert_one(&bad, "runner:", "ci.runner[1]", "not a runner label");
}

#[test]
fn the_schema_lists_the_providers_and_severities() {
    let schema = acme_spec::json_schema().to_string();
    for word in ["\"gitlab\"", "fail_on", "platform_file", "dockerfile"] {
        assert_eq!(schema.contains(word), word != "\"gitlab\"", "{word}");
    }
    for word in ["\"jenkins\"", "\"github\"", "\"critical\"", "\"informational\""] {
        assert!(schema.contains(word), "{word} missing from the schema");
    }
}

/// The bundled file with its `legacy` section replaced by `legacy` (YAML, at the top level).
fn with_legacy(legacy: &str) -> String {
    let start = BUNDLED.find("legacy:\n").expect("acme.yaml has a legacy section");
    format!("{}{legacy}", &BUNDLED[..start])
}

#[test]
fn every_host_gets_its_old_side_from_the_defaults_and_its_own_entry() {
    let text = with_legacy(
        "legacy:\n  target: old-lb.acme-legacy.example.net\n  private_addresses: [10.50.0.10]\n  port: 8443\n  hosts:\n    \
         - host: auth.acme.example.com\n      addresses: [203.0.113.10, 203.0.113.11]\n      protocol: http\n      \
         requests: { namespace: AWS/ELB, metric: RequestCount, dimensions: { LoadBalancerName: old-auth } }\n    \
         - host: chat.acme.example.com\n      new: true\n",
    );
    let platform = load_str("acme.yaml", &text).unwrap_or_else(|e| panic!("{e:?}"));
    let legacy = platform.legacy.as_ref().expect("legacy");
    assert_eq!(legacy.hosts.keys().collect::<Vec<_>>(), ["auth.acme.example.com", "www.acme.example.com"]);
    let www = &legacy.hosts["www.acme.example.com"];
    assert_eq!(www.public, acme_spec::OldTarget::Name("old-lb.acme-legacy.example.net".into()));
    let private = www.private.as_ref().expect("www reaches the old side privately");
    assert_eq!((private.port, private.protocol.as_str(), private.health_codes.as_str()), (8443, "HTTPS", "200-499"));
    let auth = &legacy.hosts["auth.acme.example.com"];
    assert_eq!(auth.public.record_type(), "A");
    assert_eq!(auth.public.values(), ["203.0.113.10", "203.0.113.11"]);
    // The entry's protocol applies to the default addresses, on the default port.
    let auth_private = auth.private.as_ref().expect("defaults apply");
    assert_eq!((auth_private.port, auth_private.protocol.as_str()), (8443, "HTTP"));
    assert_eq!(auth.requests.as_ref().map(|m| m.dimensions["LoadBalancerName"].as_str()), Some("old-auth"));
    assert!(platform.old_side("chat.acme.example.com").is_none(), "chat is new");
}

#[test]
fn a_legacy_host_must_be_a_host_of_the_platform() {
    let text = with_legacy(
        "legacy:\n  target: old.example.net\n  hosts:\n    - host: chta.acme.example.com\n      new: true\n",
    );
    assert_one(&text, "host: chta", "legacy.hosts[0].host", "`chta.acme.example.com` is not a host of this platform");
    let found = problems(&text);
    assert!(found[0].3.contains("did you mean `chat.acme.example.com`?"), "{found:?}");
}

#[test]
fn a_legacy_host_is_described_once() {
    let text = with_legacy(
        "legacy:\n  target: old.example.net\n  hosts:\n    - host: chat.acme.example.com\n      new: true\n    \
         - host: chat.acme.example.com\n      target: other.example.net\n",
    );
    let second = text.rfind("- host: chat").map(|i| text[..i].matches('\n').count() + 1).expect("second entry");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].0.starts_with(&format!("{second}:")), "{found:#?}");
    assert_eq!(found[0].1, "legacy.hosts[1].host");
    assert!(found[0].2.contains("already described at legacy.hosts[0]"));
}

#[test]
fn the_old_side_is_a_name_or_addresses_not_both() {
    let text = with_legacy("legacy:\n  target: old.example.net\n  addresses: [203.0.113.10]\n");
    assert_one(&text, "addresses:", "legacy.addresses", "both `target` and `addresses` are given");
}

#[test]
fn public_and_private_addresses_are_where_they_say() {
    let public = with_legacy("legacy:\n  addresses: [203.0.113.10, 10.1.2.3]\n");
    assert_one(&public, "addresses:", "legacy.addresses[1]", "`10.1.2.3` is not a public address");
    let private = with_legacy("legacy:\n  target: old.example.net\n  private_addresses: [203.0.113.10]\n");
    assert_one(&private, "private_addresses:", "legacy.private_addresses[0]", "not in a private range");
    let inside = with_legacy("legacy:\n  target: old.example.net\n  private_addresses: [10.20.1.5]\n");
    assert_one(&inside, "private_addresses:", "legacy.private_addresses[0]", "inside the new VPC (10.20.0.0/16)");
    let ipv6 = with_legacy("legacy:\n  addresses: [\"2001:db8::1\"]\n");
    assert_one(&ipv6, "addresses:", "legacy.addresses[0]", "not an IPv4 address");
    assert!(problems(&ipv6)[0].3.contains("IPv4 only"));
}

#[test]
fn the_zone_apex_cannot_be_a_cname() {
    let text = bundled_with("      - host: chat.acme.example.com", "      - host: acme.example.com");
    assert_one(&text, "target: old-lb", "legacy.target", "`acme.example.com` is the zone apex");
    let own =
        text.replacen("  hosts:\n", "  hosts:\n    - host: acme.example.com\n      addresses: [203.0.113.10]\n", 1);
    assert_eq!(problems(&own), vec![]);
}

#[test]
fn a_new_host_has_no_old_side() {
    let text = with_legacy(
        "legacy:\n  target: old.example.net\n  hosts:\n    - host: chat.acme.example.com\n      new: true\n      \
         target: old-chat.example.net\n",
    );
    assert_one(&text, "target: old-chat", "legacy.hosts[0].target", "is marked `new`");
}

#[test]
fn every_host_needs_to_say_where_it_is_served_today() {
    let text =
        with_legacy("legacy:\n  hosts:\n    - host: chat.acme.example.com\n      target: old-chat.example.net\n");
    let found = problems(&text);
    assert_eq!(found.len(), 2, "auth and www have no old side: {found:#?}");
    assert!(found.iter().all(|(_, field, _, help)| field == "legacy" && help.contains("new: true")), "{found:#?}");
    assert!(found[0].2.contains("`auth.acme.example.com`") && found[1].2.contains("`www.acme.example.com`"));
}

#[test]
fn settings_of_private_addresses_need_the_addresses() {
    let text = with_legacy("legacy:\n  target: old.example.net\n  port: 8443\n");
    assert_one(&text, "port: 8443", "legacy.port", "there are none");
    let codes = with_legacy(
        "legacy:\n  target: old.example.net\n  private_addresses: [10.50.0.10]\n  health: { codes: 500 }\n",
    );
    assert_one(&codes, "codes: 500", "legacy.health.codes", "from 200 to 499");
}

/// The bundled file with `migration` (YAML lines at the service's indentation) added to api.
fn with_migration(migration: &str) -> String {
    bundled_with("    source: { test: make test }\n", &format!("    source: {{ test: make test }}\n{migration}"))
}

#[test]
fn migration_settings_resolve_with_their_defaults() {
    let text = with_migration(
        "    migration:\n      steps: [10, 50, 100]\n      bake: 1m30s\n      probe: { path: /api/ping, latency: 250ms }\n      \
         baseline: { error_rate: 0.4%, p99: 350ms }\n",
    );
    let platform = load_str("acme.yaml", &text).unwrap_or_else(|e| panic!("{e:?}"));
    let m = &platform.service("api").expect("api").migration;
    assert_eq!(m.steps, [10, 50, 100]);
    assert_eq!(m.bake_seconds, 90);
    assert_eq!((m.probe.path.as_deref(), m.probe.status, m.probe.latency_ms), (Some("/api/ping"), (200, 399), 250));
    assert_eq!((m.baseline.error_rate, m.baseline.p99_ms), (Some(0.004), Some(350)));
    let web = &platform.service("web").expect("web").migration;
    assert_eq!((web.steps.as_slice(), web.bake_seconds), (&[1, 5, 25, 50, 100][..], 300));
}

#[test]
fn steps_rise_to_one_hundred() {
    let not_rising = with_migration("    migration:\n      steps: [5, 5, 100]\n");
    assert_one(&not_rising, "steps:", "services[1].migration.steps[1]", "does not rise");
    let unfinished = with_migration("    migration:\n      steps: [5, 50]\n");
    assert_one(&unfinished, "steps:", "services[1].migration.steps", "the last step is not 100");
    let too_big = with_migration("    migration:\n      steps: [5, 150]\n");
    assert_one(&too_big, "steps:", "services[1].migration.steps[1]", "percentage 150 is outside 1..=100");
    let none = with_migration("    migration:\n      steps: []\n");
    assert_one(&none, "steps:", "services[1].migration.steps", "0 steps");
}

#[test]
fn bake_probe_and_baseline_are_checked() {
    let bake = with_migration("    migration:\n      bake: 5 minutes\n");
    assert_one(&bake, "bake:", "services[1].migration.bake", "not a bake time");
    let status = with_migration("    migration:\n      probe: { status: 2xx }\n");
    assert_one(&status, "probe:", "services[1].migration.probe.status", "not a status code or range");
    let latency = with_migration("    migration:\n      probe: { latency: 2m }\n");
    assert_one(&latency, "probe:", "services[1].migration.probe.latency", "from 1ms to 60s");
    let rate = with_migration("    migration:\n      baseline: { error_rate: 0.4 }\n");
    assert_one(&rate, "baseline:", "services[1].migration.baseline.error_rate", "not a percentage");
}

#[test]
fn a_migration_needs_an_old_side_and_a_route() {
    let text = with_migration("    migration:\n      bake: 1m\n");
    let without_legacy = &text[..text.find("\nlegacy:\n").expect("legacy")];
    assert_one(without_legacy, "migration:", "services[1].migration", "there is no `legacy` section");
    let unrouted = text.replacen("      - host: www.acme.example.com\n        path: /api\n", "", 1).replacen(
        "    routes:\n    talks_to: [auth]",
        "    talks_to: [auth]",
        1,
    );
    assert_one(&unrouted, "migration:", "services[1].migration", "no `routes`");
}
