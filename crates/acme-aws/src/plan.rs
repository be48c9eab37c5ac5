//! A whole plan, wave by wave: the stacks of one wave deploy concurrently, and each stack's
//! parameters are filled from the outputs of the stacks it reads from.

use crate::{Deployed, Deployer, Error, template_body};
use acme_synth::{Artifacts, PlanStack, StackName};
use std::collections::{BTreeMap, BTreeSet};
use tokio::task::JoinSet;

/// Which stacks to deploy, and values for parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// The stacks to deploy; `None` means all of the plan. The inputs of a stack whose
    /// upstream is not deployed in this run come from that stack as it is in the account.
    pub only: Option<BTreeSet<StackName>>,
    /// Parameter name → value. A given value wins over the upstream output: it stands in
    /// for stacks that cannot be deployed (an emulator without EKS) or pins a value.
    pub parameters: BTreeMap<String, String>,
}

/// Every deployed stack, in plan order.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub stacks: Vec<Deployed>,
}

impl Report {
    pub fn stack(&self, stack_name: &str) -> Option<&Deployed> {
        self.stacks.iter().find(|d| d.stack_name == stack_name)
    }
}

impl Deployer {
    /// Deploy the requested stacks of `artifacts`, wave by wave. Everything that can be
    /// checked before touching AWS is (unknown stacks, unused values, template sizes). When
    /// a stack fails, the rest of its wave still finishes (CloudFormation would carry on
    /// anyway) and no later wave starts.
    pub async fn deploy(&self, artifacts: &Artifacts, request: &Request) -> Result<Report, Error> {
        let plan = &artifacts.plan;
        let selected: Vec<&PlanStack> = match &request.only {
            None => plan.stacks.iter().collect(),
            Some(only) => {
                if let Some(unknown) = only.iter().find(|n| plan.stack(**n).is_none()) {
                    return Err(Error::UnknownStack(unknown.to_string()));
                }
                plan.stacks.iter().filter(|s| only.contains(&s.name)).collect()
            }
        };
        let mut bodies = BTreeMap::new();
        for s in &selected {
            let stack = artifacts.stack(s.name).ok_or_else(|| Error::UnknownStack(s.name.to_string()))?;
            bodies.insert(s.name, (template_body(&s.stack_name, &stack.template)?, stack));
        }
        if let Some(unused) = request
            .parameters
            .keys()
            .find(|p| !bodies.values().any(|(_, stack)| stack.template.parameters.contains_key(*p)))
        {
            return Err(Error::UnusedParameter(unused.clone()));
        }

        // Outputs by stack: of stacks deployed in this run, and of upstream stacks read
        // from the account.
        let mut outputs: BTreeMap<StackName, Option<BTreeMap<String, String>>> = BTreeMap::new();
        let mut deployed: Vec<Deployed> = vec![];
        for wave in &plan.waves {
            let mut tasks = JoinSet::new();
            for s in selected.iter().filter(|s| wave.contains(&s.name)) {
                let Some((body, stack)) = bodies.get(&s.name) else { continue };
                let parameters = self.parameters(artifacts, s, stack, request, &mut outputs).await?;
                let (deployer, body, stack_name, name) = (self.clone(), body.clone(), s.stack_name.clone(), s.name);
                tasks.spawn(async move { (name, deployer.deploy_stack(&stack_name, &body, &parameters).await) });
            }
            let mut failures = vec![];
            while let Some(joined) = tasks.join_next().await {
                match joined {
                    Ok((name, Ok(d))) => {
                        outputs.insert(name, Some(d.outputs.clone()));
                        deployed.push(d);
                    }
                    Ok((_, Err(e))) => failures.push(e),
                    // A panic in a deploy task is a bug here; carry it on as one.
                    Err(e) => std::panic::resume_unwind(e.into_panic()),
                }
            }
            deployed.sort_by_key(|d| plan.stacks.iter().position(|s| s.stack_name == d.stack_name));
            if !failures.is_empty() {
                return Err(Error::Failed { deployed, failures });
            }
        }
        Ok(Report { stacks: deployed })
    }

    /// The values of every parameter of `stack`: given ones first, then upstream outputs,
    /// then nothing for parameters with a default.
    async fn parameters(
        &self,
        artifacts: &Artifacts,
        plan_stack: &PlanStack,
        stack: &acme_synth::Stack,
        request: &Request,
        outputs: &mut BTreeMap<StackName, Option<BTreeMap<String, String>>>,
    ) -> Result<BTreeMap<String, String>, Error> {
        let mut values = BTreeMap::new();
        for (parameter, declared) in &stack.template.parameters {
            if let Some(value) = request.parameters.get(parameter) {
                values.insert(parameter.clone(), value.clone());
                continue;
            }
            let Some(input) = plan_stack.parameters.iter().find(|i| &i.parameter == parameter) else {
                if declared.default.is_none() {
                    return Err(Error::MissingParameter {
                        stack_name: plan_stack.stack_name.clone(),
                        parameter: parameter.clone(),
                    });
                }
                continue;
            };
            let upstream = artifacts.plan.stack(input.stack);
            let upstream_name = upstream.map_or_else(|| input.stack.to_string(), |u| u.stack_name.clone());
            if !outputs.contains_key(&input.stack) {
                // Not deployed in this run (or not yet: the plan orders it earlier, so it
                // is not selected): read it from the account.
                let live = match upstream {
                    Some(_) => self.describe(&upstream_name).await?.map(|s| s.outputs),
                    None => None,
                };
                outputs.insert(input.stack, live);
            }
            let missing = |why: &str| Error::MissingInput {
                stack_name: plan_stack.stack_name.clone(),
                parameter: parameter.clone(),
                upstream: upstream_name.clone(),
                output: input.output.clone(),
                why: why.to_owned(),
            };
            match outputs.get(&input.stack) {
                Some(Some(out)) => match out.get(&input.output) {
                    Some(value) => {
                        values.insert(parameter.clone(), value.clone());
                    }
                    None => return Err(missing("which has no such output")),
                },
                _ => return Err(missing("which is not deployed")),
            }
        }
        Ok(values)
    }
}
