use crate::kubernetes::{self, Manifests, Values};
use crate::pipelines::{self, Pipelines};
use crate::stacks;
use crate::stacks::shards::ShardPlan;
use crate::{Plan, Stack};
use acme_cfn::Template;
use acme_spec::Platform;
use std::collections::BTreeMap;

/// Everything synthesis produces for one platform.
#[derive(Clone, Debug, PartialEq)]
pub struct Artifacts {
    /// Stacks in dependency order: a stack only reads outputs of stacks before it.
    pub stacks: Vec<Stack>,
    pub plan: Plan,
    /// The Kubernetes objects, with deploy-time values as placeholders (`kubernetes::Values`).
    pub kubernetes: Manifests,
    /// The CI/CD pipelines of `ci.provider`, rendered (`pipelines/...`).
    pub pipelines: Pipelines,
    /// Which load balancer carries which hosts, and how full each is.
    pub shards: ShardPlan,
}

/// The whole platform, as a pure function of its description.
pub fn synthesize(platform: &Platform) -> Artifacts {
    let shards = stacks::shards::plan(platform);
    let stacks = stacks::build_all(platform, &shards);
    let plan = Plan::new(&platform.name, &platform.region, &stacks);
    let kubernetes = kubernetes::manifests(platform, &Values::placeholders());
    let pipelines = pipelines::pipelines(platform);
    Artifacts { stacks, plan, kubernetes, pipelines, shards }
}

/// Where a platform's templates meet CloudFormation's limits, each as `<stack> stack: <what>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Every quota a stack exceeds: such a platform cannot deploy, so synthesis reports it
    /// instead of writing it. (What no load balancer can hold is `ShardPlan::excess`.)
    pub quota_excess: Vec<String>,
    /// The stacks too large to send inline: `acmectl deploy` stages them in S3 (up to 1 MB).
    /// They are valid CloudFormation, so synthesis writes them and
    /// says so.
    pub too_large_to_send_inline: Vec<String>,
}

impl Artifacts {
    pub fn stack(&self, name: crate::StackName) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// What CloudFormation's limits say of each stack's template, rendered once for all of
    /// them.
    pub fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        for s in &self.stacks {
            let value = s.template.to_value();
            let yaml = acme_cfn::yaml::to_string(&value);
            let excess = s.template.quota_excess(yaml.len());
            limits.quota_excess.extend(excess.into_iter().map(|e| format!("{} stack: {e}", s.name)));
            if let Err(too_large) = Template::inline_body_of(&value, yaml) {
                limits.too_large_to_send_inline.push(format!(
                    "{} stack: {} bytes as YAML, {} as compact JSON (the limit is {})",
                    s.name,
                    too_large.yaml_bytes,
                    too_large.json_bytes,
                    acme_cfn::quotas::INLINE_TEMPLATE_BYTES
                ));
            }
        }
        limits
    }

    /// [`Limits::quota_excess`] alone.
    pub fn quota_excess(&self) -> Vec<String> {
        self.limits().quota_excess
    }

    /// Output files by path relative to the output folder, rendered.
    pub fn files(&self) -> BTreeMap<String, String> {
        let mut files = BTreeMap::new();
        for s in &self.stacks {
            files.insert(format!("cloudformation/{}.yaml", s.name), acme_cfn::yaml::to_string(&s.template.to_value()));
        }
        files.extend(self.kubernetes.files());
        files.extend(self.pipelines.files.clone());
        let plan = serde_json::to_string_pretty(&self.plan).unwrap_or_else(|e| unreachable!("plan serializes: {e}"));
        files.insert("plan.json".to_owned(), plan + "\n");
        files
    }
}
