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
use crate::stack::Prepared;
use crate::{ChangePlan, Deployed, Deployer, Error, Event, Outcome, Request, StackAction, StackPlan};
use acme_synth::{Artifacts, StackName};
use std::collections::BTreeMap;
use tokio::sync::watch;
use tokio::task::JoinSet;

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

/// Tells a running deploy to start no further stack.
#[derive(Clone, Debug)]
pub struct Stop(watch::Receiver<bool>);

/// The sending side of [`Stop`].
#[derive(Debug)]
pub struct StopHandle(watch::Sender<bool>);

impl Stop {
    pub fn new() -> (StopHandle, Stop) {
        let (tx, rx) = watch::channel(false);
        (StopHandle(tx), Stop(rx))
    }

    /// A stop that never fires.
    pub fn never() -> Stop {
        Stop::new().1
    }

    pub(crate) fn fired(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the stop fires; never, if its handle is gone without firing.
    pub(crate) async fn wait(&mut self) {
        if self.0.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl StopHandle {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

/// Where each stack of a run stands.
#[derive(Clone, Debug, PartialEq)]
enum Progress {
    Waiting,
    Running,
    Done,
    Failed,
    Skipped,
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
        mut stop: Stop,
    ) -> Result<Report, Error> {
        let mut progress: BTreeMap<StackName, Progress> =
            plan.stacks.iter().map(|s| (s.stack, Progress::Waiting)).collect();
        let mut outputs: BTreeMap<StackName, BTreeMap<String, String>> = BTreeMap::new();
        let mut deployed: Vec<Deployed> = vec![];
        let mut failures: Vec<Error> = vec![];
        let mut skipped: Vec<String> = vec![];
        let mut tasks = JoinSet::new();
        loop {
            for s in &plan.stacks {
                if progress[&s.stack] != Progress::Waiting {
                    continue;
                }
                let deps: Vec<&Progress> = s.depends_on.iter().filter_map(|d| progress.get(d)).collect();
                if deps.iter().any(|p| matches!(p, Progress::Failed | Progress::Skipped)) {
                    progress.insert(s.stack, Progress::Skipped);
                    skipped.push(s.stack_name.clone());
                    self.emit(Event::Skipped {
                        stack_name: s.stack_name.clone(),
                        reason: "a stack it takes outputs from failed".into(),
                    });
                    continue;
                }
                if stop.fired() || !deps.iter().all(|p| **p == Progress::Done) {
                    continue;
                }
                match values(s, &outputs, &artifacts.plan) {
                    Ok(values) => {
                        progress.insert(s.stack, Progress::Running);
                        let (deployer, s, allowances) = (self.clone(), s.clone(), allowances.clone());
                        let template = artifacts.stack(s.stack).map(|st| st.template.clone()).unwrap_or_default();
                        tasks.spawn(async move {
                            let result = deployer.run_stack(&s, &template, values, &allowances).await;
                            (s.stack, result)
                        });
                    }
                    Err(e) => {
                        progress.insert(s.stack, Progress::Failed);
                        self.emit(Event::Failed { stack_name: s.stack_name.clone(), reason: e.to_string() });
                        failures.push(e);
                    }
                }
            }
            if tasks.is_empty() {
                break;
            }
            tokio::select! {
                joined = tasks.join_next() => {
                    let Some(joined) = joined else { continue };
                    let (stack, result) = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
                    match result {
                        Ok(d) => {
                            progress.insert(stack, Progress::Done);
                            outputs.insert(stack, d.outputs.clone());
                            deployed.push(d);
                        }
                        Err(e) => {
                            progress.insert(stack, Progress::Failed);
                            let stack_name = plan.stacks.iter().find(|s| s.stack == stack).map(|s| s.stack_name.clone());
                            self.emit(Event::Failed { stack_name: stack_name.unwrap_or_default(), reason: e.to_string() });
                            failures.push(e);
                        }
                    }
                }
                () = stop.wait(), if !stop.fired() => {}
            }
            if stop.fired() {
                // Leave the running executions to CloudFormation: dropping the tasks stops
                // only the waiting, and a change set not yet executed never will be.
                let names = |want: Progress| -> Vec<String> {
                    plan.stacks.iter().filter(|s| progress[&s.stack] == want).map(|s| s.stack_name.clone()).collect()
                };
                tasks.abort_all();
                return Err(Error::Interrupted {
                    running: names(Progress::Running),
                    not_started: names(Progress::Waiting),
                });
            }
        }
        deployed.sort_by_key(|d| plan.stacks.iter().position(|s| s.stack_name == d.stack_name));
        if failures.is_empty() {
            Ok(Report { stacks: deployed })
        } else {
            Err(Error::Failed { deployed, failures, skipped })
        }
    }

    /// One stack of a run, with its inputs' values as they are now.
    async fn run_stack(
        &self,
        s: &StackPlan,
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
            let prepared = self.reviewed(s, template, &values, allowances).await?;
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
        let prepared = self.reviewed(s, template, &values, allowances).await?;
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
        template: &acme_cfn::Template,
        values: &BTreeMap<String, String>,
        allowances: &Allowances,
    ) -> Result<Prepared, Error> {
        let mut prepared = self.prepare_as(&s.stack_name, &s.body, values, s.role_arn.as_deref()).await?;
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
