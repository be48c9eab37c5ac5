//! IAM: least privilege, checked on every role and policy acmectl synthesizes (or an
//! override patches): no `*` on `*`, no administrator policies, each microservice's role
//! limited to what its `uses` declares, and trust only in exact principals.

use super::{items, referenced_id};
use crate::requirement::{LEAST_PRIVILEGE, SERVICE_ACCOUNT_ROLES};
use crate::{Context, Rule, Violation};
use acme_spec::Service;
use acme_synth::stacks::{names::outputs, services};
use serde_json::Value;

pub static RULES: &[Rule] = &[
    Rule {
        id: "ACME-IAM-001",
        requirement: LEAST_PRIVILEGE,
        title: "No policy allows every action on every resource",
        help: "An Allow of `*` (or `*:*`) on resource `*` is administrator access in disguise.",
        evaluate: star_on_star,
    },
    Rule {
        id: "ACME-IAM-002",
        requirement: LEAST_PRIVILEGE,
        title: "No workload role holds an administrator policy",
        help: "AdministratorAccess, PowerUserAccess and IAMFullAccess give a compromised pod or pipeline the whole account (IAMFullAccess, the power to grant itself the rest).",
        evaluate: admin_policies,
    },
    Rule {
        id: "ACME-IAM-003",
        requirement: SERVICE_ACCOUNT_ROLES,
        title: "Each microservice's role reaches only the resources its `uses` declares",
        help: "A service's pod identity role may read the database secret only if the service uses the database, may touch only the buckets the service owns, and may use the data key only through those services (kms:ViaService). Nothing on `*`, no managed policies.",
        evaluate: service_roles,
    },
    Rule {
        id: "ACME-IAM-004",
        requirement: LEAST_PRIVILEGE,
        title: "Trust policies name exact principals",
        help: "A role is assumable only by named roles, AWS services, or a federated identity whose subject is pinned (GitHub: one repository and branch). Never `*`, never a whole account (`:root`).",
        evaluate: trust,
    },
];

const ADMIN_POLICIES: [&str; 3] = ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"];

/// Every policy document of a resource, with its property path.
fn documents<'a>(resource_type: &str, r: &'a acme_cfn::Resource) -> Vec<(String, &'a Value)> {
    match resource_type {
        "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => items(r.property("Policies"))
            .into_iter()
            .enumerate()
            .filter_map(|(i, p)| Some((format!("Properties.Policies[{i}].PolicyDocument"), p.get("PolicyDocument")?)))
            .collect(),
        _ => {
            r.property("PolicyDocument").map(|d| vec![("Properties.PolicyDocument".to_owned(), d)]).unwrap_or_default()
        }
    }
}

const POLICY_HOLDERS: [&str; 5] =
    ["AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"];

/// Allow statements of a document, with their index.
fn allows(document: &Value) -> impl Iterator<Item = (usize, &Value)> {
    items(document.get("Statement"))
        .into_iter()
        .enumerate()
        .filter(|(_, s)| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
}

fn is_star(v: &Value, wildcards: &[&str]) -> bool {
    v.as_str().is_some_and(|s| wildcards.contains(&s))
}

fn star_on_star(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for resource_type in POLICY_HOLDERS {
        for (stack, id, r) in ctx.resources(resource_type) {
            for (path, doc) in documents(resource_type, r) {
                for (i, st) in allows(doc) {
                    let any_action = items(st.get("Action")).iter().any(|a| is_star(a, &["*", "*:*"]));
                    let any_resource = items(st.get("Resource")).iter().any(|a| is_star(a, &["*"]));
                    if any_action && any_resource {
                        found.push(Violation::at(
                            stack,
                            id,
                            &format!("{path}.Statement[{i}]"),
                            format!("`{id}` allows every action on every resource"),
                        ));
                    }
                }
            }
        }
    }
    found
}

/// The managed policy name at the end of an ARN written as a string or a `Fn::Sub`.
fn policy_name(v: &Value) -> Option<&str> {
    let text = v.as_str().or_else(|| v.get("Fn::Sub")?.as_str())?;
    text.rsplit_once(":policy/").map(|(_, name)| name.rsplit('/').next().unwrap_or(name))
}

fn admin_policies(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for resource_type in ["AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"] {
        for (stack, id, r) in ctx.resources(resource_type) {
            for (i, arn) in items(r.property("ManagedPolicyArns")).into_iter().enumerate() {
                if let Some(name) = policy_name(arn).filter(|n| ADMIN_POLICIES.contains(n)) {
                    found.push(Violation::at(
                        stack,
                        id,
                        &format!("Properties.ManagedPolicyArns[{i}]"),
                        format!("`{id}` holds {name}"),
                    ));
                }
            }
        }
    }
    found
}

/// Logical ids (or parameters) a resource entry points at: `Ref`, `Fn::GetAtt`, or the
/// `${Id}` / `${Id.Attr}` references of a `Fn::Sub`.
fn references(v: &Value) -> Vec<&str> {
    if let Some(id) = referenced_id(v) {
        return vec![id];
    }
    let Some(text) = v.get("Fn::Sub").and_then(Value::as_str) else { return vec![] };
    text.split("${")
        .skip(1)
        .filter_map(|part| part.split('}').next())
        .map(|name| name.split('.').next().unwrap_or(name))
        .filter(|name| !name.starts_with("AWS::"))
        .collect()
}

fn service_roles(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (stack, _, association) in ctx.resources("AWS::EKS::PodIdentityAssociation") {
        let namespace = association.property("Namespace").and_then(Value::as_str);
        let account = association.property("ServiceAccount").and_then(Value::as_str);
        let Some(service) = ctx
            .platform
            .services
            .iter()
            .find(|s| Some(s.namespace.as_str()) == namespace && Some(s.name.as_str()) == account)
        else {
            continue; // an add-on's role (Container Insights), not a microservice's
        };
        let Some(role_id) = association.property("RoleArn").and_then(referenced_id) else { continue };
        let Some(stack_of_role) = ctx.artifacts.stacks.iter().find(|s| s.name == stack) else { continue };
        let Some(role) = stack_of_role.template.resources.get(role_id) else { continue };
        for (i, _) in items(role.property("ManagedPolicyArns")).iter().enumerate() {
            found.push(Violation::at(
                stack,
                role_id,
                &format!("Properties.ManagedPolicyArns[{i}]"),
                format!("role of service {} holds a managed policy, which no `uses` entry grants", service.name),
            ));
        }
        for (path, doc) in documents("AWS::IAM::Role", role) {
            for (i, st) in allows(doc) {
                for (j, target) in items(st.get("Resource")).into_iter().enumerate() {
                    if let Some(problem) = outside_uses(ctx, service, st, target) {
                        found.push(Violation::at(
                            stack,
                            role_id,
                            &format!("{path}.Statement[{i}].Resource[{j}]"),
                            format!("role of service {} {problem}", service.name),
                        ));
                    }
                }
            }
        }
    }
    found
}

/// Why `target` is not one of `service`'s own resources, if it is not.
fn outside_uses(ctx: &Context, service: &Service, statement: &Value, target: &Value) -> Option<String> {
    if target.as_str().is_some() {
        return Some(format!("reaches {target}, a literal ARN or wildcard that is none of its uses"));
    }
    let refs = references(target);
    if refs.is_empty() {
        return Some(format!("reaches {target}, which is none of its uses"));
    }
    let own_buckets: Vec<String> =
        services::buckets(service).iter().map(|b| services::bucket(&service.name, b)).collect();
    for id in refs {
        let allowed = if id == outputs::DATABASE_SECRET_ARN {
            services::uses_database(ctx.platform, service)
        } else if id == outputs::DATA_KEY_ARN {
            statement.pointer("/Condition/StringEquals/kms:ViaService").is_some()
        } else {
            own_buckets.iter().any(|b| b == id)
        };
        if !allowed {
            return Some(format!("reaches `{id}`, which is none of its uses"));
        }
    }
    None
}

fn trust(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (stack, id, r) in ctx.resources("AWS::IAM::Role") {
        let Some(doc) = r.property("AssumeRolePolicyDocument") else { continue };
        for (i, st) in allows(doc) {
            let path = format!("Properties.AssumeRolePolicyDocument.Statement[{i}].Principal");
            if let Some(problem) = loose_principal(st) {
                found.push(Violation::at(stack, id, &path, format!("`{id}` trusts {problem}")));
            }
        }
    }
    found
}

fn loose_principal(statement: &Value) -> Option<String> {
    let principal = statement.get("Principal")?;
    if principal.as_str() == Some("*") {
        return Some("every principal (`*`)".into());
    }
    for aws in items(principal.get("AWS")) {
        let Some(text) = aws.as_str().or_else(|| aws.get("Fn::Sub").and_then(Value::as_str)) else { continue };
        if text.contains('*') {
            return Some(format!("a wildcard principal `{text}`"));
        }
        if text.ends_with(":root") || (text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())) {
            return Some(format!("a whole account (`{text}`)"));
        }
    }
    if principal.get("Federated").is_some() {
        let conditions = statement.get("Condition").and_then(Value::as_object);
        let pinned = conditions.is_some_and(|c| {
            c.values().filter_map(Value::as_object).flat_map(|m| m.iter()).any(|(key, value)| {
                key.ends_with(":sub") && items(Some(value)).iter().all(|v| v.as_str().is_some_and(|s| !s.contains('*')))
            })
        });
        if !pinned {
            return Some("a federated identity without an exact subject (`:sub` condition)".into());
        }
    }
    None
}
