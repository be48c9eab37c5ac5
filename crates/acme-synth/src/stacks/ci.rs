//! The `ci` stack: the role CI assumes (named [`names::ci_role`], so the registry and the
//! cluster can name it), and for GitHub Actions the account's OIDC provider.
//!
//! **Who may assume it.** GitHub: only workflow runs of the one repository on the one
//! deploying branch (`sub` = `repo:<owner/name>:ref:refs/heads/<branch>`, compared exactly).
//! Pull requests, other branches, tags, and jobs that use a GitHub environment (their `sub`
//! names the environment instead of the branch) do not match. Jenkins: exactly the agents'
//! roles listed in acme.yaml, which must exist before this stack deploys (IAM rejects a trust
//! policy naming a role it does not know). When acme.yaml names no repository or no agent, the
//! trust policy is a single deny: the role exists (the registry names it) but nobody can
//! assume it.
//!
//! **What it may do.** Push to and read the platform's repositories (`<platform>/*`) and their
//! scan findings, describe the platform's cluster (enough for `aws eks get-token`; what CI
//! may do inside the cluster is its EKS access entry, in the cluster stack), and create,
//! inspect, execute and delete change sets of the platform's stacks, never of this one.
//! CloudFormation applies a change set with the rights of whoever executes it, and CI holds
//! no rights on the stacks' resources beyond those above, so CI can propose any change but
//! apply only changes within its rights; infrastructure changes are applied by an operator.
//! `iam:PassRole` covers only the fixed-name roles the stacks hand to EKS (cluster role, node
//! role, service roles), and only to EKS. Sessions last at most one hour.

use crate::stacks::names;
use crate::{Stack, StackName};
use acme_cfn::Expr;
use acme_cfn::resources::iam::{Effect, InlinePolicy, OidcProvider, PolicyDocument, Principal, Role, Statement};
use acme_spec::{CiProvider, Platform};
use serde_json::json;

pub const ROLE: &str = "CiRole";
pub const OIDC_PROVIDER: &str = "GithubOidcProvider";

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

/// The `sub` claim of a GitHub Actions run on `branch` of `repository`.
pub fn github_subject(repository: &str, branch: &str) -> String {
    format!("repo:{repository}:ref:refs/heads/{branch}")
}

fn arn(service: &str, resource: &str) -> Expr {
    Expr::sub(format!("arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"))
}

fn role_arn(name: &str) -> Expr {
    Expr::sub(format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{name}"))
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

/// The platform's CloudFormation stacks CI may change: all but this one, which holds CI's
/// own rights.
fn changeable_stacks(p: &Platform) -> Vec<Expr> {
    StackName::ALL
        .into_iter()
        .filter(|s| *s != StackName::Ci)
        .map(|s| arn("cloudformation", &format!("stack/{}/*", names::stack(&p.name, s))))
        .collect()
}

fn permissions(p: &Platform) -> PolicyDocument {
    let repositories = vec![arn("ecr", &format!("repository/{}", names::repository(p, "*")))];
    let stacks = changeable_stacks(p);
    let mut push: Vec<&str> = ECR_PUSH_ACTIONS.iter().chain(&ECR_PULL_ACTIONS).copied().collect();
    push.sort_unstable();
    PolicyDocument::new(vec![
        // The registry login token is account-wide: the action has no resource-level scope.
        Statement::allow(&["ecr:GetAuthorizationToken"], vec!["*"]).sid("EcrLogin"),
        Statement::allow(&push, repositories.clone()).sid("EcrPushPlatformRepositories"),
        Statement::allow(&ECR_DESCRIBE_ACTIONS, repositories).sid("EcrReadImagesAndScanFindings"),
        Statement::allow(&["eks:DescribeCluster"], vec![arn("eks", &format!("cluster/{}", names::cluster(p)))])
            .sid("EksDescribePlatformCluster"),
        Statement::allow(
            &[
                "cloudformation:DescribeChangeSet",
                "cloudformation:DescribeStackEvents",
                "cloudformation:DescribeStackResources",
                "cloudformation:DescribeStacks",
                "cloudformation:GetTemplate",
                "cloudformation:GetTemplateSummary",
                "cloudformation:ListChangeSets",
            ],
            stacks.clone(),
        )
        .sid("CloudFormationReadPlatformStacks"),
        Statement::allow(
            &["cloudformation:CreateChangeSet", "cloudformation:DeleteChangeSet", "cloudformation:ExecuteChangeSet"],
            stacks,
        )
        .sid("CloudFormationChangeSetsOfPlatformStacks"),
        Statement::allow(
            &["iam:PassRole"],
            vec![
                role_arn(&names::cluster_role(p)),
                role_arn(&names::node_role(p)),
                Expr::sub(names::service_role_pattern(p)),
            ],
        )
        .sid("PassPlatformRolesToEks")
        .condition(
            json!({ "StringEquals": { "iam:PassedToService": ["eks.amazonaws.com", "pods.eks.amazonaws.com"] } }),
        ),
    ])
}

pub fn build(p: &Platform) -> Stack {
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
            policies: vec![InlinePolicy { policy_name: "ci".into(), policy_document: permissions(p) }],
            max_session_duration: Some(MAX_SESSION_SECONDS),
            permissions_boundary: None,
        },
    );

    t.output(names::outputs::CI_ROLE_ARN, "ARN of the role CI assumes", Expr::att(ROLE, "Arn"));
    if let Some(provider) = provider {
        t.output("GithubOidcProviderArn", "IAM OIDC provider of GitHub Actions", provider);
    }
    stack
}

#[cfg(test)]
mod tests {
    use super::*;
    use acme_spec::fixture;
    use serde_json::Value;

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
        let s = build(&fixture::acme());
        assert_eq!(prop(&s, "RoleName"), "acme-ci");
        assert_eq!(prop(&s, "MaxSessionDuration"), 3600);
        assert_eq!(s.template.outputs["CiRoleArn"].value, Expr::att(ROLE, "Arn"));
    }

    #[test]
    fn github_trust_is_scoped_to_the_exact_repository_and_branch() {
        let s = build(&github());
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
        let s = build(&github());
        let provider = s.template.resources.get(OIDC_PROVIDER).expect("provider");
        assert_eq!(provider.resource_type, "AWS::IAM::OIDCProvider");
        assert_eq!(provider.property("Url"), Some(&json!("https://token.actions.githubusercontent.com")));
        assert_eq!(provider.property("ClientIdList"), Some(&json!(["sts.amazonaws.com"])));
        assert_eq!(s.template.outputs["GithubOidcProviderArn"].value, Expr::r#ref(OIDC_PROVIDER));

        let existing = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";
        let mut p = github();
        p.ci.github_oidc_provider_arn = Some(existing.into());
        let s = build(&p);
        assert!(!s.template.resources.contains_key(OIDC_PROVIDER));
        assert_eq!(prop(&s, "AssumeRolePolicyDocument.Statement.0.Principal.Federated"), existing);
        assert_eq!(s.template.outputs["GithubOidcProviderArn"].value, Expr::Lit(existing.into()));
    }

    #[test]
    fn jenkins_trust_names_exactly_the_agent_roles() {
        let mut p = fixture::acme();
        p.ci.jenkins_agent_role_arns.push("arn:aws:iam::111122223333:role/acme-jenkins-eks-agent".into());
        let s = build(&p);
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
            let s = build(&p);
            let trust = prop(&s, "AssumeRolePolicyDocument.Statement");
            assert_eq!(trust.as_array().map(Vec::len), Some(1));
            assert_eq!(trust[0]["Effect"], "Deny");
        }
    }

    #[test]
    fn no_action_on_every_resource_except_the_registry_login() {
        for p in [fixture::acme(), github()] {
            let s = build(&p);
            for st in statements(&s) {
                assert_eq!(st["Effect"], "Allow");
                let everything = contains(&st["Resource"], &json!("*"));
                if everything {
                    assert_eq!(st["Action"], json!(["ecr:GetAuthorizationToken"]), "{st}");
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
        let s = build(&fixture::acme());
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

    #[test]
    fn change_sets_only_on_the_platforms_stacks_and_never_on_this_one() {
        let s = build(&fixture::acme());
        for sid in ["CloudFormationReadPlatformStacks", "CloudFormationChangeSetsOfPlatformStacks"] {
            let resources: Vec<String> = statement(&s, sid)["Resource"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["Fn::Sub"].as_str().map(str::to_owned))
                .collect();
            assert_eq!(resources.len(), StackName::ALL.len() - 1);
            for r in &resources {
                let stack = r.split(":stack/").nth(1).and_then(|r| r.strip_suffix("/*")).unwrap_or_default();
                assert!(stack.starts_with("acme-") && !stack.contains('*'), "{r}");
                assert_ne!(stack, "acme-ci", "CI must not rewrite its own rights");
            }
            assert!(resources.iter().any(|r| r.ends_with(":stack/acme-registry/*")));
        }
    }

    #[test]
    fn pass_role_only_for_the_platforms_eks_roles_and_only_to_eks() {
        let s = build(&fixture::acme());
        let pass: Vec<Value> = statements(&s)
            .into_iter()
            .filter(|st| {
                st["Action"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x.as_str().is_some_and(|x| x.starts_with("iam:"))))
            })
            .collect();
        assert_eq!(pass.len(), 1);
        assert_eq!(pass[0]["Action"], json!(["iam:PassRole"]));
        assert_eq!(
            pass[0]["Resource"],
            json!([
                { "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/acme-eks-cluster" },
                { "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/acme-eks-node" },
                { "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/acme-svc-*" },
            ])
        );
        assert_eq!(
            pass[0]["Condition"]["StringEquals"]["iam:PassedToService"],
            json!(["eks.amazonaws.com", "pods.eks.amazonaws.com"])
        );
    }
}
