//! Running a reviewed [`ChangePlan`]: every stack starts as soon as the stacks it reads from
//! have deployed (independent stacks run in parallel), with their outputs as its parameters.
//!
//! - A stack whose inputs are what the plan saw runs the change set that was reviewed.
//! - A stack whose inputs moved (an upstream stack changed its outputs) gets a new change
//!   set, guarded again; a deferred one gets its first.
//! - A stack in `ROLLBACK_COMPLETE` is deleted and created again.
//! - When a stack fails, the stacks that depend on it are not started; the others go on.
//! - When [`Stop`] fires (Ctrl-C), no further stack starts; stacks already executing are
//!   left to CloudFormation, which finishes or rolls them back: the account stays
//!   consistent, and the next deploy waits for them and carries on.

use crate::guard::{self, Allowances};
use crate::plan::values;
use crate::schedule::{self, Stop};
use crate::stack::Prepared;
use crate::template::{Body, TemplateSource};
use crate::{ChangePlan, Deployed, Deployer, Error, Event, Outcome, Request, StackAction, StackPlan};
use acme_synth::stacks::names;
use acme_synth::{Artifacts, StackName};
use std::collections::BTreeMap;

/// Every deployed stack, in plan order.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub stacks: Vec<Deployed>,
}

impl Report {
    pub fn stack(&self, stack_name: &str) -> Option<&Deployed> {
        self.stacks.iter().find(|d| d.stack_name == stack_name)
    }

    /// How many change sets ran.
    pub fn executed(&self) -> usize {
        self.stacks.iter().filter(|d| d.change_set.is_some()).count()
    }
}

impl schedule::Node for StackPlan {
    type Key = StackName;
    fn key(&self) -> StackName {
        self.stack
    }
    fn name(&self) -> &str {
        &self.stack_name
    }
    fn after(&self) -> &[StackName] {
        &self.depends_on
    }
}

impl Deployer {
    /// Plan `request`, refuse it if it would destroy data, and run it: what `acmectl deploy
    /// --yes` does without `--allow-replace`.
    pub async fn deploy(&self, artifacts: &Artifacts, request: &Request) -> Result<Report, Error> {
        let plan = self.plan(artifacts, request).await?;
        let allowances = Allowances::default();
        let dangers = plan.dangers(&allowances);
        if !dangers.is_empty() {
            let _ = plan.discard(self).await;
            return Err(Error::Guarded { dangers });
        }
        self.apply(artifacts, &plan, &allowances, Stop::never()).await
    }

    /// Run a reviewed plan (see the module doc). `allowances` are the resources the user
    /// allowed to be replaced or removed; a change set made again on the way is held to them.
    pub async fn apply(
        &self,
        artifacts: &Artifacts,
        plan: &ChangePlan,
        allowances: &Allowances,
        stop: Stop,
    ) -> Result<Report, Error> {
        let ran = schedule::run(
            &plan.stacks,
            "a stack it takes outputs from failed",
            stop,
            |event| self.emit(event),
            |s, done| {
                let outputs =
                    done.iter().map(|(stack, d): &(StackName, Deployed)| (*stack, d.outputs.clone())).collect();
                let values = values(s, &outputs, &artifacts.plan)?;
                let bucket = outputs
                    .get(&StackName::Keys)
                    .and_then(|o: &BTreeMap<String, String>| o.get(names::outputs::STAGING_BUCKET_NAME))
                    .cloned();
                let (deployer, s, allowances) = (self.clone(), s.clone(), allowances.clone());
                let template = artifacts.stack(s.stack).map(|st| st.template.clone()).unwrap_or_default();
                // Dropped when the stop fires: that stops only the waiting; CloudFormation goes
                // on with a running execution, and a change set not yet executed never will be.
                Ok(async move {
                    let source = deployer.source(&s, bucket.as_deref()).await?;
                    deployer.run_stack(&s, &source, &template, values, &allowances).await
                })
            },
        )
        .await;
        let mut deployed: Vec<Deployed> = ran.done.into_iter().map(|(_, d)| d).collect();
        deployed.sort_by_key(|d| plan.stacks.iter().position(|s| s.stack_name == d.stack_name));
        match ran.error {
            None => Ok(Report { stacks: deployed }),
            Some(Error::Failed { failures, skipped, .. }) => Err(Error::Failed { deployed, failures, skipped }),
            Some(e) => Err(e),
        }
    }

    /// How `s`'s template goes to CloudFormation: as planned, or staged now in the `bucket`
    /// the keys stack made earlier in this run.
    async fn source(&self, s: &StackPlan, bucket: Option<&str>) -> Result<TemplateSource, Error> {
        match (&s.body, bucket) {
            (Body::Ready(source), _) => Ok(source.clone()),
            (Body::ToStage(json), Some(bucket)) => self.stage(&s.stack_name, bucket, json).await,
            (Body::ToStage(_), None) => Err(Error::NoStagingBucket { stack_name: s.stack_name.clone() }),
        }
    }

    /// One stack of a run, with its inputs' values as they are now.
    async fn run_stack(
        &self,
        s: &StackPlan,
        source: &TemplateSource,
        template: &acme_cfn::Template,
        values: BTreeMap<String, String>,
        allowances: &Allowances,
    ) -> Result<Deployed, Error> {
        let stack_name = s.stack_name.as_str();
        if s.action == StackAction::Recreate {
            self.emit(Event::Recreating {
                stack_name: stack_name.to_owned(),
                status: s.status.clone().unwrap_or_default(),
            });
            self.delete_stack(stack_name).await?;
            let prepared = self.reviewed(s, source, template, &values, allowances).await?;
            let mut d = self.run_prepared(stack_name, prepared).await?;
            d.outcome = Outcome::Recreated;
            return Ok(d);
        }
        if s.deferred.is_none() && values == s.values {
            let prepared = match &s.change_set {
                Some(cs) => Prepared::Ready(cs.clone()),
                None => Prepared::NoChanges,
            };
            return self.run_prepared(stack_name, prepared).await;
        }
        // The inputs moved since the plan (or were not known then): plan this stack again.
        if let Some(cs) = &s.change_set {
            self.discard(cs).await?;
        }
        let prepared = self.reviewed(s, source, template, &values, allowances).await?;
        if s.deferred.is_none() {
            let moved: Vec<String> =
                values.iter().filter(|(k, v)| s.values.get(*k) != Some(*v)).map(|(k, _)| k.clone()).collect();
            let changes = match &prepared {
                Prepared::Ready(cs) => cs.changes.clone(),
                Prepared::NoChanges => vec![],
            };
            self.emit(Event::Replanned { stack_name: stack_name.to_owned(), parameters: moved, changes });
        }
        self.run_prepared(stack_name, prepared).await
    }

    /// A new change set for `s`, reviewed and held to the guard.
    async fn reviewed(
        &self,
        s: &StackPlan,
        source: &TemplateSource,
        template: &acme_cfn::Template,
        values: &BTreeMap<String, String>,
        allowances: &Allowances,
    ) -> Result<Prepared, Error> {
        let mut prepared = self.prepare_as(&s.stack_name, source, values, s.role_arn.as_deref()).await?;
        if let Prepared::Ready(cs) = &mut prepared {
            self.review(cs, template).await?;
            let dangers: Vec<_> = guard::dangers(s.stack, &s.stack_name, &cs.changes, allowances)
                .into_iter()
                .filter(|d| !d.allowed)
                .collect();
            if !dangers.is_empty() {
                let _ = self.discard(cs).await;
                return Err(Error::Guarded { dangers });
            }
        }
        Ok(prepared)
    }
}
