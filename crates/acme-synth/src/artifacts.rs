use crate::kubernetes::{self, Manifests, Values};
use crate::pipelines::{self, Pipelines};
use crate::stacks;
use crate::{Plan, Stack};
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
}

/// The whole platform, as a pure function of its description.
pub fn synthesize(platform: &Platform) -> Artifacts {
    let stacks = stacks::build_all(platform);
    let plan = Plan::new(&platform.name, &platform.region, &stacks);
    let kubernetes = kubernetes::manifests(platform, &Values::placeholders());
    let pipelines = pipelines::pipelines(platform);
    Artifacts { stacks, plan, kubernetes, pipelines }
}

impl Artifacts {
    pub fn stack(&self, name: crate::StackName) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// Every CloudFormation quota a stack exceeds, as `<stack> stack: <excess>`: such a
    /// platform cannot deploy, so synthesis reports it instead of writing it.
    pub fn quota_excess(&self) -> Vec<String> {
        self.stacks
            .iter()
            .flat_map(|s| {
                let bytes = acme_cfn::yaml::to_string(&s.template.to_value()).len();
                s.template.quota_excess(bytes).into_iter().map(move |e| format!("{} stack: {e}", s.name))
            })
            .collect()
    }

    /// The stacks whose template is too large to send inline, the only way `acmectl deploy`
    /// sends templates: as `<stack> stack: <bytes>`. They are valid CloudFormation (up to
    /// 1 MB through S3), so synthesis writes them and says so.
    pub fn too_large_to_send_inline(&self) -> Vec<String> {
        self.stacks
            .iter()
            .filter_map(|s| s.template.inline_body().err().map(|too_large| (s.name, too_large)))
            .map(|(name, too_large)| {
                format!(
                    "{name} stack: {} bytes as YAML, {} as compact JSON (the limit is {})",
                    too_large.yaml_bytes,
                    too_large.json_bytes,
                    acme_cfn::quotas::INLINE_TEMPLATE_BYTES
                )
            })
            .collect()
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
