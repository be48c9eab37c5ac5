//! One stack through a CloudFormation change set: create it, read what it would change,
//! execute it, wait for the stack to settle, read the outputs.
//!
//! Creating and executing are separate calls ([`Deployer::prepare`], [`Deployer::execute`])
//! so that a guard can look at the changes in between (replacement of a database, ...);
//! [`Deployer::deploy_stack`] does both.

use crate::Error;
use crate::changes::{Cause, Change, Judge};
use crate::error::{is_missing_stack, means_no_changes};
use crate::template::TemplateSource;
use aws_config::SdkConfig;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, ExecutionStatus, Parameter, Replacement, ResourceChange, StackStatus,
    TemplateStage,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Deploys stacks through change sets. Cheap to clone: clones share the SDK clients.
#[derive(Clone)]
pub struct Deployer {
    pub(crate) cfn: Client,
    pub(crate) route53: aws_sdk_route53::Client,
    /// Stages templates too large to send inline.
    pub(crate) s3: aws_sdk_s3::Client,
    /// The Region the clients talk to, for the commands acmectl suggests.
    pub(crate) region: String,
    pub(crate) backoff: Backoff,
    progress: Option<Progress>,
}

/// Where [`Event`]s go.
type Progress = Arc<dyn Fn(&Event) + Send + Sync>;

/// How to poll CloudFormation while a change set is created or a stack changes: the first
/// poll at once, then after `first`, doubling up to `max` between polls, giving up after
/// `timeout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    pub timeout: Duration,
}

impl Default for Backoff {
    /// Change sets take seconds; a Multi-AZ database takes most of an hour to create. Ten
    /// seconds between polls keeps eleven stacks' polling well under CloudFormation's API
    /// rate, and progress fresh.
    fn default() -> Self {
        Backoff { first: Duration::from_secs(1), max: Duration::from_secs(10), timeout: Duration::from_secs(3 * 3600) }
    }
}

/// Something that happened during a deploy or destroy, for live progress.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Another operation on the stack is in progress (an earlier run, the console): waiting.
    Waiting {
        stack_name: String,
        status: String,
    },
    /// A template too large to send inline is in the staging bucket (`uploaded`: sent now;
    /// otherwise the same template was there already).
    Staged {
        stack_name: String,
        location: String,
        bytes: usize,
        uploaded: bool,
    },
    /// A change set is being created.
    Planning {
        stack_name: String,
    },
    /// A change set is ready and about to run.
    ChangeSet {
        stack_name: String,
        change_set: String,
        changes: Vec<Change>,
    },
    /// Upstream outputs changed since the plan, so the change set was made again.
    Replanned {
        stack_name: String,
        parameters: Vec<String>,
        changes: Vec<Change>,
    },
    /// The stack is up to date: nothing to run.
    Unchanged {
        stack_name: String,
    },
    /// The stack's status moved while it was being waited for.
    Status {
        stack_name: String,
        status: String,
    },
    /// A resource event of the running operation (`DescribeStackEvents`).
    Resource {
        stack_name: String,
        logical_id: String,
        resource_type: String,
        status: String,
        reason: Option<String>,
    },
    /// A public hosted zone was just created: delegate the domain to these name servers, or
    /// its certificates are never issued.
    NameServers {
        stack_name: String,
        zone_id: String,
        domain: String,
        name_servers: Vec<String>,
    },
    /// The stack's creation had failed and rolled back; it is deleted to be created again.
    Recreating {
        stack_name: String,
        status: String,
    },
    Deployed(Deployed),
    /// The stack's deploy or deletion failed; the error follows.
    Failed {
        stack_name: String,
        reason: String,
    },
    /// Not started: a stack it depends on failed.
    Skipped {
        stack_name: String,
        reason: String,
    },
    /// Deletion started (destroy).
    Deleting {
        stack_name: String,
    },
    Deleted {
        stack_name: String,
    },
}

/// A stack as CloudFormation reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackState {
    pub stack_id: String,
    pub status: String,
    pub reason: Option<String>,
    /// Output name → value.
    pub outputs: BTreeMap<String, String>,
    /// Parameter name → value the stack was last deployed with.
    pub parameters: BTreeMap<String, String>,
}

impl StackState {
    pub fn in_progress(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS")
    }
}

/// Whether a change set creates the stack or updates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeSetKind {
    Create,
    Update,
}

/// A change set that is ready to execute.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeSet {
    pub stack_name: String,
    pub name: String,
    pub kind: ChangeSetKind,
    pub changes: Vec<Change>,
    /// Public hosted zones this change set creates (logical ids): their name servers are
    /// reported as soon as they exist.
    pub new_public_zones: Vec<String>,
}

/// What [`Deployer::prepare`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Prepared {
    Ready(ChangeSet),
    /// CloudFormation found nothing to change; no change set is left behind.
    NoChanges,
}

/// What a deploy did to one stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    /// Deleted after a failed creation, and created again.
    Recreated,
    Unchanged,
}

/// One deployed stack.
#[derive(Clone, Debug, PartialEq)]
pub struct Deployed {
    pub stack_name: String,
    pub outcome: Outcome,
    /// The change set that ran, if one did.
    pub change_set: Option<String>,
    pub changes: Vec<Change>,
    /// Output name → value, as the stack reports them after the deploy.
    pub outputs: BTreeMap<String, String>,
}

/// A resource of a deployed stack (`DescribeStackResources`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

impl Deployer {
    pub fn new(sdk: &SdkConfig) -> Self {
        Deployer {
            cfn: Client::new(sdk),
            route53: aws_sdk_route53::Client::new(sdk),
            s3: crate::config::s3_client(sdk),
            region: sdk.region().map(|r| r.as_ref().to_owned()).unwrap_or_default(),
            backoff: Backoff::default(),
            progress: None,
        }
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Call `progress` for every [`Event`]; it runs on the deploy's tasks, so keep it quick.
    pub fn with_progress(mut self, progress: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// Put `json`, the template of `stack_name`, in the staging `bucket` under its content
    /// hash, unless it is there already, and give the URL CloudFormation reads it from.
    pub(crate) async fn stage(&self, stack_name: &str, bucket: &str, json: &str) -> Result<TemplateSource, Error> {
        let key = crate::template::staged_key(json);
        let head = self.s3.head_object().bucket(bucket).key(&key).send().await;
        let uploaded = match head {
            Ok(_) => false,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => {
                self.s3
                    .put_object()
                    .bucket(bucket)
                    .key(&key)
                    .content_type("application/json")
                    .body(json.as_bytes().to_vec().into())
                    .send()
                    .await
                    .map_err(|e| Error::aws(stack_name, "PutObject", e))?;
                true
            }
            Err(e) => return Err(Error::aws(stack_name, "HeadObject", e)),
        };
        self.emit(Event::Staged {
            stack_name: stack_name.to_owned(),
            location: format!("s3://{bucket}/{key}"),
            bytes: json.len(),
            uploaded,
        });
        Ok(TemplateSource::Url(crate::template::staged_url(bucket, &self.region, &key)))
    }

    pub(crate) fn emit(&self, event: Event) {
        if let Some(progress) = &self.progress {
            progress(&event);
        }
    }

    /// Create or update `stack_name` to `template_body` with `parameters`, through a change
    /// set; an up-to-date stack is left alone. Waits until the stack has settled.
    pub async fn deploy_stack(
        &self,
        stack_name: &str,
        template_body: &str,
        parameters: &BTreeMap<String, String>,
    ) -> Result<Deployed, Error> {
        let source = TemplateSource::Body(template_body.to_owned());
        let prepared = self.prepare(stack_name, &source, parameters).await?;
        self.run_prepared(stack_name, prepared).await
    }

    /// Execute what [`Deployer::prepare`] found (nothing, for no changes) and report it.
    pub(crate) async fn run_prepared(&self, stack_name: &str, prepared: Prepared) -> Result<Deployed, Error> {
        let deployed = match prepared {
            Prepared::NoChanges => {
                self.emit(Event::Unchanged { stack_name: stack_name.to_owned() });
                let state = self.describe(stack_name).await?;
                Deployed {
                    stack_name: stack_name.to_owned(),
                    outcome: Outcome::Unchanged,
                    change_set: None,
                    changes: vec![],
                    outputs: state.map(|s| s.outputs).unwrap_or_default(),
                }
            }
            Prepared::Ready(change_set) => {
                self.emit(Event::ChangeSet {
                    stack_name: stack_name.to_owned(),
                    change_set: change_set.name.clone(),
                    changes: change_set.changes.clone(),
                });
                let state = self.execute(&change_set).await?;
                Deployed {
                    stack_name: stack_name.to_owned(),
                    outcome: match change_set.kind {
                        ChangeSetKind::Create => Outcome::Created,
                        ChangeSetKind::Update => Outcome::Updated,
                    },
                    change_set: Some(change_set.name),
                    changes: change_set.changes,
                    outputs: state.outputs,
                }
            }
        };
        self.emit(Event::Deployed(deployed.clone()));
        Ok(deployed)
    }

    /// The stack's state, or `None` if there is no such stack.
    pub async fn describe(&self, stack_name: &str) -> Result<Option<StackState>, Error> {
        let out = match self.cfn.describe_stacks().stack_name(stack_name).send().await {
            Ok(out) => out,
            Err(e) if is_missing_stack(&e) => return Ok(None),
            Err(e) => return Err(Error::aws(stack_name, "DescribeStacks", e)),
        };
        Ok(out.stacks().first().map(|s| StackState {
            stack_id: s.stack_id().unwrap_or_default().to_owned(),
            status: s.stack_status().map(StackStatus::as_str).unwrap_or("UNKNOWN").to_owned(),
            reason: s.stack_status_reason().map(str::to_owned),
            outputs: s
                .outputs()
                .iter()
                .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value().unwrap_or_default().to_owned())))
                .collect(),
            parameters: s
                .parameters()
                .iter()
                .filter_map(|p| {
                    Some((p.parameter_key()?.to_owned(), p.parameter_value().unwrap_or_default().to_owned()))
                })
                .collect(),
        }))
    }

    /// Create a change set for the stack (a `CREATE` one if the stack does not exist yet)
    /// and wait until CloudFormation has worked out its changes. A stack that is busy is
    /// waited for first. "No changes" deletes the change set and gives [`Prepared::NoChanges`].
    pub async fn prepare(
        &self,
        stack_name: &str,
        template: &TemplateSource,
        parameters: &BTreeMap<String, String>,
    ) -> Result<Prepared, Error> {
        self.prepare_as(stack_name, template, parameters, None).await
    }

    /// [`Deployer::prepare`], the change set to run with the CloudFormation service role
    /// `role_arn` (`RoleARN`) when given: CloudFormation then acts with that role's rights,
    /// not the caller's.
    pub async fn prepare_as(
        &self,
        stack_name: &str,
        template: &TemplateSource,
        parameters: &BTreeMap<String, String>,
        role_arn: Option<&str>,
    ) -> Result<Prepared, Error> {
        let mut state = self.settled(stack_name, Review::Settled, None).await?;
        if state.as_ref().is_some_and(|s| s.status == "REVIEW_IN_PROGRESS") && self.executing(stack_name).await? {
            // A deploy interrupted right after ExecuteChangeSet: CloudFormation is about to
            // create the stack. Deleting it now could orphan what it retains; wait it out.
            state = self.settled(stack_name, Review::Pending, None).await?;
        }
        let kind = match state {
            None => ChangeSetKind::Create,
            // A stack whose first change set was never executed (a plan, an interrupted run)
            // holds nothing: it is deleted, and created afresh by a new change set. (Adding a
            // change set to it works on AWS, but emulators then keep two stacks of one name.)
            Some(s) if s.status == "REVIEW_IN_PROGRESS" => {
                self.delete_stack(stack_name).await?;
                ChangeSetKind::Create
            }
            Some(s) => {
                if let Some(help) = not_updatable(&s.status) {
                    return Err(Error::NotUpdatable { stack_name: stack_name.to_owned(), status: s.status, help });
                }
                ChangeSetKind::Update
            }
        };
        self.emit(Event::Planning { stack_name: stack_name.to_owned() });
        let name = change_set_name(stack_name);
        let created = self
            .cfn
            .create_change_set()
            .stack_name(stack_name)
            .change_set_name(&name)
            .change_set_type(match kind {
                ChangeSetKind::Create => ChangeSetType::Create,
                ChangeSetKind::Update => ChangeSetType::Update,
            })
            .description("acmectl deploy")
            .set_template_body(match template {
                TemplateSource::Body(body) => Some(body.clone()),
                TemplateSource::Url(_) => None,
            })
            .set_template_url(match template {
                TemplateSource::Url(url) => Some(url.clone()),
                TemplateSource::Body(_) => None,
            })
            .set_parameters(Some(
                parameters
                    .iter()
                    .map(|(k, v)| Parameter::builder().parameter_key(k).parameter_value(v).build())
                    .collect(),
            ))
            .capabilities(Capability::CapabilityNamedIam)
            .set_role_arn(role_arn.map(str::to_owned))
            .send()
            .await;
        if let Err(e) = created {
            if e.message().is_some_and(means_no_changes) {
                return Ok(Prepared::NoChanges);
            }
            return Err(Error::aws(stack_name, "CreateChangeSet", e));
        }

        let mut wait = Wait::new(self.backoff);
        let mut changes = vec![];
        let mut token: Option<String> = None;
        loop {
            let out = self
                .cfn
                .describe_change_set()
                .stack_name(stack_name)
                .change_set_name(&name)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| Error::aws(stack_name, "DescribeChangeSet", e))?;
            let status = out.status().map(ChangeSetStatus::as_str).unwrap_or("UNKNOWN").to_owned();
            match out.status() {
                Some(ChangeSetStatus::CreateComplete) => {
                    changes.extend(out.changes().iter().filter_map(|c| c.resource_change()).map(change));
                    token = out.next_token().map(str::to_owned);
                    if token.is_none() {
                        return Ok(Prepared::Ready(ChangeSet {
                            stack_name: stack_name.to_owned(),
                            name,
                            kind,
                            changes,
                            new_public_zones: vec![],
                        }));
                    }
                }
                Some(ChangeSetStatus::Failed) => {
                    let reason = out.status_reason().unwrap_or("no reason given").to_owned();
                    if means_no_changes(&reason) {
                        self.discard_change_set(stack_name, &name).await?;
                        return Ok(Prepared::NoChanges);
                    }
                    // Left in place, so it can be looked at in the console.
                    return Err(Error::ChangeSetFailed {
                        stack_name: stack_name.to_owned(),
                        change_set: name,
                        status,
                        reason,
                    });
                }
                _ => {
                    wait.pause().await.map_err(|waited| Error::Timeout {
                        stack_name: stack_name.to_owned(),
                        what: "the change set",
                        status,
                        waited,
                    })?;
                }
            }
        }
    }

    /// Delete a change set that will not run.
    pub async fn discard_change_set(&self, stack_name: &str, change_set: &str) -> Result<(), Error> {
        self.cfn
            .delete_change_set()
            .stack_name(stack_name)
            .change_set_name(change_set)
            .send()
            .await
            .map_err(|e| Error::aws(stack_name, "DeleteChangeSet", e))?;
        Ok(())
    }

    /// Whether a change set of `stack_name` has been executed: its stack may still show
    /// `REVIEW_IN_PROGRESS` for a moment after ExecuteChangeSet.
    async fn executing(&self, stack_name: &str) -> Result<bool, Error> {
        let out = self
            .cfn
            .list_change_sets()
            .stack_name(stack_name)
            .send()
            .await
            .map_err(|e| Error::aws(stack_name, "ListChangeSets", e))?;
        // Filtered by stack here too: moto lists every stack's change sets.
        Ok(out.summaries().iter().filter(|c| c.stack_name() == Some(stack_name)).any(|c| {
            matches!(c.execution_status(), Some(ExecutionStatus::ExecuteInProgress | ExecutionStatus::ExecuteComplete))
        }))
    }

    /// Throw away a change set that will not run. A `CREATE` change set made the stack (in
    /// `REVIEW_IN_PROGRESS`, holding nothing); that empty stack goes too.
    pub async fn discard(&self, change_set: &ChangeSet) -> Result<(), Error> {
        match change_set.kind {
            ChangeSetKind::Update => self.discard_change_set(&change_set.stack_name, &change_set.name).await,
            ChangeSetKind::Create => {
                let stack_name = change_set.stack_name.as_str();
                // The change set first: some services keep it when its stack goes.
                self.discard_change_set(stack_name, &change_set.name).await?;
                match self.describe(stack_name).await? {
                    Some(s) if s.status == "REVIEW_IN_PROGRESS" => self
                        .cfn
                        .delete_stack()
                        .stack_name(stack_name)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| Error::aws(stack_name, "DeleteStack", e)),
                    _ => Ok(()),
                }
            }
        }
    }

    /// Execute a ready change set and wait for the stack to settle. Anything but
    /// `CREATE_COMPLETE` / `UPDATE_COMPLETE` is an error that carries the first failure
    /// CloudFormation reported for this execution.
    pub async fn execute(&self, change_set: &ChangeSet) -> Result<StackState, Error> {
        let stack_name = change_set.stack_name.as_str();
        let started = aws_smithy_types::DateTime::from(SystemTime::now());
        self.cfn
            .execute_change_set()
            .stack_name(stack_name)
            .change_set_name(&change_set.name)
            // Stamps this execution's stack events, so failures can be told from older ones.
            .client_request_token(&change_set.name)
            .send()
            .await
            .map_err(|e| Error::aws(stack_name, "ExecuteChangeSet", e))?;
        let mut watch = Watch {
            token: change_set.name.clone(),
            since: started,
            seen: BTreeSet::new(),
            zones: change_set.new_public_zones.clone(),
        };
        // Execution starts asynchronously: a new stack stays in REVIEW_IN_PROGRESS for a moment
        // after ExecuteChangeSet returns, so here that status means "not started yet".
        let state =
            self.settled(stack_name, Review::Pending, Some(&mut watch)).await?.ok_or_else(|| Error::StackFailed {
                stack_name: stack_name.to_owned(),
                change_set: change_set.name.clone(),
                status: "DELETE_COMPLETE".into(),
                reason: "the stack is gone".into(),
            })?;
        let expected = match change_set.kind {
            ChangeSetKind::Create => "CREATE_COMPLETE",
            ChangeSetKind::Update => "UPDATE_COMPLETE",
        };
        if state.status == expected {
            return Ok(state);
        }
        let reason = match self.first_failure(stack_name, Some(&change_set.name)).await {
            Some(reason) => reason,
            None => state.reason.clone().unwrap_or_else(|| "no reason given".into()),
        };
        Err(Error::StackFailed {
            stack_name: stack_name.to_owned(),
            change_set: change_set.name.clone(),
            status: state.status,
            reason,
        })
    }

    /// Delete the stack and wait until it is gone. Resources with a `Retain` deletion policy
    /// stay in the account. A stack that is not there is fine.
    pub async fn delete_stack(&self, stack_name: &str) -> Result<(), Error> {
        let Some(state) = self.settled(stack_name, Review::Settled, None).await? else { return Ok(()) };
        let token = format!("acmectl-delete-{}", millis());
        self.emit(Event::Deleting { stack_name: stack_name.to_owned() });
        self.cfn
            .delete_stack()
            .stack_name(&state.stack_id)
            .client_request_token(&token)
            .send()
            .await
            .map_err(|e| Error::aws(stack_name, "DeleteStack", e))?;
        let mut wait = Wait::new(self.backoff);
        let mut last = String::new();
        loop {
            // By id: a deleted stack is found by id only (as DELETE_COMPLETE).
            let state = self.describe(&state.stack_id).await?;
            let status = state.as_ref().map_or("DELETE_COMPLETE", |s| s.status.as_str()).to_owned();
            if status != last {
                self.emit(Event::Status { stack_name: stack_name.to_owned(), status: status.clone() });
                last.clone_from(&status);
            }
            match status.as_str() {
                "DELETE_COMPLETE" => {
                    self.emit(Event::Deleted { stack_name: stack_name.to_owned() });
                    return Ok(());
                }
                _ if status.ends_with("_IN_PROGRESS") => {}
                _ => {
                    let reason = self.first_failure(stack_name, Some(&token)).await;
                    let reason =
                        reason.or_else(|| state.and_then(|s| s.reason)).unwrap_or_else(|| "no reason given".into());
                    return Err(Error::DeleteFailed { stack_name: stack_name.to_owned(), status, reason });
                }
            }
            wait.pause().await.map_err(|waited| Error::Timeout {
                stack_name: stack_name.to_owned(),
                what: "the stack to be deleted",
                status: status.clone(),
                waited,
            })?;
        }
    }

    /// The template the stack runs now, as JSON (`GetTemplate`, YAML bodies parsed).
    pub async fn deployed_template(&self, stack_name: &str) -> Result<serde_json::Value, Error> {
        let out = self
            .cfn
            .get_template()
            .stack_name(stack_name)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .map_err(|e| Error::aws(stack_name, "GetTemplate", e))?;
        let body = out.template_body().unwrap_or_default();
        serde_json::from_str(body).or_else(|_| serde_saphyr::from_str::<serde_json::Value>(body)).map_err(|e| {
            Error::Unreadable { stack_name: stack_name.to_owned(), what: "its template", reason: e.to_string() }
        })
    }

    /// The stack's resources with their ids and states.
    pub async fn resources(&self, stack_name: &str) -> Result<Vec<StackResource>, Error> {
        let out = self
            .cfn
            .describe_stack_resources()
            .stack_name(stack_name)
            .send()
            .await
            .map_err(|e| Error::aws(stack_name, "DescribeStackResources", e))?;
        Ok(out
            .stack_resources()
            .iter()
            .map(|r| StackResource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                physical_id: r.physical_resource_id().filter(|id| !id.is_empty()).map(str::to_owned),
                resource_type: r.resource_type().unwrap_or_default().to_owned(),
                status: r.resource_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                reason: r.resource_status_reason().map(str::to_owned),
            })
            .collect())
    }

    /// Wait until the stack is in no `*_IN_PROGRESS` status; `None` if it does not exist.
    /// `review` says whether `REVIEW_IN_PROGRESS` (created by a change set, never executed)
    /// counts as settled. With `watch`, resource events and new zones are reported meanwhile.
    pub(crate) async fn settled(
        &self,
        stack_name: &str,
        review: Review,
        mut watch: Option<&mut Watch>,
    ) -> Result<Option<StackState>, Error> {
        let mut wait = Wait::new(self.backoff);
        let mut last_status = String::new();
        loop {
            let Some(state) = self.describe(stack_name).await? else { return Ok(None) };
            if state.status != last_status {
                // Before a change set, only a busy stack is news; while one runs, every status is.
                if watch.is_some() {
                    self.emit(Event::Status { stack_name: stack_name.to_owned(), status: state.status.clone() });
                } else if state.in_progress() && state.status != "REVIEW_IN_PROGRESS" {
                    self.emit(Event::Waiting { stack_name: stack_name.to_owned(), status: state.status.clone() });
                }
                last_status.clone_from(&state.status);
            }
            if let Some(watch) = watch.as_deref_mut() {
                self.report_events(stack_name, watch).await;
                self.report_zones(stack_name, watch).await;
            }
            if !state.in_progress() || (review == Review::Settled && state.status == "REVIEW_IN_PROGRESS") {
                return Ok(Some(state));
            }
            // Execution starts within seconds; a stack that never leaves review is stuck.
            if review == Review::Pending
                && state.status == "REVIEW_IN_PROGRESS"
                && wait.started.elapsed() > EXECUTION_START_TIMEOUT
            {
                return Err(Error::Timeout {
                    stack_name: stack_name.to_owned(),
                    what: "the change set's execution to start",
                    status: state.status,
                    waited: wait.started.elapsed(),
                });
            }
            wait.pause().await.map_err(|waited| Error::Timeout {
                stack_name: stack_name.to_owned(),
                what: "the stack to settle",
                status: state.status,
                waited,
            })?;
        }
    }

    /// Report the resource events of this execution not reported yet, oldest first. Best
    /// effort: progress must not fail a deploy.
    async fn report_events(&self, stack_name: &str, watch: &mut Watch) {
        let Ok(out) = self.cfn.describe_stack_events().stack_name(stack_name).send().await else { return };
        for e in out.stack_events().iter().rev() {
            let ours = match e.client_request_token() {
                Some(token) => token == watch.token,
                // Emulators stamp no token: take the events since the execution started.
                None => e.timestamp().is_some_and(|t| t.secs() >= watch.since.secs()),
            };
            let Some(id) = e.event_id() else { continue };
            if !ours || !watch.seen.insert(id.to_owned()) {
                continue;
            }
            let logical_id = e.logical_resource_id().unwrap_or_default();
            // The stack's own events are reported as its status.
            if e.resource_type() == Some("AWS::CloudFormation::Stack") {
                continue;
            }
            self.emit(Event::Resource {
                stack_name: stack_name.to_owned(),
                logical_id: logical_id.to_owned(),
                resource_type: e.resource_type().unwrap_or_default().to_owned(),
                status: e.resource_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_owned),
            });
        }
    }

    /// Report the name servers of each new public zone once it exists. Best effort.
    async fn report_zones(&self, stack_name: &str, watch: &mut Watch) {
        let mut pending = vec![];
        for logical_id in std::mem::take(&mut watch.zones) {
            let found =
                self.cfn.describe_stack_resource().stack_name(stack_name).logical_resource_id(&logical_id).send().await;
            let zone_id = found.ok().and_then(|r| {
                r.stack_resource_detail()
                    .and_then(|d| d.physical_resource_id())
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned)
            });
            let Some(zone_id) = zone_id else {
                pending.push(logical_id);
                continue;
            };
            match self.route53.get_hosted_zone().id(&zone_id).send().await {
                Ok(zone) => {
                    let name_servers: Vec<String> =
                        zone.delegation_set().map(|d| d.name_servers().to_vec()).unwrap_or_default();
                    let domain =
                        zone.hosted_zone().map(|z| z.name().trim_end_matches('.').to_owned()).unwrap_or_default();
                    self.emit(Event::NameServers { stack_name: stack_name.to_owned(), zone_id, domain, name_servers });
                }
                Err(_) => pending.push(logical_id),
            }
        }
        watch.zones = pending;
    }

    /// The earliest resource failure of the operation stamped `token` (any, without one), as
    /// `LogicalId (Type): reason`. Best effort: `None` when the events say nothing (some
    /// emulators record stack-level events only) or cannot be read.
    pub(crate) async fn first_failure(&self, stack_name: &str, token: Option<&str>) -> Option<String> {
        let out = self.cfn.describe_stack_events().stack_name(stack_name).send().await.ok()?;
        // Events come newest first; oldest first, the first failure is the one that started it.
        out.stack_events()
            .iter()
            .rev()
            .filter(|e| token.is_none() || e.client_request_token() == token)
            .filter(|e| e.resource_status().is_some_and(|s| s.as_str().ends_with("_FAILED")))
            .filter(|e| e.resource_type() != Some("AWS::CloudFormation::Stack"))
            .filter_map(|e| {
                let reason = e.resource_status_reason()?;
                let id = e.logical_resource_id().unwrap_or("?");
                let ty = e.resource_type().unwrap_or("?");
                Some(format!("{id} ({ty}): {reason}"))
            })
            .next()
    }
}

/// What [`Deployer::settled`] reports while a change set runs.
pub(crate) struct Watch {
    /// The execution's client request token.
    token: String,
    since: aws_smithy_types::DateTime,
    seen: BTreeSet<String>,
    /// Logical ids of public zones whose name servers are not reported yet.
    zones: Vec<String>,
}

/// One resource change as acmectl reads it.
fn change(r: &ResourceChange) -> Change {
    Change {
        action: r.action().map(|a| a.as_str().to_owned()).unwrap_or_default(),
        logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: r.resource_type().unwrap_or_default().to_owned(),
        physical_id: r.physical_resource_id().filter(|id| !id.is_empty()).map(str::to_owned),
        replacement: r.replacement().map(Replacement::as_str).map(str::to_owned),
        causes: r
            .details()
            .iter()
            .map(|d| {
                let target = d.target();
                Cause {
                    attribute: target.and_then(|t| t.attribute()).map(|a| a.as_str().to_owned()).unwrap_or_default(),
                    property: target.and_then(|t| t.name()).map(str::to_owned),
                    requires_recreation: target.and_then(|t| t.requires_recreation()).map(|r| r.as_str().to_owned()),
                    source: d.change_source().map(|s| s.as_str().to_owned()),
                    causing_entity: d.causing_entity().map(str::to_owned),
                    judged_by: Judge::Account,
                }
            })
            .collect(),
        holds_data: false,
    }
}

/// Why a stack in `status` cannot take a change set, if it cannot.
pub(crate) fn not_updatable(status: &str) -> Option<&'static str> {
    match status {
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => {
            Some("its creation failed; delete the stack (resources with a Retain policy stay) and deploy again")
        }
        "UPDATE_ROLLBACK_FAILED" => {
            Some("continue the rollback first (aws cloudformation continue-update-rollback), then deploy again")
        }
        "DELETE_FAILED" => Some("its deletion failed; finish deleting it, then deploy again"),
        _ => None,
    }
}

fn millis() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default()
}

/// `acmectl-<unix milliseconds>-<stack>`: unique even where change sets of parallel stacks
/// share a millisecond and a service looks them up by name alone (emulators do).
fn change_set_name(stack_name: &str) -> String {
    let name = format!("acmectl-{}-{stack_name}", millis());
    name.chars().take(128).collect()
}

/// How long an executed change set may take to start changing its stack.
const EXECUTION_START_TIMEOUT: Duration = Duration::from_secs(300);

/// Sleeps between polls with exponential backoff, up to a deadline.
pub(crate) struct Wait {
    backoff: Backoff,
    started: Instant,
    next: Duration,
}

impl Wait {
    pub(crate) fn new(backoff: Backoff) -> Self {
        Wait { backoff, started: Instant::now(), next: backoff.first }
    }

    /// Sleep before the next poll; `Err(waited)` once the timeout is spent.
    pub(crate) async fn pause(&mut self) -> Result<(), Duration> {
        let waited = self.started.elapsed();
        if waited >= self.backoff.timeout {
            return Err(waited);
        }
        let nap = self.next.min(self.backoff.timeout - waited);
        tokio::time::sleep(nap).await;
        self.next = (self.next * 2).min(self.backoff.max);
        Ok(())
    }
}

/// How [`Deployer::settled`] reads `REVIEW_IN_PROGRESS`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Review {
    /// Before a change set: a stack that only holds unexecuted change sets.
    Settled,
    /// After ExecuteChangeSet: execution has not begun yet.
    Pending,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_stacks_say_how_to_recover_and_healthy_ones_update() {
        for status in ["ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED"] {
            assert!(not_updatable(status).is_some(), "{status}");
        }
        for status in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"] {
            assert_eq!(not_updatable(status), None, "{status}");
        }
    }

    #[tokio::test]
    async fn a_dispatch_failure_says_why() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
        let options = crate::config::Options {
            region: Some("us-east-1".into()),
            endpoint_url: Some(format!("http://127.0.0.1:{closed}")),
            credentials: Some(aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "test")),
            ..Default::default()
        };
        let sdk = crate::config::load(&options, "us-east-1").await;
        let sdk = sdk.to_builder().retry_config(aws_config::retry::RetryConfig::disabled()).build();
        let err = Deployer::new(&sdk).describe("acme-network").await.expect_err("nothing listens there");
        let text = err.to_string();
        assert!(text.starts_with("acme-network: DescribeStacks failed: dispatch failure"), "{text}");
        assert!(text.to_ascii_lowercase().contains("connection refused"), "the cause is there: {text}");
    }

    #[tokio::test(start_paused = true)]
    async fn waits_double_up_to_the_cap_and_stop_at_the_timeout() {
        let backoff =
            Backoff { first: Duration::from_secs(1), max: Duration::from_secs(4), timeout: Duration::from_secs(20) };
        let mut wait = Wait { backoff, started: Instant::now(), next: backoff.first };
        let mut naps = vec![];
        loop {
            let before = tokio::time::Instant::now();
            if wait.pause().await.is_err() {
                break;
            }
            naps.push(before.elapsed().as_secs());
        }
        assert_eq!(naps, [1, 2, 4, 4, 4, 4, 1], "the last nap ends at the deadline");
    }
}
