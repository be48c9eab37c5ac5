//! The Kubernetes objects of the bundled acme.yaml as behaviour: the full matrix of who may reach
//! what under its network policies, and every allow rule traced back to the line of acme.yaml
//! that asked for it.

mod common;

use acme_spec::Platform;
use acme_synth::kubernetes::reach::{Endpoint, Matrix, Policies, Port, workloads};
use acme_synth::kubernetes::{DERIVED_FROM, Manifests, Object, Values, manifests};

const BUNDLED: &str = include_str!("../../../acme.yaml");

fn bundled() -> Platform {
    acme_spec::load_str("acme.yaml", BUNDLED).unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn reachability_matrix_of_the_bundled_platform() {
    let p = bundled();
    let m = manifests(&p, &Values::placeholders());
    let matrix = Matrix::new(&p, &m, &Values::placeholders());
    insta::assert_snapshot!(matrix.to_string());

    // What acme.yaml says, read back from the matrix.
    let yes = |from: &str, to: &str| matrix.get(from, to).unwrap_or_else(|| panic!("no policy cell {from} -> {to}"));
    for s in ["web", "api", "auth", "chat"] {
        assert!(yes("internet (ALB)", &format!("{s} 8080/tcp")), "the ALB reaches {s}");
        assert!(yes(s, "dns 53/udp") && yes(s, "dns 53/tcp"), "{s} resolves names");
        assert!(!yes(s, "internet 443/tcp"), "{s} has no way out to the internet");
        assert!(!yes(s, &format!("{s} 8080/tcp")), "replicas of {s} do not call each other");
    }
    for (from, to) in [("web", "api"), ("api", "auth"), ("chat", "auth")] {
        assert!(yes(from, &format!("{to} 8080/tcp")), "{from} talks to {to}");
        assert!(!yes(to, &format!("{from} 8080/tcp")), "{to} does not call back {from}");
    }
    for (from, to) in [("web", "auth"), ("web", "chat"), ("chat", "api"), ("auth", "api")] {
        assert!(!yes(from, &format!("{to} 8080/tcp")), "{from} must not reach {to}");
    }
    for s in ["api", "auth"] {
        assert!(yes(s, "database 5432/tcp") && yes(s, "pod-identity 80/tcp") && yes(s, "aws-endpoints 443/tcp"));
    }
    for s in ["web", "chat"] {
        assert!(!yes(s, "database 5432/tcp") && !yes(s, "pod-identity 80/tcp") && !yes(s, "aws-endpoints 443/tcp"));
    }
    assert!(yes("api", "s3 api/uploads 443/tcp"));
    assert!(["web", "auth", "chat"].iter().all(|s| !yes(s, "s3 api/uploads 443/tcp")));
    assert_eq!(matrix.get("internet (ALB)", "database 5432/tcp"), None, "security groups, not policies, govern that");
}

/// Every policy that allows anything names acme.yaml fields, and each is a line of the file.
#[test]
fn every_allow_rule_traces_back_to_a_line_of_acme_yaml() {
    let p = bundled();
    let m = manifests(&p, &Values::placeholders());
    let mut traced = 0;
    for o in m.objects() {
        let allows = match o {
            Object::NetworkPolicy(np) => np.spec.as_ref().is_some_and(|s| {
                s.ingress.as_ref().is_some_and(|r| !r.is_empty()) || s.egress.as_ref().is_some_and(|r| !r.is_empty())
            }),
            Object::ApplicationNetworkPolicy(anp) => !anp.spec.egress.is_empty(),
            _ => continue,
        };
        let derived = o.metadata().annotations.as_ref().and_then(|a| a.get(DERIVED_FROM));
        if !allows {
            assert!(derived.is_none(), "{} allows nothing yet claims a source", o.id());
            continue;
        }
        let derived = derived.unwrap_or_else(|| panic!("{} allows traffic but names no acme.yaml field", o.id()));
        for field in derived.split(',') {
            let line = acme_spec::field_line(BUNDLED, field)
                .unwrap_or_else(|| panic!("{}: `{field}` is not written in acme.yaml", o.id()));
            let text = BUNDLED.lines().nth(line - 1).unwrap_or_default();
            // The line says what the rule is about: the callee of a call, the database, the
            // bucket, the route's host, the service's declaration.
            let name = o.name();
            let expect: &[&str] = if let Some((callee, _caller)) = name.split_once("-from-") {
                if name.ends_with("-from-alb") { &["host:"] } else { &[callee] }
            } else if let Some((_, target)) = name.split_once("-to-") {
                match target {
                    "database" | "aws-endpoints" => &["database"],
                    "s3" => &["bucket"],
                    "pod-identity" => &["database", "bucket"],
                    callee => &[callee],
                }
            } else {
                &["name:"]
            };
            assert!(
                expect.iter().any(|e| text.contains(e)),
                "{}: line {line} `{text}` mentions none of {expect:?}",
                o.id()
            );
            traced += 1;
        }
    }
    assert!(traced >= 20, "only {traced} sources traced");
}

/// In every variant, no pod is left without default deny, and every workload can resolve names.
#[test]
fn every_variant_denies_by_default_and_resolves_names() {
    for (variant, p) in common::variants() {
        let m: Manifests = manifests(&p, &Values::placeholders());
        let pod_cidrs = p.network.subnets().iter().map(|z| z.private).collect();
        let policies = Policies::new(m.objects(), pod_cidrs);
        let dns = Endpoint::Address(p.network.cluster_dns_ip());
        let stranger = Endpoint::Address("203.0.113.7".parse().expect("address"));
        for (name, pods) in workloads(m.objects()) {
            assert!(policies.allows(&pods, &dns, Port::udp(53)), "{variant}: {name} cannot resolve names");
            assert!(!policies.allows(&pods, &stranger, Port::tcp(443)), "{variant}: {name} reaches the internet");
            assert!(
                !policies.allows(&stranger, &pods, Port::tcp(8080)),
                "{variant}: the internet reaches {name} directly"
            );
        }
    }
}

/// Every placeholder of every variant's manifests names an output its stack really has, or the
/// image of a real service: the deploy can fill them all.
#[test]
fn every_placeholder_names_a_real_stack_output_or_service_image() {
    use acme_synth::StackName;
    for (variant, p) in common::variants() {
        let artifacts = acme_synth::synthesize(&p);
        let text: String = artifacts.kubernetes.files().into_values().collect();
        let placeholders = Values::unresolved(&text);
        assert!(!placeholders.is_empty(), "{variant}: no placeholder at all?");
        for placeholder in placeholders {
            let inner = placeholder.trim_start_matches("${").trim_end_matches('}');
            let (scope, name) = inner.split_once('.').unwrap_or_else(|| panic!("{variant}: malformed {placeholder}"));
            if scope == "image" {
                assert!(p.service(name).is_some(), "{variant}: {placeholder} names no service");
                continue;
            }
            let stack = StackName::parse(scope).unwrap_or_else(|| panic!("{variant}: {placeholder} names no stack"));
            let stack = artifacts.stack(stack).unwrap_or_else(|| panic!("{variant}: {placeholder}: stack not built"));
            assert!(
                stack.template.outputs.contains_key(name),
                "{variant}: {placeholder}: the {scope} stack has no such output"
            );
        }
    }
}

/// No two objects of a variant share kind, namespace and name: each would overwrite the other.
#[test]
fn every_object_is_one_of_a_kind() {
    for (variant, p) in common::variants() {
        let m = manifests(&p, &Values::placeholders());
        let mut seen = std::collections::BTreeSet::new();
        for o in m.objects() {
            assert!(seen.insert(o.id()), "{variant}: {} appears twice", o.id());
        }
    }
}
