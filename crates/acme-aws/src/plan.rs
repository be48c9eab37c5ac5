//! The change plan: what a deploy would do to every stack, read from the account through
//! change sets before anything changes.
//!
//! Each stack's change set is made with the parameter values it would get now: given values,
//! else the outputs of its upstream stacks as they are in the account. The change sets are
//! made concurrently (they depend on the account, not on each other) and are kept: a deploy
//! executes exactly the change sets it showed, unless an upstream stack's outputs change on
//! the way (then it makes that stack's change set again and guards it again, saying so).
//! `acmectl plan` discards them ([`ChangePlan::discard`]).
//!
//! A stack that does not exist yet and whose inputs come from stacks not created yet shows
//! every resource of its template as an addition; its change set is made when its inputs are
//! known, during the deploy.

use crate::changes::judge_replacements;
use crate::guard::{self, Allowances, Danger};
use crate::stack::{ChangeSetKind, Prepared, Review, not_updatable};
use crate::template::{Body, body};
use crate::{Change, ChangeSet, Deployer, Error, StackState};
use acme_synth::stacks::names;
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
    /// The CloudFormation service role every change set runs with (`RoleARN`), as CI's role
    /// may only pass it. The ci stack, which holds that role, never takes it.
    pub role_arn: Option<String>,
}

/// What a deploy would do, stack by stack, in plan order.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangePlan {
    pub platform: String,
    pub stacks: Vec<StackPlan>,
}

/// What happens to a stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackAction {
    Create,
    Update,
    /// Its creation failed and rolled back (`ROLLBACK_COMPLETE`): it is deleted and created
    /// again. Retained resources of the failed attempt stay in the account.
    Recreate,
    Unchanged,
}

impl StackAction {
    pub fn as_str(self) -> &'static str {
        match self {
            StackAction::Create => "create",
            StackAction::Update => "update",
            StackAction::Recreate => "recreate",
            StackAction::Unchanged => "unchanged",
        }
    }
}

/// One stack of a [`ChangePlan`].
#[derive(Clone, Debug, PartialEq)]
pub struct StackPlan {
    pub stack: StackName,
    pub stack_name: String,
    /// Its status in the account before the deploy; `None` when it does not exist.
    pub status: Option<String>,
    pub action: StackAction,
    pub changes: Vec<Change>,
    /// The reviewed change set, ready to execute.
    pub change_set: Option<ChangeSet>,
    /// Why there is no change set yet: its inputs come from stacks this deploy creates
    /// first. The changes shown are then the template's resources, all added.
    pub deferred: Option<String>,
    /// Stacks of this run it takes outputs from.
    pub depends_on: Vec<StackName>,
    /// The values the change set was made with.
    pub(crate) values: BTreeMap<String, String>,
    pub(crate) sources: BTreeMap<String, Source>,
    pub(crate) body: Body,
    /// The service role its change sets run with.
    pub(crate) role_arn: Option<String>,
}

impl StackPlan {
    /// Whether the deploy would change the stack.
    pub fn has_changes(&self) -> bool {
        self.action != StackAction::Unchanged
    }

    /// The value parameter `name` is deployed with.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

impl ChangePlan {
    pub fn stack(&self, stack_name: &str) -> Option<&StackPlan> {
        self.stacks.iter().find(|s| s.stack_name == stack_name)
    }

    pub fn has_changes(&self) -> bool {
        self.stacks.iter().any(StackPlan::has_changes)
    }

    /// Every change that would replace or remove a resource holding data.
    pub fn dangers(&self, allowances: &Allowances) -> Vec<Danger> {
        self.stacks.iter().flat_map(|s| guard::dangers(s.stack, &s.stack_name, &s.changes, allowances)).collect()
    }

    /// Delete the change sets of the plan (and the empty stacks that `CREATE` change sets
    /// made), for a plan that will not be deployed. Every one is tried; the first error is
    /// returned.
    pub async fn discard(&self, deployer: &Deployer) -> Result<(), Error> {
        let mut first = None;
        for s in &self.stacks {
            if let Some(cs) = &s.change_set
                && let Err(e) = deployer.discard(cs).await
            {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// Where a parameter's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Value(String),
    /// An output of a stack of this run; `now` is its value in the account, if it has one.
    Output {
        stack: StackName,
        output: String,
        now: Option<String>,
    },
}

impl Deployer {
    /// Read what a deploy of `request` would change: a change set per stack (see the module
    /// doc). Everything that can be checked without the account is checked first: unknown
    /// stacks, unused values, template sizes; then every stack's state, waiting for stacks
    /// that are busy.
    pub async fn plan(&self, artifacts: &Artifacts, request: &Request) -> Result<ChangePlan, Error> {
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
        let mut bodies = BTreeMap::new();
        for s in &selected {
            let stack = artifacts.stack(s.name).ok_or_else(|| Error::UnknownStack(s.name.to_string()))?;
            bodies.insert(s.name, body(&s.stack_name, &stack.template)?);
        }
        for given in request.parameters.keys() {
            let used = selected
                .iter()
                .any(|s| artifacts.stack(s.name).is_some_and(|st| st.template.parameters.contains_key(given)));
            if !used {
                return Err(Error::UnusedParameter(given.clone()));
            }
        }

        // Every stack of the platform as it is now (upstream outputs, and the selected stacks'
        // states), read concurrently; busy stacks are waited for.
        let mut reads = JoinSet::new();
        for s in &plan.stacks {
            let (deployer, name, stack_name) = (self.clone(), s.name, s.stack_name.clone());
            let wait = names.contains(&name);
            reads.spawn(async move {
                let state = if wait {
                    deployer.settled(&stack_name, Review::Settled, None).await
                } else {
                    deployer.describe(&stack_name).await
                };
                (name, state)
            });
        }
        let mut live: BTreeMap<StackName, Option<StackState>> = BTreeMap::new();
        while let Some(joined) = reads.join_next().await {
            let (name, state) = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            live.insert(name, state?);
        }

        // Templates over the inline limit go through the keys stack's staging bucket: now,
        // when it exists; else once the keys stack, deployed first in the same run, made it.
        let bucket = live
            .get(&StackName::Keys)
            .and_then(Option::as_ref)
            .and_then(|k| k.outputs.get(names::outputs::STAGING_BUCKET_NAME))
            .cloned();
        for s in &selected {
            let Some(Body::ToStage(json)) = bodies.get(&s.name).cloned() else { continue };
            match &bucket {
                Some(bucket) => {
                    bodies.insert(s.name, Body::Ready(self.stage(&s.stack_name, bucket, &json).await?));
                }
                None if !names.contains(&StackName::Keys) => {
                    return Err(Error::NoStagingBucket { stack_name: s.stack_name.clone() });
                }
                None => {}
            }
        }

        let mut prepared = JoinSet::new();
        for s in &selected {
            let stack = artifacts.stack(s.name).ok_or_else(|| Error::UnknownStack(s.name.to_string()))?;
            let sources = sources(artifacts, s, stack, request, &names, &live)?;
            let state = live.get(&s.name).cloned().flatten();
            let (deployer, plan_stack, template, body) =
                (self.clone(), (*s).clone(), stack.template.clone(), bodies[&s.name].clone());
            let role_arn = request.role_arn.clone().filter(|_| s.name != StackName::Ci);
            prepared
                .spawn(async move { deployer.plan_stack(plan_stack, template, body, sources, state, role_arn).await });
        }
        let mut stacks = vec![];
        let mut failures = vec![];
        while let Some(joined) = prepared.join_next().await {
            match joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())) {
                Ok(s) => stacks.push(s),
                Err(e) => failures.push(e),
            }
        }
        if !failures.is_empty() {
            // Nothing may be left behind by a plan that cannot be shown.
            let partial = ChangePlan { platform: plan.platform.clone(), stacks };
            let _ = partial.discard(self).await;
            return Err(if failures.len() == 1 {
                failures.remove(0)
            } else {
                Error::Failed { deployed: vec![], failures, skipped: vec![] }
            });
        }
        stacks.sort_by_key(|s| plan.stacks.iter().position(|p| p.name == s.stack));
        Ok(ChangePlan { platform: plan.platform.clone(), stacks })
    }

    /// One stack's part of the plan, from its state in the account.
    async fn plan_stack(
        &self,
        plan_stack: PlanStack,
        template: acme_cfn::Template,
        body: Body,
        sources: BTreeMap<String, Source>,
        state: Option<StackState>,
        role_arn: Option<String>,
    ) -> Result<StackPlan, Error> {
        let stack_name = plan_stack.stack_name.clone();
        let status = state.as_ref().map(|s| s.status.clone());
        let action = match &state {
            None => StackAction::Create,
            Some(s) => self.action_for(&stack_name, s).await?,
        };
        let known: Option<BTreeMap<String, String>> = sources
            .iter()
            .map(|(p, source)| match source {
                Source::Value(v) | Source::Output { now: Some(v), .. } => Some((p.clone(), v.clone())),
                Source::Output { now: None, .. } => None,
            })
            .collect();
        let mut depends_on: Vec<StackName> = plan_stack
            .depends_on
            .iter()
            .copied()
            .filter(|d| sources.values().any(|s| matches!(s, Source::Output { stack, .. } if stack == d)))
            .collect();
        let to_stage = matches!(body, Body::ToStage(_));
        if to_stage && !depends_on.contains(&StackName::Keys) {
            depends_on.push(StackName::Keys);
        }
        let mut plan = StackPlan {
            stack: plan_stack.name,
            stack_name: stack_name.clone(),
            status,
            action,
            changes: vec![],
            change_set: None,
            deferred: None,
            depends_on,
            values: BTreeMap::new(),
            sources,
            body,
            role_arn,
        };
        let all_added = || -> Vec<Change> {
            template
                .resources
                .iter()
                .map(|(id, r)| Change {
                    action: "Add".into(),
                    logical_id: id.clone(),
                    resource_type: r.resource_type.to_owned(),
                    physical_id: None,
                    replacement: None,
                    causes: vec![],
                    holds_data: false,
                })
                .collect()
        };
        match (action, known) {
            (_, _) if to_stage => {
                if action != StackAction::Update {
                    plan.changes = all_added();
                }
                plan.deferred =
                    Some("its template goes through the staging bucket, which the keys stack creates first".into());
            }
            (StackAction::Recreate, _) => {
                plan.changes = all_added();
                plan.deferred = Some("it is deleted first, then created through a new change set".into());
            }
            (_, None) => {
                let waits: BTreeSet<String> = plan
                    .sources
                    .values()
                    .filter_map(|s| match s {
                        Source::Output { stack, now: None, .. } => Some(stack.to_string()),
                        _ => None,
                    })
                    .collect();
                let waits = waits.into_iter().collect::<Vec<_>>().join(", ");
                if action == StackAction::Create {
                    plan.changes = all_added();
                    plan.deferred = Some(format!("its inputs come from {waits}, deployed first"));
                } else {
                    plan.deferred = Some(format!("its inputs come from {waits}; changes are known once it deploys"));
                }
            }
            (_, Some(values)) => {
                // prepare_as reads the stack again instead of taking `state`, on purpose: a stack
                // seen in REVIEW_IN_PROGRESS may be an interrupted deploy's execution just starting,
                // which prepare_as tells from one never executed by its change sets, and waits for.
                let Body::Ready(source) = &plan.body else { unreachable!("a template to stage is deferred above") };
                let prepared = self.prepare_as(&stack_name, source, &values, plan.role_arn.as_deref()).await?;
                plan.values = values;
                match prepared {
                    Prepared::NoChanges => plan.action = StackAction::Unchanged,
                    Prepared::Ready(mut cs) => {
                        self.review(&mut cs, &template).await?;
                        plan.changes = cs.changes.clone();
                        plan.change_set = Some(cs);
                    }
                }
            }
        }
        guard::mark(&mut plan.changes, Some(&template), None);
        if let Some(cs) = &mut plan.change_set {
            cs.changes.clone_from(&plan.changes);
        }
        Ok(plan)
    }

    /// What to do with a stack in the state `state`: every status CloudFormation documents is
    /// either handled or refused with the way out.
    async fn action_for(&self, stack_name: &str, state: &StackState) -> Result<StackAction, Error> {
        match state.status.as_str() {
            "REVIEW_IN_PROGRESS" => Ok(StackAction::Create),
            "ROLLBACK_COMPLETE" => Ok(StackAction::Recreate),
            "CREATE_COMPLETE"
            | "UPDATE_COMPLETE"
            | "UPDATE_ROLLBACK_COMPLETE"
            | "IMPORT_COMPLETE"
            | "IMPORT_ROLLBACK_COMPLETE" => Ok(StackAction::Update),
            "UPDATE_ROLLBACK_FAILED" => {
                let failed: Vec<_> =
                    self.resources(stack_name).await?.into_iter().filter(|r| r.status.ends_with("_FAILED")).collect();
                Err(Error::UpdateRollbackFailed {
                    stack_name: stack_name.to_owned(),
                    region: self.region.clone(),
                    failed: failed
                        .iter()
                        .map(|r| {
                            let reason = r.reason.as_deref().unwrap_or("no reason given");
                            format!("{} ({}): {reason}", r.logical_id, r.resource_type)
                        })
                        .collect(),
                    skip: failed.into_iter().map(|r| r.logical_id).collect(),
                })
            }
            status => match not_updatable(status) {
                Some(help) => {
                    Err(Error::NotUpdatable { stack_name: stack_name.to_owned(), status: status.to_owned(), help })
                }
                None => Err(Error::UnexpectedState {
                    stack_name: stack_name.to_owned(),
                    status: status.to_owned(),
                    reason: state.reason.clone(),
                }),
            },
        }
    }

    /// Complete a fresh change set for review: replacements the account did not judge (for
    /// the stateful types), which resources hold data, which new public zones to watch.
    pub(crate) async fn review(&self, cs: &mut ChangeSet, template: &acme_cfn::Template) -> Result<(), Error> {
        let needs_deployed = cs.kind == ChangeSetKind::Update
            && cs.changes.iter().any(|c| c.action == "Remove" || (c.action == "Modify" && c.replacement.is_none()));
        let deployed = if needs_deployed { Some(self.deployed_template(&cs.stack_name).await?) } else { None };
        if let Some(deployed) = &deployed {
            judge_replacements(&mut cs.changes, deployed, &template.to_value());
        }
        guard::mark(&mut cs.changes, Some(template), deployed.as_ref());
        cs.new_public_zones = cs
            .changes
            .iter()
            .filter(|c| c.action == "Add" && c.resource_type == "AWS::Route53::HostedZone")
            .filter(|c| template.resources.get(&c.logical_id).is_some_and(|r| r.property("VPCs").is_none()))
            .map(|c| c.logical_id.clone())
            .collect();
        Ok(())
    }
}

/// Where each parameter of `stack` gets its value: a given value, an output of a stack of
/// this run, or an output of a stack outside the run as it is in the account. Parameters
/// with a default and no source are left out.
fn sources(
    artifacts: &Artifacts,
    plan_stack: &PlanStack,
    stack: &acme_synth::Stack,
    request: &Request,
    selected: &BTreeSet<StackName>,
    live: &BTreeMap<StackName, Option<StackState>>,
) -> Result<BTreeMap<String, Source>, Error> {
    let mut sources = BTreeMap::new();
    for (parameter, declared) in &stack.template.parameters {
        if let Some(value) = request.parameters.get(parameter) {
            sources.insert(parameter.clone(), Source::Value(value.clone()));
            continue;
        }
        if plan_stack.kept.contains(parameter) {
            // The stack's own state: deployed as it is (CloudFormation would reset a parameter
            // left out to its default), the default only on creation.
            let deployed =
                live.get(&plan_stack.name).and_then(Option::as_ref).and_then(|s| s.parameters.get(parameter));
            // One at its default is left out, as on creation: the same value, and a change set
            // that names it is not mistaken for a change (moto compares the parameters given).
            if let Some(value) = deployed.filter(|v| declared.default.as_ref() != Some(*v)) {
                sources.insert(parameter.clone(), Source::Value(value.clone()));
            }
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
        let upstream = live.get(&input.stack).and_then(Option::as_ref);
        // A stack that only holds unexecuted change sets has no outputs yet.
        let now =
            upstream.filter(|s| s.status != "REVIEW_IN_PROGRESS").and_then(|s| s.outputs.get(&input.output)).cloned();
        if selected.contains(&input.stack) {
            sources.insert(parameter.clone(), Source::Output { stack: input.stack, output: input.output.clone(), now });
            continue;
        }
        let upstream_name = names::stack(&artifacts.plan.platform, input.stack);
        let missing = |why: &str| Error::MissingInput {
            stack_name: plan_stack.stack_name.clone(),
            parameter: parameter.clone(),
            upstream: upstream_name.clone(),
            output: input.output.clone(),
            why: why.to_owned(),
        };
        match (upstream, now) {
            (_, Some(value)) => {
                sources.insert(parameter.clone(), Source::Value(value));
            }
            (Some(_), None) => return Err(missing("which has no such output")),
            (None, None) => return Err(missing("which is not deployed")),
        }
    }
    Ok(sources)
}

/// The parameter values of a stack, now that the stacks it reads from have deployed:
/// `outputs` holds their outputs.
pub(crate) fn values(
    plan: &StackPlan,
    outputs: &BTreeMap<StackName, BTreeMap<String, String>>,
    synth: &acme_synth::Plan,
) -> Result<BTreeMap<String, String>, Error> {
    plan.sources
        .iter()
        .map(|(parameter, source)| match source {
            Source::Value(v) => Ok((parameter.clone(), v.clone())),
            Source::Output { stack, output, now } => outputs
                .get(stack)
                .and_then(|o| o.get(output))
                .or(now.as_ref().filter(|_| !outputs.contains_key(stack)))
                .map(|v| (parameter.clone(), v.clone()))
                .ok_or_else(|| Error::MissingInput {
                    stack_name: plan.stack_name.clone(),
                    parameter: parameter.clone(),
                    upstream: synth.stack(*stack).map_or_else(|| stack.to_string(), |s| s.stack_name.clone()),
                    output: output.clone(),
                    why: "which deployed without it".into(),
                }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = deployer.plan(&artifacts, &only_data).await.expect_err("no data stack without a database");
        assert!(matches!(err, Error::UnknownStack(ref s) if s == "data"), "{err}");

        let typo = Request {
            only: Some(BTreeSet::from([StackName::Keys])),
            parameters: BTreeMap::from([("VpcID".to_owned(), "vpc-1".to_owned())]),
            role_arn: None,
        };
        let err = deployer.plan(&artifacts, &typo).await.expect_err("keys takes no VpcID");
        assert!(matches!(err, Error::UnusedParameter(ref p) if p == "VpcID"), "{err}");
    }

    fn edge_plan(artifacts: &Artifacts, sources: &[(&str, Source)]) -> StackPlan {
        StackPlan {
            stack: StackName::EDGE,
            stack_name: "acme-edge".into(),
            status: None,
            action: StackAction::Create,
            changes: vec![],
            change_set: None,
            deferred: None,
            depends_on: artifacts.plan.stack(StackName::EDGE).map(|s| s.depends_on.clone()).unwrap_or_default(),
            values: BTreeMap::new(),
            sources: sources.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
            body: Body::Ready(crate::TemplateSource::Body(String::new())),
            role_arn: None,
        }
    }

    #[test]
    fn outputs_of_this_run_fill_parameters_and_a_missing_one_names_its_stack() {
        let artifacts = acme_synth::synthesize(&acme_spec::fixture::acme());
        let p = edge_plan(
            &artifacts,
            &[
                ("VpcId", Source::Output { stack: StackName::Network, output: "VpcId".into(), now: None }),
                ("ClusterSecurityGroupId", Source::Value("sg-123".into())),
            ],
        );
        let mut outputs = BTreeMap::new();
        outputs.insert(StackName::Network, BTreeMap::from([("VpcId".to_owned(), "vpc-1".to_owned())]));
        let values = values(&p, &outputs, &artifacts.plan).expect("all there");
        assert_eq!(values["VpcId"], "vpc-1");
        assert_eq!(values["ClusterSecurityGroupId"], "sg-123");

        outputs.insert(StackName::Network, BTreeMap::new());
        let err = super::values(&p, &outputs, &artifacts.plan).expect_err("network has no outputs");
        assert_eq!(
            err.to_string(),
            "acme-edge: parameter VpcId takes output VpcId of the acme-network stack, which deployed without it\n\
             help: deploy acme-network first, or give VpcId a value"
        );
    }

    #[test]
    fn an_upstream_output_that_moved_is_taken_as_it_is_now() {
        let artifacts = acme_synth::synthesize(&acme_spec::fixture::acme());
        let p = edge_plan(
            &artifacts,
            &[(
                "VpcId",
                Source::Output { stack: StackName::Network, output: "VpcId".into(), now: Some("vpc-old".into()) },
            )],
        );
        // Not deployed in this run (yet): the value in the account holds.
        assert_eq!(values(&p, &BTreeMap::new(), &artifacts.plan).expect("known")["VpcId"], "vpc-old");
        let outputs =
            BTreeMap::from([(StackName::Network, BTreeMap::from([("VpcId".to_owned(), "vpc-new".to_owned())]))]);
        assert_eq!(values(&p, &outputs, &artifacts.plan).expect("known")["VpcId"], "vpc-new");
    }

    #[test]
    fn kept_parameters_stay_as_deployed_unless_given() {
        let artifacts = acme_synth::synthesize(&acme_spec::fixture::acme());
        let plan_stack = artifacts.plan.stack(StackName::EDGE).expect("edge");
        let stack = artifacts.stack(StackName::EDGE).expect("edge");
        let state = |parameters: &[(&str, &str)]| StackState {
            stack_id: "id".into(),
            status: "UPDATE_COMPLETE".into(),
            reason: None,
            outputs: BTreeMap::new(),
            parameters: parameters.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        };
        let all = |edge: Option<StackState>| -> BTreeMap<StackName, Option<StackState>> {
            let upstream = StackState {
                outputs: artifacts
                    .plan
                    .stacks
                    .iter()
                    .flat_map(|s| s.parameters.iter().map(|i| (i.output.clone(), "x".to_owned())))
                    .collect(),
                ..state(&[])
            };
            StackName::ALL
                .iter()
                .map(|s| (*s, if *s == StackName::EDGE { edge.clone() } else { Some(upstream.clone()) }))
                .collect()
        };
        let kept = |request: &Request, live: &BTreeMap<StackName, Option<StackState>>| {
            let sources = sources(&artifacts, plan_stack, stack, request, &BTreeSet::new(), live).expect("sources");
            sources.get("MigratedApi").cloned()
        };
        let request = Request::default();
        // A new stack starts from the default: the parameter is left out.
        assert_eq!(kept(&request, &all(None)), None);
        // A deployed stack keeps what it has, whatever the default says.
        assert_eq!(kept(&request, &all(Some(state(&[("MigratedApi", "true")])))), Some(Source::Value("true".into())));
        // At its default it is left out again: the same value, and no change set for nothing.
        assert_eq!(kept(&request, &all(Some(state(&[("MigratedApi", "false")])))), None);
        // Only a value given on purpose (migrate finalize) changes it.
        let finalize =
            Request { parameters: BTreeMap::from([("MigratedApi".to_owned(), "false".to_owned())]), ..request };
        assert_eq!(kept(&finalize, &all(Some(state(&[("MigratedApi", "true")])))), Some(Source::Value("false".into())));
    }
}
