use crate::{Stack, StackName};
use serde::Serialize;

/// How to deploy the stacks: their order and where each parameter comes from.
/// Written as `plan.json`; the deploy engine reads nothing else to wire stacks together.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    pub platform: String,
    pub region: String,
    pub stacks: Vec<PlanStack>,
    /// Stacks grouped into waves: every stack's dependencies are in earlier waves, so the
    /// stacks of one wave can deploy in parallel.
    pub waves: Vec<Vec<StackName>>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanStack {
    pub name: StackName,
    /// CloudFormation stack name in the account, `<platform>-<stack>`.
    pub stack_name: String,
    pub template: String,
    pub depends_on: Vec<StackName>,
    pub parameters: Vec<PlanInput>,
    /// Parameters that hold the stack's own state: deployed with the value the stack has.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanInput {
    pub parameter: String,
    pub stack: StackName,
    pub output: String,
}

impl Plan {
    pub fn new(platform: &str, region: &str, stacks: &[Stack]) -> Plan {
        let plan_stacks = stacks
            .iter()
            .map(|s| PlanStack {
                name: s.name,
                stack_name: crate::stacks::names::stack(platform, s.name),
                template: format!("cloudformation/{}.yaml", s.name),
                depends_on: s.depends_on(),
                parameters: s
                    .inputs
                    .iter()
                    .map(|i| PlanInput { parameter: i.parameter.clone(), stack: i.from, output: i.output.clone() })
                    .collect(),
                kept: s.kept.clone(),
            })
            .collect::<Vec<_>>();
        let waves = waves(&plan_stacks);
        Plan { platform: platform.to_owned(), region: region.to_owned(), stacks: plan_stacks, waves }
    }

    pub fn stack(&self, name: StackName) -> Option<&PlanStack> {
        self.stacks.iter().find(|s| s.name == name)
    }
}

/// Longest-path layering. Stacks are built in [`StackName::ALL`] order and may only import
/// from stacks built before them, so the graph is acyclic by construction; a dependency on
/// a stack that is not synthesized is a bug, caught by the tests.
fn waves(stacks: &[PlanStack]) -> Vec<Vec<StackName>> {
    let mut level: Vec<(StackName, usize)> = Vec::with_capacity(stacks.len());
    for s in stacks {
        let l = s
            .depends_on
            .iter()
            .filter_map(|d| level.iter().find(|(n, _)| n == d).map(|(_, l)| l + 1))
            .max()
            .unwrap_or(0);
        level.push((s.name, l));
    }
    let depth = level.iter().map(|(_, l)| l + 1).max().unwrap_or(0);
    (0..depth).map(|d| level.iter().filter(|(_, l)| *l == d).map(|(n, _)| *n).collect()).collect()
}
