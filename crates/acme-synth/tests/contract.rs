//! Properties that hold for every platform: how stacks fit together, and the rules of
//! DESIGN.md that no single stack module can see.

mod common;

use acme_spec::fixture;
use acme_synth::{Artifacts, StackName, synthesize};
use common::variants;
use serde_json::Value;

#[test]
fn every_parameter_comes_from_an_output_of_an_earlier_stack() {
    for (variant, p) in variants() {
        let a = synthesize(&p);
        for (i, stack) in a.stacks.iter().enumerate() {
            for input in &stack.inputs {
                let upstream = a.stacks[..i].iter().find(|s| s.name == input.from).unwrap_or_else(|| {
                    panic!(
                        "[{variant}] {} imports {} from {}, which is not built before it",
                        stack.name, input.output, input.from
                    )
                });
                assert!(
                    upstream.template.outputs.contains_key(&input.output),
                    "[{variant}] {} imports {} but the {} stack has no such output",
                    stack.name,
                    input.output,
                    input.from
                );
            }
            let plan = a.plan.stack(stack.name).expect("every stack is in the plan");
            for (param, declared) in &stack.template.parameters {
                let kept = plan.kept.contains(param);
                assert!(
                    stack.inputs.iter().any(|i| &i.parameter == param) || kept,
                    "[{variant}] {} parameter {param} is not wired in plan.json",
                    stack.name
                );
                // A kept parameter is the stack's own state: it needs a value to start from.
                assert!(!kept || declared.default.is_some(), "[{variant}] kept {param} has no default");
            }
        }
    }
}

#[test]
fn output_names_are_unique_across_the_platform() {
    for (variant, p) in variants() {
        let a = synthesize(&p);
        let mut seen: Vec<(&str, StackName)> = vec![];
        for s in &a.stacks {
            for name in s.template.outputs.keys() {
                if let Some((_, other)) = seen.iter().find(|(n, _)| n == name) {
                    panic!("[{variant}] output {name} is declared by both {other} and {}", s.name);
                }
                seen.push((name, s.name));
            }
        }
    }
}

#[test]
fn waves_respect_dependencies_and_cover_every_stack_once() {
    let a = synthesize(&fixture::acme());
    let order: Vec<StackName> = a.plan.waves.iter().flatten().copied().collect();
    assert_eq!(order.len(), a.stacks.len());
    for s in &a.plan.stacks {
        let wave_of = |n: StackName| a.plan.waves.iter().position(|w| w.contains(&n));
        for d in &s.depends_on {
            assert!(wave_of(*d) < wave_of(s.name), "{} must come after {d}", s.name);
        }
    }
}

fn walk<'a>(v: &'a Value, f: &mut impl FnMut(&'a str, &'a Value)) {
    match v {
        Value::Object(m) => {
            for (k, inner) in m {
                f(k, inner);
                walk(inner, f);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk(i, f)),
        _ => {}
    }
}

#[test]
fn only_native_types_and_no_cross_stack_exports() {
    for (variant, p) in variants() {
        let a = synthesize(&p);
        for s in &a.stacks {
            for (id, r) in &s.template.resources {
                assert!(r.resource_type.starts_with("AWS::"), "[{variant}] {}/{id}: {}", s.name, r.resource_type);
                assert!(
                    !r.resource_type.starts_with("AWS::CloudFormation::CustomResource")
                        && !r.resource_type.starts_with("AWS::Lambda::"),
                    "[{variant}] {}/{id} is a custom resource or Lambda",
                    s.name
                );
            }
            let v = s.template.to_value();
            walk(&v, &mut |k, _| {
                assert!(k != "Export" && k != "Fn::ImportValue" && k != "Fn::Cidr", "[{variant}] {} uses {k}", s.name);
            });
        }
    }
}

/// DESIGN.md decision 3: nothing stateful is lost by accident.
#[test]
fn stateful_resources_are_retained_or_snapshotted() {
    const STATEFUL: &[&str] = acme_synth::stacks::STATEFUL_TYPES;
    for (variant, p) in variants() {
        let a = synthesize(&p);
        for s in &a.stacks {
            for (id, r) in &s.template.resources {
                if STATEFUL.contains(&r.resource_type) {
                    assert!(
                        r.deletion_policy.is_some_and(|d| d != acme_cfn::Policy::Delete),
                        "[{variant}] {}/{id} DeletionPolicy",
                        s.name
                    );
                    assert!(
                        r.update_replace_policy.is_some_and(|d| d != acme_cfn::Policy::Delete),
                        "[{variant}] {}/{id} UpdateReplacePolicy",
                        s.name
                    );
                }
            }
        }
    }
}

#[test]
fn synthesis_is_byte_identical_across_runs() {
    for (variant, p) in variants() {
        let first: Artifacts = synthesize(&p);
        let second = synthesize(&p.clone());
        assert_eq!(first.files(), second.files(), "[{variant}] output differs between runs");
    }
}

/// AWS's documented per-template quotas.
#[test]
fn templates_stay_within_cloudformation_quotas() {
    for (variant, p) in variants() {
        assert_eq!(synthesize(&p).quota_excess(), Vec::<String>::new(), "[{variant}]");
    }
}

#[test]
fn plan_names_every_stack_with_platform_prefix() {
    let a = synthesize(&fixture::acme());
    let files = a.files();
    let plan: Value = serde_json::from_str(&files["plan.json"]).expect("plan.json is JSON");
    let stacks = plan["stacks"].as_array().expect("stacks list");
    assert_eq!(stacks.len(), a.stacks.len());
    for s in stacks {
        let name = s["name"].as_str().expect("name");
        assert_eq!(s["stack_name"], format!("acme-{name}"));
        assert!(files.contains_key(s["template"].as_str().expect("template path")));
    }
}

/// The CloudFormation service role CI's change sets run with holds rights for exactly the
/// AWS services the stacks use: a resource type no entry covers would fail its first deploy.
#[test]
fn the_execution_role_covers_every_resource_type_ci_deploys() {
    for (variant, platform) in common::variants() {
        let artifacts = acme_synth::synthesize(&platform);
        let types: std::collections::BTreeSet<&str> = artifacts
            .stacks
            .iter()
            .filter(|s| s.name != acme_synth::StackName::Ci)
            .flat_map(|s| s.template.resources.values().map(|r| r.resource_type))
            .collect();
        let (_, uncovered) = acme_synth::stacks::ci::exec_services(types);
        assert!(uncovered.is_empty(), "{variant}: no execution-role rights for {uncovered:?} (ci::SERVICES_BY_TYPE)");
    }
}

/// Every listener rule stays within the ALB's shape quotas (condition values per rule, target
/// groups per forward), on every shard; the variant past 26 hosts has two edge stacks.
#[test]
fn listener_rules_stay_within_the_load_balancer_shape_quotas() {
    use acme_synth::stacks::shards::quotas;
    let mut most = 0;
    for (variant, p) in variants() {
        let a = synthesize(&p);
        let edges: Vec<StackName> = a.stacks.iter().map(|s| s.name).filter(|n| n.edge_shard().is_some()).collect();
        if variant == "two-load-balancers" {
            assert_eq!(edges, [StackName::EDGE, StackName::Edge(1)], "[{variant}]");
        }
        for s in a.stacks.iter().filter(|s| edges.contains(&s.name)) {
            let rules = s.template.resources_of_type("AWS::ElasticLoadBalancingV2::ListenerRule");
            for (id, rule) in rules {
                let value = serde_json::to_value(&rule.properties).expect("properties");
                let values: usize = value["Conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        ["HostHeaderConfig", "PathPatternConfig", "HttpHeaderConfig"]
                            .iter()
                            .map(|k| c[*k]["Values"].as_array().map_or(0, Vec::len))
                            .sum::<usize>()
                    })
                    .sum();
                assert!(values <= quotas::CONDITION_VALUES_PER_RULE, "[{variant}] {}/{id}: {values} values", s.name);
                most = most.max(values);
                let text = value["Actions"].to_string();
                let groups = text.matches("TargetGroupArn").count();
                assert!(groups <= quotas::TARGET_GROUPS_PER_ACTION, "[{variant}] {}/{id}: {groups} groups", s.name);
            }
        }
    }
    // A path route's rule: host, path and path/* (the count above reads the real shape).
    assert_eq!(most, 3);
}
