//! The `registry` stack: one ECR repository per microservice (`<platform>/<service>`), with
//! immutable tags, a scan of every pushed image, encryption with the keys stack's data key
//! and a lifecycle policy. Repositories are retained: deleting one would break every pod
//! that still runs one of its images.
//!
//! **Who may use them.** The repository policy lets the cluster's nodes pull and CI push,
//! and denies pushing to every other principal, administrators included: an image in a
//! repository got there through the pipeline (a break-glass push means changing the repository
//! policy, which is itself logged). ECR checks that every principal a repository
//! policy names exists, so the policy takes the two role ARNs from the stacks that create the
//! roles (cluster and ci, both deployed before this one): the imports are also what orders
//! the deploy. EKS Auto Mode nodes pull with the node role, whose managed policy
//! `AmazonEC2ContainerRegistryPullOnly` already grants the pull within the account; the
//! policy's statement for them states the intent, and keeps pulling working should the node
//! role lose that managed policy. Pullers need no KMS rights: ECR decrypts through the grant
//! it creates on the key for the repository.
//!
//! **Lifecycle.** Untagged images expire [`UNTAGGED_EXPIRE_DAYS`] days after their push (left
//! over by failed or repeated builds; ECR refuses to delete an image that a multi-architecture
//! index still references). Of the tagged images the [`KEEP_TAGGED_IMAGES`] most recent stay:
//! enough to roll back far, and a running image is only at risk after that many newer pushes
//! of the same service without a deploy.
//!
//! Each service adds one output, its repository URI (the ARN follows from the name), so the
//! stack holds 200 services within CloudFormation's 200 outputs.

use crate::stacks::ci::{ECR_DESCRIBE_ACTIONS, ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS};
use crate::stacks::names;
use crate::{Stack, StackName};
use acme_cfn::resources::ecr::{EncryptionConfiguration, ImageScanningConfiguration, LifecyclePolicy, Repository};
use acme_cfn::resources::iam::{Effect, PolicyDocument, Principal, Statement};
use acme_cfn::{Expr, ParameterType, pascal};
use acme_spec::Platform;
use serde_json::json;

/// Tagged images kept per repository.
pub const KEEP_TAGGED_IMAGES: u32 = 100;
/// Days an untagged image stays.
pub const UNTAGGED_EXPIRE_DAYS: u32 = 7;

/// Logical id of a service's repository.
pub fn repository_id(service: &str) -> String {
    format!("{}Repository", pascal(service))
}

/// The lifecycle policy, as the JSON text ECR takes.
pub fn lifecycle_policy_text() -> String {
    json!({
        "rules": [
            {
                "rulePriority": 1,
                "description": format!("Expire untagged images {UNTAGGED_EXPIRE_DAYS} days after push"),
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": UNTAGGED_EXPIRE_DAYS,
                },
                "action": { "type": "expire" },
            },
            {
                "rulePriority": 2,
                "description": format!("Keep the {KEEP_TAGGED_IMAGES} most recent tagged images"),
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": KEEP_TAGGED_IMAGES,
                },
                "action": { "type": "expire" },
            },
        ]
    })
    .to_string()
}

/// A repository-policy statement: the repository itself is the resource, so none is named.
fn statement(sid: &str, effect: Effect, principal: Principal, actions: &[&[&str]]) -> Statement {
    let mut action: Vec<String> = actions.iter().flat_map(|a| a.iter().map(|s| (*s).to_owned())).collect();
    action.sort();
    Statement { sid: Some(sid.into()), effect, principal: Some(principal), action, resource: None, condition: None }
}

fn repository_policy(node_role: &Expr, ci_role: &Expr) -> PolicyDocument {
    PolicyDocument::new(vec![
        statement("ClusterNodesPull", Effect::Allow, Principal::aws(node_role.clone()), &[&ECR_PULL_ACTIONS]),
        statement(
            "CiPushesAndReads",
            Effect::Allow,
            Principal::aws(ci_role.clone()),
            &[&ECR_PUSH_ACTIONS, &ECR_PULL_ACTIONS, &ECR_DESCRIBE_ACTIONS],
        ),
        statement("OnlyCiPushes", Effect::Deny, Principal::anyone(), &[&ECR_PUSH_ACTIONS])
            .condition(json!({ "ArnNotEquals": { "aws:PrincipalArn": ci_role } })),
    ])
}

pub fn build(p: &Platform) -> Stack {
    let mut stack = Stack::new(StackName::Registry, format!("{}: one ECR repository per microservice", p.name));
    let key = stack.import(StackName::Keys, names::outputs::DATA_KEY_ARN, ParameterType::String);
    let node_role = stack.import(StackName::Cluster, names::outputs::NODE_ROLE_ARN, ParameterType::String);
    let ci_role = stack.import(StackName::Ci, names::outputs::CI_ROLE_ARN, ParameterType::String);
    let t = &mut stack.template;

    // The same for every repository.
    let lifecycle_policy = LifecyclePolicy { lifecycle_policy_text: lifecycle_policy_text(), registry_id: None };
    let policy = repository_policy(&node_role, &ci_role);
    for service in &p.services {
        let id = repository_id(&service.name);
        t.add(
            &id,
            Repository {
                repository_name: Some(names::repository(p, &service.name)),
                image_tag_mutability: Some("IMMUTABLE".into()),
                image_scanning_configuration: Some(ImageScanningConfiguration { scan_on_push: true }),
                encryption_configuration: Some(EncryptionConfiguration {
                    encryption_type: "KMS".into(),
                    kms_key: Some(key.clone()),
                }),
                lifecycle_policy: Some(lifecycle_policy.clone()),
                repository_policy_text: Some(policy.clone()),
                empty_on_delete: Some(false),
                tags: vec![],
            },
        )
        .retain()
        .skip_checkov(
            "CKV_AWS_32",
            "The only statement with a wildcard principal is a Deny (OnlyCiPushes): it takes push rights away from everyone but the CI role. Nothing is granted to the public; the check does not look at the statement's effect.",
        );
        t.output(
            names::repository_output(&service.name),
            format!("Image repository URI of {}", service.name),
            Expr::att(&id, "RepositoryUri"),
        );
    }
    stack
}

#[cfg(test)]
mod tests {
    use super::*;
    use acme_cfn::{Policy, Resource};
    use acme_spec::fixture;
    use serde_json::Value;

    fn repositories(s: &Stack) -> Vec<(&String, &Resource)> {
        s.template.resources_of_type("AWS::ECR::Repository").collect()
    }

    fn policy_statement(r: &Resource, sid: &str) -> Value {
        r.property("RepositoryPolicyText.Statement")
            .and_then(Value::as_array)
            .and_then(|l| l.iter().find(|st| st["Sid"] == sid).cloned())
            .unwrap_or_else(|| panic!("no statement {sid}"))
    }

    #[test]
    fn one_repository_per_service_named_after_it() {
        let p = fixture::acme();
        let s = build(&p);
        let names: Vec<&str> =
            repositories(&s).iter().filter_map(|(_, r)| r.property("RepositoryName").and_then(Value::as_str)).collect();
        assert_eq!(names, ["acme/web", "acme/api", "acme/auth", "acme/chat"]);
        for service in &p.services {
            let id = repository_id(&service.name);
            assert_eq!(
                s.template.outputs[&names::repository_output(&service.name)].value,
                Expr::att(&id, "RepositoryUri")
            );
        }
    }

    #[test]
    fn repositories_are_immutable_scanned_encrypted_expiring_and_retained() {
        let s = build(&fixture::acme());
        for (id, r) in repositories(&s) {
            assert_eq!(r.property("ImageTagMutability"), Some(&json!("IMMUTABLE")), "{id}");
            assert_eq!(r.property("ImageScanningConfiguration.ScanOnPush"), Some(&json!(true)), "{id}");
            assert_eq!(r.property("EncryptionConfiguration.EncryptionType"), Some(&json!("KMS")), "{id}");
            assert_eq!(r.property("EncryptionConfiguration.KmsKey"), Some(&json!({ "Ref": "DataKeyArn" })), "{id}");
            assert_eq!(r.property("EmptyOnDelete"), Some(&json!(false)), "{id}");
            assert_eq!((r.deletion_policy, r.update_replace_policy), (Some(Policy::Retain), Some(Policy::Retain)));
            let text = r.property("LifecyclePolicy.LifecyclePolicyText").and_then(Value::as_str).unwrap_or_default();
            assert_eq!(text, lifecycle_policy_text());
        }
    }

    #[test]
    fn lifecycle_expires_untagged_after_days_and_keeps_the_latest_tagged() {
        let policy: Value = serde_json::from_str(&lifecycle_policy_text()).expect("lifecycle policy is JSON");
        let rules = policy["rules"].as_array().cloned().unwrap_or_default();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0]["selection"]["tagStatus"], "untagged");
        assert_eq!(rules[0]["selection"]["countType"], "sinceImagePushed");
        assert_eq!(rules[0]["selection"]["countNumber"], UNTAGGED_EXPIRE_DAYS);
        assert_eq!(rules[1]["selection"]["tagStatus"], "tagged");
        assert_eq!(rules[1]["selection"]["tagPatternList"], json!(["*"]));
        assert_eq!(rules[1]["selection"]["countType"], "imageCountMoreThan");
        assert_eq!(rules[1]["selection"]["countNumber"], KEEP_TAGGED_IMAGES);
        let priorities: Vec<&Value> = rules.iter().map(|r| &r["rulePriority"]).collect();
        assert_eq!(priorities, [1, 2]);
        // ECR rejects a lifecycle policy text shorter than 100 characters.
        assert!(lifecycle_policy_text().len() >= 100);
    }

    #[test]
    fn nodes_pull_ci_pushes_and_nobody_else_pushes() {
        let s = build(&fixture::acme());
        for (_, r) in repositories(&s) {
            let statements = r.property("RepositoryPolicyText.Statement").and_then(Value::as_array).cloned();
            assert_eq!(statements.map(|l| l.len()), Some(3));

            let nodes = policy_statement(r, "ClusterNodesPull");
            assert_eq!(nodes["Effect"], "Allow");
            assert_eq!(nodes["Principal"], json!({ "AWS": [{ "Ref": "NodeRoleArn" }] }));
            assert_eq!(
                nodes["Action"],
                json!(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])
            );

            let ci = policy_statement(r, "CiPushesAndReads");
            assert_eq!(ci["Effect"], "Allow");
            assert_eq!(ci["Principal"], json!({ "AWS": [{ "Ref": "CiRoleArn" }] }));
            for action in ECR_PUSH_ACTIONS {
                assert!(ci["Action"].as_array().is_some_and(|a| a.contains(&json!(action))), "{action}");
            }

            let deny = policy_statement(r, "OnlyCiPushes");
            assert_eq!(deny["Effect"], "Deny");
            assert_eq!(deny["Principal"], json!({ "AWS": "*" }));
            let mut pushes = ECR_PUSH_ACTIONS.to_vec();
            pushes.sort_unstable();
            assert_eq!(deny["Action"], json!(pushes));
            assert_eq!(deny["Condition"], json!({ "ArnNotEquals": { "aws:PrincipalArn": { "Ref": "CiRoleArn" } } }));

            for st in [&nodes, &ci, &deny] {
                assert!(st.get("Resource").is_none(), "repository policies name no resource");
            }
            for st in [&nodes, &ci] {
                let text = st["Principal"].to_string();
                assert!(!text.contains('*'), "no wildcard principal is ever allowed: {text}");
            }
        }
    }

    #[test]
    fn roles_come_from_the_stacks_that_create_them_so_the_deploy_waits_for_them() {
        let s = build(&fixture::acme());
        let inputs: Vec<(&str, StackName)> = s.inputs.iter().map(|i| (i.output.as_str(), i.from)).collect();
        assert_eq!(
            inputs,
            [("DataKeyArn", StackName::Keys), ("NodeRoleArn", StackName::Cluster), ("CiRoleArn", StackName::Ci)]
        );
        let order = StackName::ALL;
        let at = |n: StackName| order.iter().position(|s| *s == n);
        assert!(at(StackName::Cluster) < at(StackName::Registry) && at(StackName::Ci) < at(StackName::Registry));
    }

    #[test]
    fn two_hundred_services_fit_the_output_quota() {
        let mut p = fixture::acme();
        let template = p.services[0].clone();
        p.services = (0..200).map(|i| acme_spec::Service { name: format!("svc{i}"), ..template.clone() }).collect();
        let s = build(&p);
        assert_eq!(repositories(&s).len(), 200);
        assert!(s.template.outputs.len() <= 200, "{} outputs", s.template.outputs.len());
    }
}
