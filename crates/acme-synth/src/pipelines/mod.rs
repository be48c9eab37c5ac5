//! The CI/CD pipelines of the platform, for the CI system acme.yaml names (`ci.provider`):
//! GitHub Actions workflows ([`github`]) or declarative Jenkinsfiles ([`jenkins`]). Pure, like
//! the stacks: the same platform gives the same files, byte for byte.
//!
//! Files (`out/pipelines/`):
//!
//! - GitHub: `github/workflows/<platform>-<service>.yml`, one per microservice, and
//!   `github/workflows/<platform>-platform.yml`; copy them to `.github/workflows/`.
//! - Jenkins: `jenkins/<service>/Jenkinsfile` and `jenkins/platform/Jenkinsfile`; one
//!   multibranch job each, its script path pointing at the file.
//!
//! **A microservice's pipeline** runs on commits that touch its `source.path` (or its
//! Dockerfile): its test command, then the image build, on every branch and pull request. On
//! the deploying branch (`ci.branch`) it then pushes the image to the service's ECR repository
//! (URI from the registry stack's output) tagged with the commit, waits for ECR's scan and
//! stops on findings at or above `ci.fail_on`, asks for approval when `ci.approval` is set,
//! and deploys that one service: `acmectl deploy --service NAME --image NAME=COMMIT --yes`.
//!
//! **The platform's pipeline** runs on commits that touch acme.yaml: `acmectl check` on
//! every branch, then on the deploying branch `acmectl plan`, and when the plan has changes an
//! approval (always) and `acmectl deploy --yes`. Plan and deploy run their change sets with
//! the ci stack's CloudFormation service role ([`CFN_ROLE_FLAG`]).
//!
//! **Credentials** are never stored: GitHub jobs get the CI role through OIDC
//! (`aws-actions/configure-aws-credentials`); Jenkins agents assume it with their own role
//! (instance profile on EC2, pod identity on EKS). The shell steps are shared by both
//! ([`script`]) and held to shellcheck by the tests.

pub mod github;
pub mod jenkins;
pub mod script;

use crate::StackName;
use crate::stacks::names;
use acme_spec::{CiProvider, Platform, Service};
use std::collections::BTreeMap;

/// acmectl's flag naming the CloudFormation service role of `plan` and `deploy`.
pub const CFN_ROLE_FLAG: &str = "--cfn-role-arn";

/// The version of acmectl that wrote the pipelines; the GitHub workflows build this tag.
pub const ACMECTL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The pipeline files, by path relative to the output folder (`pipelines/...`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pipelines {
    pub files: BTreeMap<String, String>,
}

/// The pipelines of the provider acme.yaml names.
pub fn pipelines(p: &Platform) -> Pipelines {
    let files = match p.ci.provider {
        CiProvider::Github => github::workflows(p),
        CiProvider::Jenkins => jenkins::jenkinsfiles(p),
    };
    Pipelines { files }
}

/// The ARN partition of the platform's Region.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The ARN of a role of the platform's account; `account` is the id, or how the CI system
/// spells the variable that holds it (`${{ vars.AWS_ACCOUNT_ID }}`).
pub fn role_arn(p: &Platform, account: &str, role: &str) -> String {
    format!("arn:{}:iam::{account}:role/{role}", partition(&p.region))
}

/// What a microservice's pipeline works with.
pub struct ServicePipeline<'a> {
    pub service: &'a Service,
    /// ECR repository name, `<platform>/<service>`.
    pub repository: String,
    /// CloudFormation stack whose output holds the repository URI.
    pub registry_stack: String,
    pub repository_uri_output: String,
    /// Path filters (repository-relative globs) that start the pipeline.
    pub paths: Vec<String>,
}

impl<'a> ServicePipeline<'a> {
    pub fn new(p: &Platform, service: &'a Service) -> Self {
        let source = &service.source;
        let mut paths = vec![format!("{}/**", source.path)];
        if !source.dockerfile.starts_with(&format!("{}/", source.path)) {
            paths.push(source.dockerfile.clone());
        }
        ServicePipeline {
            service,
            repository: names::repository(p, &service.name),
            registry_stack: names::stack(&p.name, StackName::Registry),
            repository_uri_output: names::repository_output(&service.name),
            paths,
        }
    }

    /// Environment every step of the pipeline sees, in order; the shared scripts read it.
    pub fn env(&self, p: &Platform) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_REGION", p.region.clone()),
            ("PLATFORM_FILE", p.ci.platform_file.clone()),
            ("SERVICE", self.service.name.clone()),
            ("SOURCE_PATH", self.service.source.path.clone()),
            ("DOCKERFILE", self.service.source.dockerfile.clone()),
            ("REPOSITORY", self.repository.clone()),
            ("REGISTRY_STACK", self.registry_stack.clone()),
            ("REPOSITORY_URI_OUTPUT", self.repository_uri_output.clone()),
            ("LOCAL_IMAGE", format!("{}-{}:build", p.name, self.service.name)),
        ]
    }
}

/// Environment of the platform's pipeline (besides credentials).
pub fn platform_env(p: &Platform) -> Vec<(&'static str, String)> {
    vec![("AWS_REGION", p.region.clone()), ("PLATFORM_FILE", p.ci.platform_file.clone())]
}

/// Names of the two roles, for the pipelines to build ARNs from.
pub fn roles(p: &Platform) -> (String, String) {
    (names::ci_role(p), names::cfn_exec_role(p))
}

/// Every service's pipeline, in acme.yaml order.
pub fn services(p: &Platform) -> Vec<ServicePipeline<'_>> {
    p.services.iter().map(|s| ServicePipeline::new(p, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use acme_spec::fixture;

    #[test]
    fn only_the_provider_acme_yaml_names_gets_pipelines() {
        let mut p = fixture::acme();
        let jenkins = pipelines(&p).files;
        assert!(!jenkins.is_empty() && jenkins.keys().all(|k| k.starts_with("pipelines/jenkins/")));
        p.ci.provider = CiProvider::Github;
        let github = pipelines(&p).files;
        assert!(!github.is_empty() && github.keys().all(|k| k.starts_with("pipelines/github/workflows/")));
        // They are part of what synth writes.
        let files = crate::synthesize(&p).files();
        assert!(github.keys().all(|k| files.contains_key(k)));
    }

    #[test]
    fn role_arns_follow_the_regions_partition() {
        let mut p = fixture::acme();
        assert_eq!(role_arn(&p, "111122223333", "acme-ci"), "arn:aws:iam::111122223333:role/acme-ci");
        p.region = "us-gov-west-1".into();
        assert_eq!(role_arn(&p, "111122223333", "acme-ci"), "arn:aws-us-gov:iam::111122223333:role/acme-ci");
        assert_eq!(roles(&p), ("acme-ci".to_owned(), "acme-cfn-exec".to_owned()));
    }

    #[test]
    fn a_dockerfile_outside_the_source_folder_also_starts_the_pipeline() {
        let mut p = fixture::acme();
        assert_eq!(ServicePipeline::new(&p, &p.services[0]).paths, ["services/web/**"]);
        p.services[0].source.dockerfile = "build/web.Dockerfile".into();
        assert_eq!(ServicePipeline::new(&p, &p.services[0]).paths, ["services/web/**", "build/web.Dockerfile"]);
    }
}
