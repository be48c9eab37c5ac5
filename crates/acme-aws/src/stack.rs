//! One stack through a CloudFormation change set: create it, read what it would change,
//! execute it, wait for the stack to settle, read the outputs.
//!
//! Creating and executing are separate calls ([`Deployer::prepare`], [`Deployer::execute`])
//! so that a guard can look at the changes in between (replacement of a database, ...);
//! [`Deployer::deploy_stack`] does both.

use crate::Error;
use crate::error::{is_missing_stack, means_no_changes};
use aws_config::SdkConfig;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter, Replacement, StackStatus};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Deploys stacks through change sets. Cheap to clone: clones share the SDK client.
#[derive(Clone)]
pub struct Deployer {
    pub(crate) cfn: Client,
    backoff: Backoff,
    progress: Option<Progress>,
}

/// Where [`Event`]s go.
type Progress = Arc<dyn Fn(&Event) + Send + Sync>;

/// How to poll CloudFormation while a change set is created or a stack changes: first
/// after `first`, then doubling up to `max` between polls, giving up after `timeout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    pub timeout: Duration,
}

impl Default for Backoff {
    /// Change sets take seconds; a Multi-AZ database takes most of an hour to create.
    fn default() -> Self {
        Backoff { first: Duration::from_secs(2), max: Duration::from_secs(20), timeout: Duration::from_secs(3 * 3600) }
    }
}

/// Something that happened during a deploy, for live progress.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A change set is ready and about to run.
    ChangeSet {
        stack_name: String,
        change_set: String,
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
    Deployed(Deployed),
}

/// A stack as CloudFormation reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackState {
    pub stack_id: String,
    pub status: String,
    pub reason: Option<String>,
    /// Output name → value.
    pub outputs: BTreeMap<String, String>,
}

impl StackState {
    fn in_progress(&self) -> bool {
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
}

/// One resource change of a change set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `Add`, `Modify`, `Remove`, `Import` or `Dynamic`.
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// For `Modify`: `True`, `False` or `Conditional` (replaced if a dynamic value changed).
    pub replacement: Option<String>,
}

impl Change {
    /// Whether the change may delete the resource: a removal, or a replacement that may
    /// happen. What the data-loss guard looks at for stateful resources.
    pub fn may_destroy(&self) -> bool {
        self.action == "Remove" || matches!(self.replacement.as_deref(), Some("True" | "Conditional"))
    }
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

impl Deployer {
    pub fn new(sdk: &SdkConfig) -> Self {
        Deployer { cfn: Client::new(sdk), backoff: Backoff::default(), progress: None }
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

    fn emit(&self, event: Event) {
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
        let deployed = match self.prepare(stack_name, template_body, parameters).await? {
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
        }))
    }

    /// Create a change set for the stack (a `CREATE` one if the stack does not exist yet)
    /// and wait until CloudFormation has worked out its changes. A stack that is busy is
    /// waited for first. "No changes" deletes the change set and gives [`Prepared::NoChanges`].
    pub async fn prepare(
        &self,
        stack_name: &str,
        template_body: &str,
        parameters: &BTreeMap<String, String>,
    ) -> Result<Prepared, Error> {
        let kind = match self.settled(stack_name, Review::Settled).await? {
            None => ChangeSetKind::Create,
            // A stack whose first change set was never executed is created by a new one.
            Some(s) if s.status == "REVIEW_IN_PROGRESS" => ChangeSetKind::Create,
            Some(s) => {
                if let Some(help) = not_updatable(&s.status) {
                    return Err(Error::NotUpdatable { stack_name: stack_name.to_owned(), status: s.status, help });
                }
                ChangeSetKind::Update
            }
        };
        let name = change_set_name();
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
            .template_body(template_body)
            .set_parameters(Some(
                parameters
                    .iter()
                    .map(|(k, v)| Parameter::builder().parameter_key(k).parameter_value(v).build())
                    .collect(),
            ))
            .capabilities(Capability::CapabilityNamedIam)
            .send()
            .await;
        if let Err(e) = created {
            use aws_sdk_cloudformation::error::ProvideErrorMetadata;
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
                    changes.extend(out.changes().iter().filter_map(|c| c.resource_change()).map(|r| Change {
                        action: r.action().map(|a| a.as_str().to_owned()).unwrap_or_default(),
                        logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                        resource_type: r.resource_type().unwrap_or_default().to_owned(),
                        replacement: r.replacement().map(Replacement::as_str).map(str::to_owned),
                    }));
                    token = out.next_token().map(str::to_owned);
                    if token.is_none() {
                        return Ok(Prepared::Ready(ChangeSet {
                            stack_name: stack_name.to_owned(),
                            name,
                            kind,
                            changes,
                        }));
                    }
                }
                Some(ChangeSetStatus::Failed) => {
                    let reason = out.status_reason().unwrap_or("no reason given").to_owned();
                    if means_no_changes(&reason) {
                        self.cfn
                            .delete_change_set()
                            .stack_name(stack_name)
                            .change_set_name(&name)
                            .send()
                            .await
                            .map_err(|e| Error::aws(stack_name, "DeleteChangeSet", e))?;
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

    /// Execute a ready change set and wait for the stack to settle. Anything but
    /// `CREATE_COMPLETE` / `UPDATE_COMPLETE` is an error that carries the first failure
    /// CloudFormation reported for this execution.
    pub async fn execute(&self, change_set: &ChangeSet) -> Result<StackState, Error> {
        let stack_name = change_set.stack_name.as_str();
        self.cfn
            .execute_change_set()
            .stack_name(stack_name)
            .change_set_name(&change_set.name)
            // Stamps this execution's stack events, so failures can be told from older ones.
            .client_request_token(&change_set.name)
            .send()
            .await
            .map_err(|e| Error::aws(stack_name, "ExecuteChangeSet", e))?;
        // Execution starts asynchronously: a new stack stays in REVIEW_IN_PROGRESS for a moment
        // after ExecuteChangeSet returns, so here that status means "not started yet".
        let state = self.settled(stack_name, Review::Pending).await?.ok_or_else(|| Error::StackFailed {
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
        let reason = match self.first_failure(stack_name, &change_set.name).await {
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

    /// Wait until the stack is in no `*_IN_PROGRESS` status; `None` if it does not exist.
    /// `review` says whether `REVIEW_IN_PROGRESS` (created by a change set, never executed)
    /// counts as settled.
    async fn settled(&self, stack_name: &str, review: Review) -> Result<Option<StackState>, Error> {
        let mut wait = Wait::new(self.backoff);
        let mut last_status = String::new();
        loop {
            let Some(state) = self.describe(stack_name).await? else { return Ok(None) };
            if state.status != last_status {
                last_status.clone_from(&state.status);
                self.emit(Event::Status { stack_name: stack_name.to_owned(), status: state.status.clone() });
            }
            if !state.in_progress() || (review == Review::Settled && state.status == "REVIEW_IN_PROGRESS") {
                return Ok(Some(state));
            }
            wait.pause().await.map_err(|waited| Error::Timeout {
                stack_name: stack_name.to_owned(),
                what: "the stack to settle",
                status: state.status,
                waited,
            })?;
        }
    }

    /// The earliest resource failure of the execution stamped `token`, as
    /// `LogicalId (Type): reason`. Best effort: `None` when the events say nothing (some
    /// emulators record stack-level events only) or cannot be read.
    async fn first_failure(&self, stack_name: &str, token: &str) -> Option<String> {
        let out = self.cfn.describe_stack_events().stack_name(stack_name).send().await.ok()?;
        // Events come newest first; oldest first, the first failure is the one that started it.
        out.stack_events()
            .iter()
            .rev()
            .filter(|e| e.client_request_token() == Some(token))
            .filter(|e| e.resource_status().is_some_and(|s| s.as_str().ends_with("_FAILED")))
            .filter_map(|e| {
                let reason = e.resource_status_reason()?;
                let id = e.logical_resource_id().unwrap_or("?");
                let ty = e.resource_type().unwrap_or("?");
                Some(format!("{id} ({ty}): {reason}"))
            })
            .next()
    }
}

/// Why a stack in `status` cannot take a change set, if it cannot.
fn not_updatable(status: &str) -> Option<&'static str> {
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

/// Unique per stack and sortable: `acmectl-<unix milliseconds>`.
fn change_set_name() -> String {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    format!("acmectl-{millis}")
}

/// Sleeps between polls with exponential backoff, up to a deadline.
struct Wait {
    backoff: Backoff,
    started: Instant,
    next: Duration,
}

impl Wait {
    fn new(backoff: Backoff) -> Self {
        Wait { backoff, started: Instant::now(), next: backoff.first }
    }

    /// Sleep before the next poll; `Err(waited)` once the timeout is spent.
    async fn pause(&mut self) -> Result<(), Duration> {
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
enum Review {
    /// Before a change set: a stack that only holds unexecuted change sets.
    Settled,
    /// After ExecuteChangeSet: execution has not begun yet.
    Pending,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removals_and_possible_replacements_may_destroy() {
        let change = |action: &str, replacement: Option<&str>| Change {
            action: action.into(),
            logical_id: "Database".into(),
            resource_type: "AWS::RDS::DBInstance".into(),
            replacement: replacement.map(Into::into),
        };
        assert!(change("Remove", None).may_destroy());
        assert!(change("Modify", Some("True")).may_destroy());
        assert!(change("Modify", Some("Conditional")).may_destroy());
        assert!(!change("Modify", Some("False")).may_destroy());
        assert!(!change("Add", None).may_destroy());
    }

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
