//! The `ci` stack: the role CI assumes (named [`names::ci_role`], so the registry and the
//! cluster can name it), for GitHub Actions the account's OIDC provider, and the
//! CloudFormation service role CI's change sets run with ([`names::cfn_exec_role`]).
//!
//! **Who may assume the CI role.** GitHub: only workflow runs of the one repository on the one
//! deploying branch (`sub` = `repo:<owner/name>:ref:refs/heads/<branch>`, compared exactly).
//! Pull requests, other branches, tags, and jobs that use a GitHub environment (their `sub`
//! names the environment instead of the branch) do not match; the generated workflows keep
//! their approval in a job of its own for that reason. Jenkins: exactly the agents' roles
//! listed in acme.yaml, which must exist before this stack deploys (IAM rejects a trust policy
//! naming a role it does not know). When acme.yaml names no repository or no agent, the trust
//! policy is a single deny: the role exists (the registry names it) but nobody can assume it.
//!
//! **What the CI role may do: exactly what the pipelines run.** Push to and read the
//! platform's repositories (`<platform>/*`) and their scan findings; read the platform's
//! stacks (their outputs name the repositories, roles and target groups a service deploy
//! needs); describe the platform's cluster (enough for `aws eks get-token`; what CI may do
//! inside the cluster is its EKS access entry, in the cluster stack); list the Region's zones
//! (acmectl's preflight); and run change sets on the platform's stacks, never on this one.
//!
//! **Why a service role.** CloudFormation executes a change set with the rights of whoever
//! executes it, unless the stack has a service role. Giving CI the rights the stacks need
//! would let any CI job use them directly. Instead, CloudFormation holds them: CI may create a
//! change set only naming [`EXEC_ROLE`] (`cloudformation:RoleArn`), may pass that one role and
//! no other, and only CloudFormation may assume it. The execution role is derived from the
//! synthesized stacks ([`build`] takes them): the AWS services their resource types use, the
//! platform's roles by name (the ones its stacks create, the services' `<platform>-svc-*`, and
//! `<stack>-*` for roles CloudFormation names), only the AWS managed policies the stacks attach,
//! and service-linked roles only of the services that need one. It may never touch CI's role
//! nor its own, and nothing deploys this stack but an operator: CI cannot widen its own rights.
//! What remains: a change that passes review and approval can give a platform role new rights
//! (an inline policy); the approval, and branch protection on the file, are the control.
//!
//! Sessions last at most one hour.

use crate::stacks::{keys, names};
use crate::{Stack, StackName};
use acme_cfn::resources::iam::{Effect, InlinePolicy, OidcProvider, PolicyDocument, Principal, Role, Statement};
use acme_cfn::{Expr, Resource};
use acme_spec::{CiProvider, Platform};
use serde_json::{Value, json};
use std::collections::BTreeSet;

pub const ROLE: &str = "CiRole";
pub const OIDC_PROVIDER: &str = "GithubOidcProvider";
pub const EXEC_ROLE: &str = "CfnExecRole";

/// GitHub Actions' token issuer; IAM keys OIDC providers by this URL, one per account.
pub const GITHUB_OIDC_URL: &str = "https://token.actions.githubusercontent.com";
const GITHUB_TOKEN_ISSUER: &str = "token.actions.githubusercontent.com";
/// The audience `aws-actions/configure-aws-credentials` requests.
pub const GITHUB_AUDIENCE: &str = "sts.amazonaws.com";

/// Longest session; one hour is also the ceiling of a chained role session (Jenkins agents).
pub const MAX_SESSION_SECONDS: u32 = 3600;

/// ECR actions that write images; the registry denies them to everyone but CI.
pub const ECR_PUSH_ACTIONS: [&str; 4] =
    ["ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"];
/// ECR actions that read image layers and manifests.
pub const ECR_PULL_ACTIONS: [&str; 3] =
    ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];
/// ECR actions that read image metadata and scan findings.
pub const ECR_DESCRIBE_ACTIONS: [&str; 4] =
    ["ecr:DescribeImageScanFindings", "ecr:DescribeImages", "ecr:DescribeRepositories", "ecr:ListImages"];

/// CloudFormation reads of the platform's stacks: outputs, change sets, events, resources.
pub const CFN_READ_ACTIONS: [&str; 8] = [
    "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStackResource",
    "cloudformation:DescribeStackResources",
    "cloudformation:DescribeStacks",
    "cloudformation:GetTemplate",
    "cloudformation:GetTemplateSummary",
    "cloudformation:ListChangeSets",
];

/// IAM service prefixes CloudFormation calls for a resource type, by type prefix (a whole
/// namespace, `AWS::EC2::`) or exact type (the services a handler calls beyond its own).
/// `AWS::IAM::Role` is not here: roles get statements scoped to the platform's names.
const SERVICES_BY_TYPE: &[(&str, &[&str])] = &[
    ("AWS::Backup::", &["backup"]),
    // Vaults live in AWS Backup's storage service.
    ("AWS::Backup::BackupVault", &["backup-storage", "kms"]),
    ("AWS::CertificateManager::", &["acm"]),
    // DNS validation: CloudFormation writes the validation records into the hosted zone.
    ("AWS::CertificateManager::Certificate", &["route53"]),
    ("AWS::CloudTrail::", &["cloudtrail"]),
    ("AWS::CloudWatch::", &["cloudwatch"]),
    ("AWS::EC2::", &["ec2"]),
    // Flow logs deliver to CloudWatch Logs.
    ("AWS::EC2::FlowLog", &["logs"]),
    ("AWS::ECR::", &["ecr"]),
    ("AWS::EKS::", &["eks"]),
    // The cluster's subnets and security groups, and its secrets key (a grant).
    ("AWS::EKS::Cluster", &["ec2", "kms"]),
    ("AWS::ElasticLoadBalancingV2::", &["elasticloadbalancing"]),
    // The load balancer's subnets and security groups.
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", &["ec2"]),
    ("AWS::KMS::", &["kms"]),
    ("AWS::Logs::", &["logs"]),
    ("AWS::Logs::LogGroup", &["kms"]),
    ("AWS::RDS::", &["rds"]),
    // RDS creates the managed master-user secret, and grants on the data key, as the caller.
    ("AWS::RDS::DBInstance", &["ec2", "kms", "secretsmanager"]),
    ("AWS::Route53::", &["route53"]),
    // Query logging into a CloudWatch log group.
    ("AWS::Route53::HostedZone", &["logs"]),
    ("AWS::S3::", &["s3"]),
    ("AWS::SNS::", &["sns"]),
    ("AWS::WAFv2::", &["wafv2"]),
    // WAF logs are a CloudWatch Logs delivery.
    ("AWS::WAFv2::LoggingConfiguration", &["logs"]),
];

/// Service-linked roles AWS creates on first use of a resource type, as the caller.
const SERVICE_LINKED_ROLES: &[(&str, &str)] = &[
    ("AWS::EKS::Cluster", "eks.amazonaws.com"),
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "elasticloadbalancing.amazonaws.com"),
    ("AWS::RDS::DBInstance", "rds.amazonaws.com"),
    ("AWS::WAFv2::LoggingConfiguration", "wafv2.amazonaws.com"),
];

/// IAM actions on the platform's roles that CloudFormation's role handler calls.
const ROLE_ACTIONS: [&str; 14] = [
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:ListRolePolicies",
    "iam:ListRoleTags",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRoleDescription",
];

/// IAM service prefixes the execution role needs for these resource types, and the types no
/// entry covers (which a test holds empty for every platform acmectl synthesizes).
pub fn exec_services<'a>(types: impl IntoIterator<Item = &'a str>) -> (BTreeSet<&'static str>, BTreeSet<&'a str>) {
    let mut services = BTreeSet::new();
    let mut uncovered = BTreeSet::new();
    for ty in types {
        let mut covered = ty == "AWS::IAM::Role";
        for (key, prefixes) in SERVICES_BY_TYPE {
            if ty == *key || (key.ends_with("::") && ty.starts_with(key)) {
                services.extend(prefixes.iter().copied());
                covered |= key.ends_with("::");
            }
        }
        if !covered {
            uncovered.insert(ty);
        }
    }
    (services, uncovered)
}

/// The `sub` claim of a GitHub Actions run on `branch` of `repository`.
pub fn github_subject(repository: &str, branch: &str) -> String {
    format!("repo:{repository}:ref:refs/heads/{branch}")
}

fn arn(service: &str, resource: &str) -> Expr {
    Expr::sub(format!("arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"))
}

fn role_arn(name: &str) -> Expr {
    Expr::sub(names::role_arn(name))
}

/// The trust policy; `provider` is the GitHub OIDC provider's ARN.
fn trust(p: &Platform, provider: Option<Expr>) -> PolicyDocument {
    let statement = match (p.ci.provider, provider, &p.ci.repository) {
        (CiProvider::Github, Some(provider), Some(repository)) => Some(Statement {
            sid: Some("GithubActionsOnDeployBranch".into()),
            effect: Effect::Allow,
            principal: Some(Principal::Federated(provider)),
            action: vec!["sts:AssumeRoleWithWebIdentity".into()],
            resource: None,
            condition: Some(json!({
                "StringEquals": {
                    format!("{GITHUB_TOKEN_ISSUER}:aud"): GITHUB_AUDIENCE,
                    format!("{GITHUB_TOKEN_ISSUER}:sub"): github_subject(repository, &p.ci.branch),
                }
            })),
        }),
        (CiProvider::Jenkins, _, _) if !p.ci.jenkins_agent_role_arns.is_empty() => Some(Statement {
            sid: Some("JenkinsAgents".into()),
            effect: Effect::Allow,
            principal: Some(Principal::Aws(p.ci.jenkins_agent_role_arns.iter().map(Expr::from).collect())),
            // An agent running under EKS Pod Identity holds a session with session tags; STS
            // lets such a session chain into this role only if the trust allows TagSession too.
            // No policy of the platform reads principal tags, so the tags grant nothing.
            action: vec!["sts:AssumeRole".into(), "sts:TagSession".into()],
            resource: None,
            condition: None,
        }),
        _ => None,
    };
    PolicyDocument::new(vec![statement.unwrap_or_else(|| Statement {
        sid: Some("NobodyUntilAcmeYamlNamesTheCaller".into()),
        effect: Effect::Deny,
        principal: Some(Principal::anyone()),
        action: vec!["sts:AssumeRole".into(), "sts:AssumeRoleWithWebIdentity".into()],
        resource: None,
        condition: None,
    })])
}

fn stack_arn(p: &Platform, stack: StackName) -> Expr {
    arn("cloudformation", &format!("stack/{}/*", names::stack(&p.name, stack)))
}

/// Every stack of the platform: one of each kind (data and backup too, so that adding a
/// database needs no new rights) and every edge shard synthesized.
fn platform_stacks(deployed: &[Stack]) -> Vec<StackName> {
    let mut all: Vec<StackName> = StackName::ALL.into_iter().chain(deployed.iter().map(|s| s.name)).collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// The platform's stacks that CI deploys: all but this one, which holds CI's own rights.
fn deployed_stacks(p: &Platform, all: &[StackName]) -> Vec<Expr> {
    all.iter().filter(|s| **s != StackName::Ci).map(|s| stack_arn(p, *s)).collect()
}

fn permissions(p: &Platform, deployed: &[Stack]) -> PolicyDocument {
    let repositories = vec![arn("ecr", &format!("repository/{}", names::repository(p, "*")))];
    let stacks = platform_stacks(deployed);
    let all_stacks: Vec<Expr> = stacks.iter().map(|s| stack_arn(p, *s)).collect();
    let exec_role = role_arn(&names::cfn_exec_role(p));
    let (staging, staged) = keys::staging_arns(p);
    let mut push: Vec<&str> = ECR_PUSH_ACTIONS.iter().chain(&ECR_PULL_ACTIONS).copied().collect();
    push.sort_unstable();
    PolicyDocument::new(vec![
        // The registry login token is account-wide: the action has no resource-level scope.
        Statement::allow(&["ecr:GetAuthorizationToken"], vec!["*"]).sid("EcrLogin"),
        Statement::allow(&push, repositories.clone()).sid("EcrPushPlatformRepositories"),
        Statement::allow(&ECR_DESCRIBE_ACTIONS, repositories).sid("EcrReadImagesAndScanFindings"),
        Statement::allow(&["eks:DescribeCluster"], vec![arn("eks", &format!("cluster/{}", names::cluster(p)))])
            .sid("EksDescribePlatformCluster"),
        // acmectl's preflight: does the Region offer the zones acme.yaml asks for? A read
        // without resource-level scope.
        Statement::allow(&["ec2:DescribeAvailabilityZones"], vec!["*"]).sid("Ec2ZonesForPreflight"),
        // A service deploy waits until its new pods are healthy in their target groups. Reads
        // without resource-level scope.
        Statement::allow(&["elasticloadbalancing:DescribeTargetHealth"], vec!["*"]).sid("ElbTargetHealthOfDeploys"),
        // Every stack, this one included: its outputs are inputs of the registry and cluster.
        Statement::allow(&CFN_READ_ACTIONS, all_stacks.clone()).sid("CloudFormationReadPlatformStacks"),
        // A plan makes a change set for every stack, this one too, and discards it.
        Statement::allow(&["cloudformation:DeleteChangeSet"], all_stacks).sid("CloudFormationDiscardChangeSets"),
        Statement::allow(&["cloudformation:CreateChangeSet"], vec![stack_arn(p, StackName::Ci)])
            .sid("CloudFormationPlanTheCiStackOnly"),
        Statement::allow(&["cloudformation:CreateChangeSet"], deployed_stacks(p, &stacks))
            .sid("CloudFormationChangeSetsRunByTheExecutionRole")
            .condition(json!({ "StringEquals": { "cloudformation:RoleArn": exec_role.to_value() } })),
        Statement::allow(&["cloudformation:ExecuteChangeSet"], deployed_stacks(p, &stacks))
            .sid("CloudFormationExecuteOnPlatformStacks"),
        // Only this role, which only CloudFormation may assume: passing it to another service
        // would give that service nothing. CloudFormation does not always set
        // `iam:PassedToService`, so the statement does not condition on it.
        Statement::allow(&["iam:PassRole"], vec![exec_role]).sid("PassTheExecutionRoleToCloudFormation"),
        // Templates over the inline limit: staged under their content hash (a HEAD first, so
        // an unchanged one is not sent again), read back by CloudFormation as the caller.
        Statement::allow(&["s3:GetObject", "s3:PutObject"], vec![staged]).sid("StageTemplatesInTheStagingBucket"),
        // Without it a HEAD of a template not staged yet answers 403, not 404.
        Statement::allow(&["s3:ListBucket"], vec![staging])
            .sid("FindStagedTemplates")
            .condition(json!({ "StringLike": { "s3:prefix": format!("{}*", keys::STAGED_PREFIX) } })),
        // The key's id is random; its alias names it. (Importing its ARN would order this
        // stack after the keys.)
        Statement::allow(&["kms:Decrypt", "kms:GenerateDataKey"], vec![arn("kms", "key/*")])
            .sid("EncryptStagedTemplatesThroughS3")
            .condition(json!({
                "StringEquals": { "kms:ViaService": Expr::sub("s3.${AWS::Region}.${AWS::URLSuffix}").to_value() },
                "ForAnyValue:StringEquals": { "kms:ResourceAliases": keys::alias_name(p, keys::Purpose::Staging) }
            })),
    ])
}

/// Every role the deployed stacks create, as ARN patterns: by name where the template names
/// it (one `<platform>-svc-*` for the services' roles), else `<stack name>-*`, the prefix
/// CloudFormation gives the names it makes.
fn platform_roles(p: &Platform, deployed: &[Stack]) -> Vec<Expr> {
    let service_roles: BTreeSet<String> = p.services.iter().map(|s| names::service_role(p, &s.name)).collect();
    let mut exact = BTreeSet::new();
    let mut patterns = BTreeSet::new();
    for stack in deployed {
        for (_, role) in stack.template.resources_of_type("AWS::IAM::Role") {
            match role.property("RoleName").and_then(Value::as_str) {
                Some(name) if service_roles.contains(name) => {
                    patterns.insert(names::service_role_pattern(p));
                }
                Some(name) => {
                    exact.insert(name.to_owned());
                }
                None => {
                    patterns.insert(names::role_arn(&format!("{}-*", names::stack(&p.name, stack.name))));
                }
            }
        }
    }
    exact.iter().map(|n| role_arn(n)).chain(patterns.into_iter().map(Expr::sub)).collect()
}

/// The AWS managed policies the deployed stacks attach to roles.
fn attached_policies(deployed: &[Stack]) -> Vec<Value> {
    let mut found: Vec<Value> = vec![];
    for stack in deployed {
        for (_, role) in stack.template.resources_of_type("AWS::IAM::Role") {
            for arn in role.property("ManagedPolicyArns").and_then(Value::as_array).into_iter().flatten() {
                if !found.contains(arn) {
                    found.push(arn.clone());
                }
            }
        }
    }
    found.sort_by_key(Value::to_string);
    found
}

fn exec_permissions(p: &Platform, deployed: &[Stack]) -> PolicyDocument {
    let types: BTreeSet<&str> =
        deployed.iter().flat_map(|s| s.template.resources.values().map(|r| r.resource_type)).collect();
    let (services, _) = exec_services(types.iter().copied());
    let scoped = |service: &str| -> Vec<Expr> {
        match service {
            "ecr" => vec![arn("ecr", &format!("repository/{}", names::repository(p, "*")))],
            // Buckets CloudFormation names start with the stack name, the others with the platform's.
            "s3" => vec![Expr::sub(format!("arn:${{AWS::Partition}}:s3:::{}-*", p.name))],
            // RDS names the master-user secrets it manages `rds!...`; no other secret.
            "secretsmanager" => vec![arn("secretsmanager", "secret:rds!*")],
            _ => vec![Expr::from("*")],
        }
    };
    let mut statements: Vec<Statement> = services
        .iter()
        .map(|service| {
            Statement::allow(&[&format!("{service}:*")], scoped(service)).sid(format!("Manage{}", sid_word(service)))
        })
        .collect();
    let roles = platform_roles(p, deployed);
    if !roles.is_empty() {
        statements.push(Statement::allow(&ROLE_ACTIONS, roles.clone()).sid("ManagePlatformRoles"));
        statements.push(Statement::allow(&["iam:PassRole"], roles.clone()).sid("PassPlatformRoles"));
        let policies = attached_policies(deployed);
        if !policies.is_empty() {
            statements.push(
                Statement::allow(&["iam:AttachRolePolicy", "iam:DetachRolePolicy"], roles)
                    .sid("AttachOnlyTheManagedPoliciesTheStacksUse")
                    .condition(json!({ "ArnEquals": { "iam:PolicyARN": policies } })),
            );
        }
    }
    let linked: BTreeSet<&str> =
        SERVICE_LINKED_ROLES.iter().filter(|(ty, _)| types.contains(ty)).map(|(_, service)| *service).collect();
    if !linked.is_empty() {
        statements.push(
            Statement::allow(&["iam:CreateServiceLinkedRole"], vec![role_arn("aws-service-role/*")])
                .sid("ServiceLinkedRolesOfTheServicesUsed")
                .condition(json!({ "StringEquals": { "iam:AWSServiceName": linked } })),
        );
    }
    statements.push(
        Statement::deny(&["iam:*"], vec![role_arn(&names::ci_role(p)), role_arn(&names::cfn_exec_role(p))])
            .sid("NeverTheRightsOfCiOrItself"),
    );
    PolicyDocument::new(statements)
}

/// `backup-storage` → `BackupStorage`, for statement ids.
fn sid_word(service: &str) -> String {
    service.split('-').map(acme_cfn::pascal).collect()
}

/// The stack; `deployed` are the platform's other stacks, which CI deploys through
/// [`EXEC_ROLE`] and whose resources decide that role's rights.
pub fn build(p: &Platform, deployed: &[Stack]) -> Stack {
    let mut stack = Stack::new(StackName::Ci, format!("{}: the role CI assumes, least privilege", p.name));
    let t = &mut stack.template;

    let provider = match (p.ci.provider, &p.ci.github_oidc_provider_arn) {
        (CiProvider::Jenkins, _) => None,
        (CiProvider::Github, Some(existing)) => Some(Expr::Lit(existing.clone())),
        (CiProvider::Github, None) => {
            t.add(
                OIDC_PROVIDER,
                OidcProvider {
                    url: GITHUB_OIDC_URL.into(),
                    client_id_list: vec![GITHUB_AUDIENCE.into()],
                    // IAM trusts GitHub's issuer through its own root CAs; no thumbprint to pin.
                    thumbprint_list: vec![],
                },
            );
            Some(Expr::r#ref(OIDC_PROVIDER))
        }
    };

    let caller = match p.ci.provider {
        CiProvider::Github => format!("GitHub Actions on {}", p.ci.repository.as_deref().unwrap_or("(no repository)")),
        CiProvider::Jenkins => "the Jenkins agents".to_owned(),
    };
    t.add(
        ROLE,
        Role {
            role_name: Some(names::ci_role(p).into()),
            description: Some(format!("{}: assumed by {caller} to push images and deploy", p.name)),
            assume_role_policy_document: Some(trust(p, provider.clone())),
            managed_policy_arns: vec![],
            policies: vec![InlinePolicy { policy_name: "ci".into(), policy_document: permissions(p, deployed) }],
            max_session_duration: Some(MAX_SESSION_SECONDS),
            permissions_boundary: None,
        },
    );

    let exec = t.add(
        EXEC_ROLE,
        Role {
            role_name: Some(names::cfn_exec_role(p).into()),
            description: Some(format!("{}: CloudFormation deploys the platform's stacks with it", p.name)),
            assume_role_policy_document: Some(PolicyDocument::new(vec![
                Statement::trust(Principal::service("cloudformation.amazonaws.com"), &["sts:AssumeRole"])
                    .sid("CloudFormationOnly"),
            ])),
            managed_policy_arns: vec![],
            policies: vec![InlinePolicy {
                policy_name: "deploy-platform-stacks".into(),
                policy_document: exec_permissions(p, deployed),
            }],
            max_session_duration: Some(MAX_SESSION_SECONDS),
            permissions_boundary: None,
        },
    );
    skip_exec_checks(exec);

    t.output(names::outputs::CI_ROLE_ARN, "ARN of the role CI assumes", Expr::att(ROLE, "Arn"));
    t.output(
        names::outputs::CFN_EXEC_ROLE_ARN,
        "ARN of the CloudFormation service role of CI's change sets (acmectl --cfn-role-arn)",
        Expr::att(EXEC_ROLE, "Arn"),
    );
    if let Some(provider) = provider {
        t.output("GithubOidcProviderArn", "IAM OIDC provider of GitHub Actions", provider);
    }
    stack
}

/// The execution role holds the rights to create what the stacks declare, which checkov's
/// checks for a workload's role flag; each skip says why that is the design.
fn skip_exec_checks(exec: &mut Resource) {
    const WHY: &str = "CloudFormation service role: only cloudformation.amazonaws.com may assume it, and only \
        through change sets on the platform's stacks, so it can do only what a reviewed and approved template \
        declares; it needs each used service's management actions";
    for (check, what) in [
        ("CKV_AWS_107", "ec2:* holds GetPasswordData, a Windows-instance call no template makes"),
        ("CKV_AWS_108", "reads of the services it manages come with their management actions"),
        ("CKV_AWS_109", "key, bucket and repository policies are resources the stacks declare"),
        ("CKV_AWS_111", "creating and changing those resources is its purpose"),
    ] {
        exec.skip_checkov(check, &format!("{WHY}; {what}."));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use acme_spec::fixture;
    use serde_json::Value;

    /// The ci stack as synthesis builds it, after the stacks it deploys.
    fn ci(p: &Platform) -> Stack {
        crate::synthesize(p).stacks.into_iter().find(|s| s.name == StackName::Ci).expect("ci stack")
    }

    fn role(s: &Stack) -> &acme_cfn::Resource {
        s.template.resources.get(ROLE).unwrap_or_else(|| panic!("no {ROLE}"))
    }

    fn prop<'a>(s: &'a Stack, path: &str) -> &'a Value {
        role(s).property(path).unwrap_or_else(|| panic!("{ROLE} has no {path}"))
    }

    fn contains(list: &Value, item: &Value) -> bool {
        list.as_array().is_some_and(|l| l.contains(item))
    }

    fn github() -> Platform {
        let mut p = fixture::acme();
        p.ci.provider = CiProvider::Github;
        p
    }

    fn statements(s: &Stack) -> Vec<Value> {
        prop(s, "Policies.0.PolicyDocument.Statement").as_array().cloned().unwrap_or_default()
    }

    fn statement(s: &Stack, sid: &str) -> Value {
        statements(s).into_iter().find(|st| st["Sid"] == sid).unwrap_or_else(|| panic!("no statement {sid}"))
    }

    #[test]
    fn role_name_is_fixed_and_sessions_last_an_hour() {
        let s = ci(&fixture::acme());
        assert_eq!(prop(&s, "RoleName"), "acme-ci");
        assert_eq!(prop(&s, "MaxSessionDuration"), 3600);
        assert_eq!(s.template.outputs["CiRoleArn"].value, Expr::att(ROLE, "Arn"));
    }

    #[test]
    fn github_trust_is_scoped_to_the_exact_repository_and_branch() {
        let s = ci(&github());
        let trust = prop(&s, "AssumeRolePolicyDocument.Statement");
        assert_eq!(trust.as_array().map(Vec::len), Some(1));
        let st = &trust[0];
        assert_eq!(st["Effect"], "Allow");
        assert_eq!(st["Action"], json!(["sts:AssumeRoleWithWebIdentity"]));
        assert_eq!(st["Principal"], json!({ "Federated": { "Ref": OIDC_PROVIDER } }));
        assert_eq!(
            st["Condition"],
            json!({ "StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": "repo:acme/platform:ref:refs/heads/main",
            } })
        );
        let text = serde_json::to_string(&st["Condition"]).unwrap_or_default();
        assert!(!text.contains('*') && !text.contains("StringLike"), "no wildcard in the subject");
    }

    #[test]
    fn github_creates_the_oidc_provider_or_reuses_the_given_one() {
        let s = ci(&github());
        let provider = s.template.resources.get(OIDC_PROVIDER).expect("provider");
        assert_eq!(provider.resource_type, "AWS::IAM::OIDCProvider");
        assert_eq!(provider.property("Url"), Some(&json!("https://token.actions.githubusercontent.com")));
        assert_eq!(provider.property("ClientIdList"), Some(&json!(["sts.amazonaws.com"])));
        assert_eq!(s.template.outputs["GithubOidcProviderArn"].value, Expr::r#ref(OIDC_PROVIDER));

        let existing = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";
        let mut p = github();
        p.ci.github_oidc_provider_arn = Some(existing.into());
        let s = ci(&p);
        assert!(!s.template.resources.contains_key(OIDC_PROVIDER));
        assert_eq!(prop(&s, "AssumeRolePolicyDocument.Statement.0.Principal.Federated"), existing);
        assert_eq!(s.template.outputs["GithubOidcProviderArn"].value, Expr::Lit(existing.into()));
    }

    #[test]
    fn jenkins_trust_names_exactly_the_agent_roles() {
        let mut p = fixture::acme();
        p.ci.jenkins_agent_role_arns.push("arn:aws:iam::111122223333:role/acme-jenkins-eks-agent".into());
        let s = ci(&p);
        let trust = prop(&s, "AssumeRolePolicyDocument.Statement");
        assert_eq!(trust.as_array().map(Vec::len), Some(1));
        assert_eq!(trust[0]["Effect"], "Allow");
        assert_eq!(trust[0]["Action"], json!(["sts:AssumeRole", "sts:TagSession"]));
        assert_eq!(
            trust[0]["Principal"],
            json!({ "AWS": [
                "arn:aws:iam::111122223333:role/acme-jenkins-agent",
                "arn:aws:iam::111122223333:role/acme-jenkins-eks-agent",
            ] })
        );
        assert!(trust[0].get("Condition").is_none());
        assert!(!s.template.resources.contains_key(OIDC_PROVIDER), "no OIDC provider for Jenkins");
        assert!(!s.template.outputs.contains_key("GithubOidcProviderArn"));
    }

    #[test]
    fn nobody_may_assume_the_role_when_acme_yaml_names_no_caller() {
        let mut jenkins = fixture::acme();
        jenkins.ci.jenkins_agent_role_arns.clear();
        let mut github = github();
        github.ci.repository = None;
        for p in [jenkins, github] {
            let s = ci(&p);
            let trust = prop(&s, "AssumeRolePolicyDocument.Statement");
            assert_eq!(trust.as_array().map(Vec::len), Some(1));
            assert_eq!(trust[0]["Effect"], "Deny");
        }
    }

    #[test]
    fn ci_stages_templates_in_the_staging_bucket_alone() {
        let s = ci(&fixture::acme());
        let all = statements(&s);
        let sid = |id: &str| all.iter().find(|st| st["Sid"] == id).unwrap_or_else(|| panic!("no {id}")).clone();
        let bucket = "arn:${AWS::Partition}:s3:::acme-acmectl-staging-${AWS::AccountId}-${AWS::Region}";
        let stage = sid("StageTemplatesInTheStagingBucket");
        assert_eq!(stage["Action"], json!(["s3:GetObject", "s3:PutObject"]));
        assert_eq!(stage["Resource"], json!([{ "Fn::Sub": format!("{bucket}/templates/*") }]));
        let list = sid("FindStagedTemplates");
        assert_eq!(list["Resource"], json!([{ "Fn::Sub": bucket }]));
        assert_eq!(list["Condition"]["StringLike"]["s3:prefix"], "templates/*");
        let kms = sid("EncryptStagedTemplatesThroughS3");
        assert_eq!(kms["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"], "alias/acme/staging");
        // No other S3 right: no delete, no other bucket.
        let s3: Vec<&Value> = all.iter().filter(|st| st["Action"].to_string().contains("\"s3:")).collect();
        assert_eq!(s3.len(), 2, "{s3:?}");
    }

    #[test]
    fn no_action_on_every_resource_except_the_registry_login() {
        for p in [fixture::acme(), github()] {
            let s = ci(&p);
            for st in statements(&s) {
                assert_eq!(st["Effect"], "Allow");
                let everything = contains(&st["Resource"], &json!("*"));
                if everything {
                    // Actions without resource-level scope: the registry login, the zone list,
                    // target health.
                    assert!(
                        [
                            json!(["ecr:GetAuthorizationToken"]),
                            json!(["ec2:DescribeAvailabilityZones"]),
                            json!(["elasticloadbalancing:DescribeTargetHealth"])
                        ]
                        .contains(&st["Action"]),
                        "{st}"
                    );
                }
                for action in st["Action"].as_array().into_iter().flatten() {
                    let action = action.as_str().unwrap_or_default();
                    assert!(!action.contains('*'), "wildcard action {action}");
                }
            }
        }
    }

    #[test]
    fn ecr_rights_cover_only_the_platforms_repositories() {
        let s = ci(&fixture::acme());
        let repos =
            json!([{ "Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/acme/*" }]);
        let push = statement(&s, "EcrPushPlatformRepositories");
        assert_eq!(push["Resource"], repos);
        for action in ECR_PUSH_ACTIONS.iter().chain(&ECR_PULL_ACTIONS) {
            assert!(contains(&push["Action"], &json!(action)), "{action}");
        }
        let read = statement(&s, "EcrReadImagesAndScanFindings");
        assert_eq!(read["Resource"], repos);
        assert!(contains(&read["Action"], &json!("ecr:DescribeImageScanFindings")));
        let eks = statement(&s, "EksDescribePlatformCluster");
        assert_eq!(eks["Action"], json!(["eks:DescribeCluster"]));
        assert_eq!(
            eks["Resource"],
            json!([{ "Fn::Sub": "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/acme" }])
        );
    }

    fn sub_strings(v: &Value) -> Vec<String> {
        v.as_array().into_iter().flatten().filter_map(|r| r["Fn::Sub"].as_str().map(str::to_owned)).collect()
    }

    fn stack_of(arn: &str) -> &str {
        arn.split(":stack/").nth(1).and_then(|r| r.strip_suffix("/*")).unwrap_or_default()
    }

    #[test]
    fn change_sets_run_only_with_the_execution_role_and_never_on_this_stack() {
        let s = ci(&fixture::acme());
        let create = statement(&s, "CloudFormationChangeSetsRunByTheExecutionRole");
        assert_eq!(create["Action"], json!(["cloudformation:CreateChangeSet"]));
        assert_eq!(
            create["Condition"],
            json!({ "StringEquals": { "cloudformation:RoleArn":
                { "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/acme-cfn-exec" } } })
        );
        for sid in ["CloudFormationChangeSetsRunByTheExecutionRole", "CloudFormationExecuteOnPlatformStacks"] {
            let stacks = sub_strings(&statement(&s, sid)["Resource"]);
            assert_eq!(stacks.len(), StackName::ALL.len() - 1, "{sid}");
            assert!(stacks.iter().all(|r| stack_of(r).starts_with("acme-") && !r.contains("acme-ci/")), "{sid}");
            assert!(stacks.iter().any(|r| r.ends_with(":stack/acme-registry/*")));
        }
        // The ci stack can be planned (its change set made and discarded), never executed.
        let plan_ci = statement(&s, "CloudFormationPlanTheCiStackOnly");
        assert_eq!(sub_strings(&plan_ci["Resource"]).iter().map(|r| stack_of(r)).collect::<Vec<_>>(), ["acme-ci"]);
        for st in statements(&s) {
            if contains(&st["Action"], &json!("cloudformation:ExecuteChangeSet")) {
                assert!(!sub_strings(&st["Resource"]).iter().any(|r| stack_of(r) == "acme-ci"), "{st}");
            }
        }
        // Reads cover every stack: the ci stack's outputs feed the registry and the cluster.
        let read = sub_strings(&statement(&s, "CloudFormationReadPlatformStacks")["Resource"]);
        assert_eq!(read.len(), StackName::ALL.len());
        let actions: Vec<String> = statements(&s)
            .iter()
            .flat_map(|st| st["Action"].as_array().cloned().unwrap_or_default())
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        for never in ["cloudformation:DeleteStack", "cloudformation:UpdateStack", "cloudformation:CreateStack"] {
            assert!(!actions.iter().any(|a| a == never), "CI must not {never}");
        }
    }

    #[test]
    fn ci_passes_exactly_the_execution_role_which_only_cloudformation_assumes() {
        let s = ci(&fixture::acme());
        let pass: Vec<Value> =
            statements(&s).into_iter().filter(|st| contains(&st["Action"], &json!("iam:PassRole"))).collect();
        assert_eq!(pass.len(), 1);
        assert_eq!(pass[0]["Action"], json!(["iam:PassRole"]));
        assert_eq!(
            pass[0]["Resource"],
            json!([{ "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/acme-cfn-exec" }])
        );
        let exec = s.template.resources.get(EXEC_ROLE).expect("execution role");
        assert_eq!(exec.property("RoleName"), Some(&json!("acme-cfn-exec")));
        assert_eq!(
            exec.property("AssumeRolePolicyDocument.Statement"),
            Some(&json!([{ "Sid": "CloudFormationOnly", "Effect": "Allow",
                "Principal": { "Service": ["cloudformation.amazonaws.com"] }, "Action": ["sts:AssumeRole"] }]))
        );
        assert_eq!(s.template.outputs["CfnExecRoleArn"].value, Expr::att(EXEC_ROLE, "Arn"));
    }

    fn exec_statements(s: &Stack) -> Vec<Value> {
        let exec = s.template.resources.get(EXEC_ROLE).expect("execution role");
        exec.property("Policies.0.PolicyDocument.Statement").and_then(Value::as_array).cloned().unwrap_or_default()
    }

    fn exec_statement(s: &Stack, sid: &str) -> Value {
        exec_statements(s).into_iter().find(|st| st["Sid"] == sid).unwrap_or_else(|| panic!("no statement {sid}"))
    }

    #[test]
    fn the_execution_role_covers_the_services_of_the_stacks_and_no_other() {
        let s = ci(&fixture::acme());
        let services: Vec<String> = exec_statements(&s)
            .iter()
            .filter(|st| st["Effect"] == "Allow")
            .filter_map(|st| st["Action"][0].as_str().and_then(|a| a.strip_suffix(":*")).map(str::to_owned))
            .collect();
        for expected in ["ec2", "eks", "rds", "kms", "s3", "ecr", "elasticloadbalancing", "wafv2", "secretsmanager"] {
            assert!(services.iter().any(|s| s == expected), "{expected} missing from {services:?}");
        }
        for unused in ["lambda", "iam", "dynamodb", "sts", "organizations", "cloudformation"] {
            assert!(!services.iter().any(|s| s == unused), "{unused} is not used by the stacks");
        }
        // Without a database: no RDS, no secret, no backup.
        let mut no_db = fixture::acme();
        no_db.database = None;
        for svc in &mut no_db.services {
            svc.uses.retain(|u| *u != acme_spec::Use::Database);
        }
        let actions = serde_json::to_string(&exec_statements(&ci(&no_db))).unwrap_or_default();
        for gone in ["rds:*", "secretsmanager:*", "backup:*", "rds.amazonaws.com"] {
            assert!(!actions.contains(gone), "{gone} without a database");
        }
        // Repositories and buckets are the platform's only.
        assert_eq!(
            exec_statement(&s, "ManageEcr")["Resource"],
            json!([{ "Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/acme/*" }])
        );
        assert_eq!(
            exec_statement(&s, "ManageS3")["Resource"],
            json!([{ "Fn::Sub": "arn:${AWS::Partition}:s3:::acme-*" }])
        );
    }

    #[test]
    fn the_execution_role_manages_only_the_platforms_roles_and_never_ci_nor_itself() {
        let s = ci(&fixture::acme());
        let roles = sub_strings(&exec_statement(&s, "ManagePlatformRoles")["Resource"]);
        let names: Vec<&str> = roles.iter().filter_map(|r| r.split(":role/").nth(1)).collect();
        for expected in ["acme-eks-cluster", "acme-eks-node", "acme-svc-*", "acme-backup-*"] {
            assert!(names.contains(&expected), "{expected} missing from {names:?}");
        }
        assert!(!names.iter().any(|n| *n == "acme-ci" || *n == "acme-cfn-exec" || *n == "*" || *n == "acme-*"));
        assert!(!names.contains(&"acme-svc-api"), "service roles are one pattern: a new service needs no ci deploy");
        let attach = exec_statement(&s, "AttachOnlyTheManagedPoliciesTheStacksUse");
        let policies: Vec<String> = attach["Condition"]["ArnEquals"]["iam:PolicyARN"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["Fn::Sub"].as_str().map(str::to_owned))
            .collect();
        assert!(policies.iter().any(|p| p.ends_with("policy/AmazonEKSClusterPolicy")), "{policies:?}");
        assert!(!policies.iter().any(|p| p.contains("AdministratorAccess") || p.contains("IAMFullAccess")));
        let deny = exec_statement(&s, "NeverTheRightsOfCiOrItself");
        assert_eq!(deny["Effect"], "Deny");
        assert_eq!(deny["Action"], json!(["iam:*"]));
        assert_eq!(
            sub_strings(&deny["Resource"]).iter().filter_map(|r| r.split(":role/").nth(1)).collect::<Vec<_>>(),
            ["acme-ci", "acme-cfn-exec"]
        );
        let linked = exec_statement(&s, "ServiceLinkedRolesOfTheServicesUsed");
        assert_eq!(
            linked["Condition"]["StringEquals"]["iam:AWSServiceName"],
            json!([
                "eks.amazonaws.com",
                "elasticloadbalancing.amazonaws.com",
                "rds.amazonaws.com",
                "wafv2.amazonaws.com"
            ])
        );
    }

    #[test]
    fn exec_services_reports_types_it_does_not_know() {
        let (services, uncovered) = exec_services(["AWS::EC2::VPC", "AWS::IAM::Role", "AWS::Lambda::Function"]);
        assert_eq!(services.into_iter().collect::<Vec<_>>(), ["ec2"]);
        assert_eq!(uncovered.into_iter().collect::<Vec<_>>(), ["AWS::Lambda::Function"]);
        // An exact entry adds services but does not by itself cover a namespace it lacks.
        let (services, uncovered) = exec_services(["AWS::EKS::Cluster"]);
        assert_eq!(services.into_iter().collect::<Vec<_>>(), ["ec2", "eks", "kms"]);
        assert!(uncovered.is_empty());
    }
}
