//! Kubernetes objects: network policies deny by default and allow only what acme.yaml
//! declares; pods are hardened (DESIGN.md decision 5). Findings are located at the object,
//! `Kind namespace/name`; `check.accept[].resource` matches it as `Kind/namespace/name`.

use super::items;
use crate::requirement::{HIGH_AVAILABILITY, LEAST_PRIVILEGE, NETWORK_POLICIES, POD_TRAFFIC};
use crate::{Context, KubeObject, Rule, Violation};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub static RULES: &[Rule] = &[
    Rule {
        id: "ACME-K8S-001",
        requirement: POD_TRAFFIC,
        title: "Every namespace acmectl owns denies all traffic by default",
        help: "A `default-deny` NetworkPolicy selects every pod of the namespace for both ingress and egress and allows nothing; EKS allows all traffic to a pod no policy selects.",
        evaluate: default_deny,
    },
    Rule {
        id: "ACME-K8S-002",
        requirement: NETWORK_POLICIES,
        title: "Every allow rule traces back to acme.yaml",
        help: "Each network policy that allows traffic names, in its `acmectl/derived-from` annotation, the acme.yaml entries it comes from (`services[0].talks_to[0]`, a route, a `uses`); every one of them exists. Nothing is allowed that the file does not declare.",
        evaluate: allow_rules_trace,
    },
    Rule {
        id: "ACME-POD-001",
        requirement: LEAST_PRIVILEGE,
        title: "Every pod is hardened",
        help: "Non-root, read-only root file system, no privilege escalation, every capability dropped, seccomp RuntimeDefault, no host namespaces, resource requests and limits, readiness and liveness probes.",
        evaluate: pods_hardened,
    },
    Rule {
        id: "ACME-POD-002",
        requirement: HIGH_AVAILABILITY,
        title: "Every workload spreads across zones and has a PodDisruptionBudget",
        help: "A topology spread constraint over `topology.kubernetes.io/zone`, and a PodDisruptionBudget selecting its pods, so a zone outage or a node upgrade never takes all replicas at once.",
        evaluate: pods_available,
    },
];

/// The annotation that names the acme.yaml entries a policy derives from.
pub use acme_synth::kubernetes::DERIVED_FROM;
const WORKLOADS: [&str; 4] = ["Deployment", "StatefulSet", "DaemonSet", "Job"];
const POLICIES: [&str; 2] = ["NetworkPolicy", "ApplicationNetworkPolicy"];

fn kube_fix() -> &'static str {
    "acmectl synthesizes this object hardened; nothing in acme.yaml relaxes it: run `acmectl synth` again, and report it if it persists"
}

fn violation(o: &KubeObject, property: &str, message: String) -> Violation {
    Violation {
        location: o.location(),
        property: (!property.is_empty()).then(|| property.to_owned()),
        message,
        fix: crate::Fix { field: None, text: kube_fix().into() },
    }
}

fn default_deny(ctx: &Context) -> Vec<Violation> {
    // The namespaces that have one, in one pass over the policies: a platform of a thousand
    // services has a thousand namespaces and thousands of policies.
    let denied: BTreeSet<&str> = ctx
        .objects("NetworkPolicy")
        .filter(|p| {
            let spec = p.at("/spec");
            let selects_all = spec.and_then(|s| s.get("podSelector")).is_some_and(|sel| {
                sel.as_object().is_some_and(|m| {
                    m.values().all(|v| {
                        v.as_object().is_some_and(|o| o.is_empty()) || v.as_array().is_some_and(|a| a.is_empty())
                    })
                })
            });
            let types: Vec<&str> =
                items(spec.and_then(|s| s.get("policyTypes"))).iter().filter_map(|t| t.as_str()).collect();
            selects_all
                && types.contains(&"Ingress")
                && types.contains(&"Egress")
                && items(spec.and_then(|s| s.get("ingress"))).is_empty()
                && items(spec.and_then(|s| s.get("egress"))).is_empty()
        })
        .map(|p| p.namespace.as_str())
        .collect();
    let mut namespaces: Vec<&str> = ctx.platform.services.iter().map(|s| s.namespace.as_str()).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let mut found = vec![];
    for ns in namespaces.into_iter().filter(|ns| !denied.contains(ns)) {
        let namespace =
            KubeObject { kind: "Namespace".into(), namespace: String::new(), name: ns.into(), value: Value::Null };
        found.push(violation(
            &namespace,
            "",
            format!("namespace `{ns}` has no default-deny network policy: pods no other policy selects are open"),
        ));
    }
    found
}

fn allow_rules_trace(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for kind in POLICIES {
        for p in ctx.objects(kind) {
            let allows = !items(p.at("/spec/ingress")).is_empty() || !items(p.at("/spec/egress")).is_empty();
            if !allows {
                continue;
            }
            let sources: Vec<&str> = p
                .at("/metadata/annotations")
                .and_then(|a| a.get(DERIVED_FROM))
                .and_then(Value::as_str)
                .map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default();
            if sources.is_empty() {
                found.push(violation(
                    p,
                    "metadata.annotations",
                    format!("{kind} `{}` allows traffic that no acme.yaml entry declares", p.name),
                ));
            }
            for source in sources {
                if !declared(ctx, source) {
                    found.push(violation(
                        p,
                        "metadata.annotations",
                        format!("{kind} `{}` claims to derive from `{source}`, which acme.yaml does not have", p.name),
                    ));
                }
            }
        }
    }
    found
}

/// Whether `path` (`services[1].talks_to[0]`) names an entry of the platform.
pub(crate) fn declared(ctx: &Context, path: &str) -> bool {
    let index = |text: &str, prefix: &str| -> Option<(usize, String)> {
        let rest = text.strip_prefix(prefix)?.strip_prefix('[')?;
        let (i, tail) = rest.split_once(']')?;
        Some((i.parse().ok()?, tail.to_owned()))
    };
    let Some((i, tail)) = index(path, "services") else { return false };
    let Some(s) = ctx.platform.services.get(i) else { return false };
    if tail.is_empty() {
        return true;
    }
    let Some(field) = tail.strip_prefix('.') else { return false };
    let entry = |list: &str, len: usize| index(field, list).is_some_and(|(j, rest)| j < len && rest.is_empty());
    entry("routes", s.routes.len())
        || entry("talks_to", s.talks_to.len())
        || entry("uses", s.uses.len())
        || ["name", "port", "ports", "namespace"].contains(&field)
}

/// Pod templates of workloads, with their JSON pointer.
fn pod_specs<'c>(ctx: &'c Context) -> Vec<(&'c KubeObject, &'static str, &'c Value)> {
    let mut specs = vec![];
    for kind in WORKLOADS {
        for o in ctx.objects(kind) {
            if let Some(spec) = o.at("/spec/template/spec") {
                specs.push((o, "spec.template.spec", spec));
            }
        }
    }
    specs
}

fn pods_hardened(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (o, at, spec) in pod_specs(ctx) {
        let pod = spec.get("securityContext");
        for host in ["hostNetwork", "hostPID", "hostIPC"] {
            if spec.get(host) == Some(&Value::Bool(true)) {
                found.push(violation(
                    o,
                    &format!("{at}.{host}"),
                    format!("pods of `{}` share the node's {host}", o.name),
                ));
            }
        }
        let containers = items(spec.get("containers"))
            .into_iter()
            .map(|c| ("containers", c))
            .chain(items(spec.get("initContainers")).into_iter().map(|c| ("initContainers", c)));
        for (i, (list, c)) in containers.enumerate() {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            let here = format!("{at}.{list}[{i}]");
            let sc = c.get("securityContext");
            let either = |key: &str| sc.and_then(|s| s.get(key)).or_else(|| pod.and_then(|p| p.get(key)));
            let mut wrong = vec![];
            if either("runAsNonRoot") != Some(&Value::Bool(true)) {
                wrong.push("may run as root");
            }
            if sc.and_then(|s| s.get("readOnlyRootFilesystem")) != Some(&Value::Bool(true)) {
                wrong.push("has a writable root file system");
            }
            if sc.and_then(|s| s.get("allowPrivilegeEscalation")) != Some(&Value::Bool(false)) {
                wrong.push("may escalate privileges");
            }
            if sc.and_then(|s| s.get("privileged")) == Some(&Value::Bool(true)) {
                wrong.push("is privileged");
            }
            if !items(sc.and_then(|s| s.pointer("/capabilities/drop"))).iter().any(|d| d.as_str() == Some("ALL")) {
                wrong.push("keeps Linux capabilities");
            }
            if !items(sc.and_then(|s| s.pointer("/capabilities/add"))).is_empty() {
                wrong.push("adds Linux capabilities");
            }
            if either("seccompProfile").and_then(|p| p.get("type")).and_then(Value::as_str) != Some("RuntimeDefault") {
                wrong.push("has no RuntimeDefault seccomp profile");
            }
            for what in ["requests", "limits"] {
                for resource in ["cpu", "memory"] {
                    if c.pointer(&format!("/resources/{what}/{resource}")).is_none() {
                        wrong.push(if what == "requests" {
                            "lacks a CPU or memory request"
                        } else {
                            "lacks a CPU or memory limit"
                        });
                    }
                }
            }
            if list == "containers" && (c.get("readinessProbe").is_none() || c.get("livenessProbe").is_none()) {
                wrong.push("lacks a readiness or liveness probe");
            }
            wrong.dedup();
            if !wrong.is_empty() {
                found.push(violation(o, &here, format!("container `{name}` of `{}` {}", o.name, wrong.join(", "))));
            }
        }
    }
    found
}

fn pods_available(ctx: &Context) -> Vec<Violation> {
    // Budgets' selectors by namespace, read once: each workload looks only at its own.
    let mut budgets: BTreeMap<&str, Vec<&serde_json::Map<String, Value>>> = BTreeMap::new();
    for pdb in ctx.objects("PodDisruptionBudget") {
        if let Some(selector) = pdb.at("/spec/selector/matchLabels").and_then(Value::as_object) {
            budgets.entry(pdb.namespace.as_str()).or_default().push(selector);
        }
    }
    let mut found = vec![];
    for (o, at, spec) in pod_specs(ctx) {
        if o.kind == "Job" || o.kind == "DaemonSet" {
            continue;
        }
        let spreads = items(spec.get("topologySpreadConstraints"))
            .iter()
            .any(|t| t.get("topologyKey").and_then(Value::as_str) == Some("topology.kubernetes.io/zone"));
        if !spreads {
            found.push(violation(
                o,
                &format!("{at}.topologySpreadConstraints"),
                format!("pods of `{}` are not spread across zones", o.name),
            ));
        }
        let labels = o.at("/spec/template/metadata/labels").and_then(Value::as_object);
        let budgeted = budgets
            .get(o.namespace.as_str())
            .into_iter()
            .flatten()
            .any(|sel| !sel.is_empty() && sel.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v)));
        if !budgeted {
            found.push(violation(o, "", format!("no PodDisruptionBudget protects the pods of `{}`", o.name)));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use acme_spec::fixture;
    use serde_json::json;

    fn object(kind: &str, namespace: &str, name: &str, value: Value) -> KubeObject {
        KubeObject { kind: kind.into(), namespace: namespace.into(), name: name.into(), value }
    }

    fn hardened_deployment(ns: &str, name: &str) -> KubeObject {
        object(
            "Deployment",
            ns,
            name,
            json!({
                "spec": { "template": {
                    "metadata": { "labels": { "app.kubernetes.io/name": name } },
                    "spec": {
                        "securityContext": { "runAsNonRoot": true, "seccompProfile": { "type": "RuntimeDefault" } },
                        "topologySpreadConstraints": [{ "topologyKey": "topology.kubernetes.io/zone" }],
                        "containers": [{
                            "name": name,
                            "securityContext": { "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false, "capabilities": { "drop": ["ALL"] } },
                            "resources": { "requests": { "cpu": "250m", "memory": "256Mi" }, "limits": { "cpu": "1", "memory": "256Mi" } },
                            "readinessProbe": {}, "livenessProbe": {}
                        }]
                    }
                }}
            }),
        )
    }

    /// What the Kubernetes module synthesizes for the fixture, reduced to what the rules read.
    fn objects() -> Vec<KubeObject> {
        let mut objects = vec![];
        for (i, s) in fixture::acme().services.iter().enumerate() {
            objects.push(object(
                "NetworkPolicy",
                &s.namespace,
                "default-deny",
                json!({ "spec": { "podSelector": {}, "policyTypes": ["Ingress", "Egress"] } }),
            ));
            objects.push(object("NetworkPolicy", &s.namespace, &format!("{}-from-alb", s.name), json!({
                "metadata": { "annotations": { DERIVED_FROM: format!("services[{i}].routes[0]") } },
                "spec": { "podSelector": { "matchLabels": { "app.kubernetes.io/name": s.name } }, "ingress": [{ "ports": [{ "port": 8080 }] }] }
            })));
            objects.push(hardened_deployment(&s.namespace, &s.name));
            objects.push(object(
                "PodDisruptionBudget",
                &s.namespace,
                &s.name,
                json!({ "spec": { "selector": { "matchLabels": { "app.kubernetes.io/name": s.name } } } }),
            ));
        }
        objects
    }

    fn run(rule: &str, change: impl FnOnce(&mut Vec<KubeObject>)) -> Vec<crate::Finding> {
        let platform = fixture::acme();
        let artifacts = acme_synth::synthesize(&platform);
        let mut ctx = Context::new(&platform, &artifacts);
        ctx.kubernetes = objects();
        change(&mut ctx.kubernetes);
        RULES.iter().find(|r| r.id == rule).expect("rule").evaluate(&ctx)
    }

    fn find<'a>(objects: &'a mut [KubeObject], kind: &str, ns: &str, name: &str) -> &'a mut KubeObject {
        objects.iter_mut().find(|o| o.kind == kind && o.namespace == ns && o.name == name).expect("object")
    }

    #[test]
    fn synthesized_shapes_pass_every_kubernetes_rule() {
        for rule in RULES {
            assert!(run(rule.id, |_| {}).is_empty(), "{}", rule.id);
        }
    }

    #[test]
    fn k8s_001_a_namespace_without_default_deny() {
        let found = run("ACME-K8S-001", |o| o.retain(|o| !(o.namespace == "api" && o.name == "default-deny")));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].location.resource_key(), "Namespace//api");
        let found = run("ACME-K8S-001", |o| {
            find(o, "NetworkPolicy", "web", "default-deny").value["spec"]["egress"] = json!([{}])
        });
        assert_eq!(found[0].location.resource_key(), "Namespace//web", "a deny that allows egress is no deny");
    }

    #[test]
    fn k8s_002_allow_rules_without_or_with_a_false_source() {
        let found =
            run("ACME-K8S-002", |o| find(o, "NetworkPolicy", "api", "api-from-alb").value["metadata"] = json!({}));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].location.resource_key(), "NetworkPolicy/api/api-from-alb");
        let found = run("ACME-K8S-002", |o| {
            find(o, "NetworkPolicy", "web", "web-from-alb").value["metadata"]["annotations"][DERIVED_FROM] =
                json!("services[0].talks_to[7]")
        });
        assert!(found[0].message.contains("services[0].talks_to[7]"), "{found:?}");
    }

    #[test]
    fn pod_001_unhardened_containers() {
        let found = run("ACME-POD-001", |o| {
            let d = find(o, "Deployment", "chat", "chat");
            d.value["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] =
                json!(false);
            d.value["spec"]["template"]["spec"]["securityContext"] = json!({});
        });
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].location.resource_key(), "Deployment/chat/chat");
        assert_eq!(found[0].property.as_deref(), Some("spec.template.spec.containers[0]"));
        for wrong in ["may run as root", "writable root file system", "seccomp"] {
            assert!(found[0].message.contains(wrong), "{}", found[0].message);
        }
    }

    #[test]
    fn pod_002_spread_and_budget() {
        let found = run("ACME-POD-002", |o| {
            o.retain(|o| !(o.kind == "PodDisruptionBudget" && o.name == "auth"));
            find(o, "Deployment", "web", "web").value["spec"]["template"]["spec"]["topologySpreadConstraints"] =
                json!([]);
        });
        let keys: Vec<String> = found.iter().map(|f| f.location.resource_key()).collect();
        assert_eq!(keys, ["Deployment/web/web", "Deployment/auth/auth"]);
    }

    #[test]
    fn traced_paths_must_exist_in_the_platform() {
        let platform = fixture::acme();
        let artifacts = acme_synth::synthesize(&platform);
        let ctx = Context::new(&platform, &artifacts);
        for ok in ["services[0]", "services[0].routes[0]", "services[1].uses[1]", "services[0].talks_to[0]"] {
            assert!(declared(&ctx, ok), "{ok}");
        }
        for bad in [
            "services[9]",
            "services[0].routes[3]",
            "services[2].talks_to[0]",
            "database",
            "services[0].x[0]",
            "services[0]x",
        ] {
            assert!(!declared(&ctx, bad), "{bad}");
        }
    }
}
