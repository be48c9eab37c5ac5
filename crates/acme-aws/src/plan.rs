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

/// Where a parameter's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    Value(String),
    /// An output of a stack deployed earlier in this run.
    Output {
        stack: StackName,
        output: String,
    },
}

/// A selected stack, ready to go but for outputs of this run.
struct Pending<'a> {
    plan: &'a PlanStack,
    body: String,
    parameters: BTreeMap<String, Source>,
}

impl Deployer {
    /// Deploy the requested stacks of `artifacts`, wave by wave. Everything that can be
    /// checked before touching a stack is checked first: unknown stacks, unused values,
    /// template sizes, and inputs from stacks outside the run (read from the account). When
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
        let names: BTreeSet<StackName> = selected.iter().map(|s| s.name).collect();

        let mut pending: Vec<Pending> = vec![];
        let mut live: BTreeMap<StackName, Option<BTreeMap<String, String>>> = BTreeMap::new();
        for s in &selected {
            let stack = artifacts.stack(s.name).ok_or_else(|| Error::UnknownStack(s.name.to_string()))?;
            let body = template_body(&s.stack_name, &stack.template)?;
            let parameters = self.sources(artifacts, s, stack, request, &names, &mut live).await?;
            pending.push(Pending { plan: s, body, parameters });
        }
        if let Some(unused) = request.parameters.keys().find(|p| !pending.iter().any(|s| s.parameters.contains_key(*p)))
        {
            return Err(Error::UnusedParameter(unused.clone()));
        }

        let mut outputs: BTreeMap<StackName, BTreeMap<String, String>> = BTreeMap::new();
        let mut deployed: Vec<Deployed> = vec![];
        for wave in &plan.waves {
            let mut ready = vec![];
            for s in pending.iter().filter(|s| wave.contains(&s.plan.name)) {
                match values(s, &outputs, plan) {
                    Ok(values) => ready.push((s, values)),
                    Err(e) => return Err(Error::Failed { deployed, failures: vec![e] }),
                }
            }
            let mut tasks = JoinSet::new();
            for (s, values) in ready {
                let (deployer, body, stack_name, name) =
                    (self.clone(), s.body.clone(), s.plan.stack_name.clone(), s.plan.name);
                tasks.spawn(async move { (name, deployer.deploy_stack(&stack_name, &body, &values).await) });
            }
            let mut failures = vec![];
            while let Some(joined) = tasks.join_next().await {
                match joined {
                    Ok((name, Ok(d))) => {
                        outputs.insert(name, d.outputs.clone());
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

    /// Where each parameter of `stack` gets its value: a given value, an output of a stack
    /// deployed in this run, or an output of a stack outside the run, read now from the
    /// account (`live` caches those). Parameters with a default and no source are left out.
    async fn sources(
        &self,
        artifacts: &Artifacts,
        plan_stack: &PlanStack,
        stack: &acme_synth::Stack,
        request: &Request,
        selected: &BTreeSet<StackName>,
        live: &mut BTreeMap<StackName, Option<BTreeMap<String, String>>>,
    ) -> Result<BTreeMap<String, Source>, Error> {
        let mut sources = BTreeMap::new();
        for (parameter, declared) in &stack.template.parameters {
            if let Some(value) = request.parameters.get(parameter) {
                sources.insert(parameter.clone(), Source::Value(value.clone()));
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
            if selected.contains(&input.stack) {
                sources.insert(parameter.clone(), Source::Output { stack: input.stack, output: input.output.clone() });
                continue;
            }
            let upstream = upstream_name(artifacts, input.stack);
            if let std::collections::btree_map::Entry::Vacant(entry) = live.entry(input.stack) {
                let state = match artifacts.plan.stack(input.stack) {
                    Some(_) => self.describe(&upstream).await?,
                    None => None,
                };
                entry.insert(state.map(|s| s.outputs));
            }
            let missing = |why: &str| Error::MissingInput {
                stack_name: plan_stack.stack_name.clone(),
                parameter: parameter.clone(),
                upstream: upstream.clone(),
                output: input.output.clone(),
                why: why.to_owned(),
            };
            let value = match live.get(&input.stack) {
                Some(Some(outputs)) => outputs.get(&input.output).ok_or_else(|| missing("which has no such output"))?,
                _ => return Err(missing("which is not deployed")),
            };
            sources.insert(parameter.clone(), Source::Value(value.clone()));
        }
        Ok(sources)
    }
}

/// The parameter values of a pending stack, now that its upstream stacks have deployed.
fn values(
    pending: &Pending,
    outputs: &BTreeMap<StackName, BTreeMap<String, String>>,
    plan: &acme_synth::Plan,
) -> Result<BTreeMap<String, String>, Error> {
    pending
        .parameters
        .iter()
        .map(|(parameter, source)| match source {
            Source::Value(v) => Ok((parameter.clone(), v.clone())),
            Source::Output { stack, output } => {
                outputs.get(stack).and_then(|o| o.get(output)).map(|v| (parameter.clone(), v.clone())).ok_or_else(
                    || Error::MissingInput {
                        stack_name: pending.plan.stack_name.clone(),
                        parameter: parameter.clone(),
                        upstream: plan.stack(*stack).map_or_else(|| stack.to_string(), |s| s.stack_name.clone()),
                        output: output.clone(),
                        why: "which deployed without it".into(),
                    },
                )
            }
        })
        .collect()
}

fn upstream_name(artifacts: &Artifacts, stack: StackName) -> String {
    artifacts.plan.stack(stack).map_or_else(|| format!("{}-{stack}", artifacts.plan.platform), |s| s.stack_name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending<'a>(plan: &'a PlanStack, parameters: &[(&str, Source)]) -> Pending<'a> {
        Pending {
            plan,
            body: String::new(),
            parameters: parameters.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
        }
    }

    /// A deployer whose every AWS call would fail: these tests must not make one.
    fn offline_deployer() -> Deployer {
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .build();
        Deployer::new(&sdk)
    }

    #[tokio::test]
    async fn unknown_stacks_and_unused_values_are_refused_before_any_call() {
        let mut platform = acme_spec::fixture::acme();
        platform.database = None;
        let artifacts = acme_synth::synthesize(&platform);
        let deployer = offline_deployer();

        let only_data = Request { only: Some(BTreeSet::from([StackName::Data])), ..Default::default() };
        let err = deployer.deploy(&artifacts, &only_data).await.expect_err("no data stack without a database");
        assert!(matches!(err, Error::UnknownStack(ref s) if s == "data"), "{err}");

        let typo = Request {
            only: Some(BTreeSet::from([StackName::Keys])),
            parameters: BTreeMap::from([("VpcID".to_owned(), "vpc-1".to_owned())]),
        };
        let err = deployer.deploy(&artifacts, &typo).await.expect_err("keys takes no VpcID");
        assert!(matches!(err, Error::UnusedParameter(ref p) if p == "VpcID"), "{err}");
    }

    #[test]
    fn outputs_of_this_run_fill_parameters_and_a_missing_one_names_its_stack() {
        let artifacts = acme_synth::synthesize(&acme_spec::fixture::acme());
        let plan = &artifacts.plan;
        let edge = plan.stack(StackName::Edge).expect("edge in plan");
        let p = pending(
            edge,
            &[
                ("VpcId", Source::Output { stack: StackName::Network, output: "VpcId".into() }),
                ("ClusterSecurityGroupId", Source::Value("sg-123".into())),
            ],
        );
        let mut outputs = BTreeMap::new();
        outputs.insert(StackName::Network, BTreeMap::from([("VpcId".to_owned(), "vpc-1".to_owned())]));
        let values = values(&p, &outputs, plan).expect("all there");
        assert_eq!(values["VpcId"], "vpc-1");
        assert_eq!(values["ClusterSecurityGroupId"], "sg-123");

        outputs.clear();
        let err = super::values(&p, &outputs, plan).expect_err("network has no outputs");
        assert_eq!(
            err.to_string(),
            "acme-edge: parameter VpcId takes output VpcId of the acme-network stack, which deployed without it\n\
             help: deploy acme-network first, or give VpcId a value"
        );
    }
}
