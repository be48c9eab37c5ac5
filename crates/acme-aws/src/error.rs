use crate::{Danger, Deployed};
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;
use std::fmt;
use std::time::Duration;

/// What can go wrong deploying stacks. Each variant names the CloudFormation stack
/// (`acme-edge`) and says what to do where there is something to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An AWS call failed. `message` is the SDK error with its whole cause chain (a
    /// "dispatch failure" says which connection, TLS or credential problem is behind it).
    #[error("{stack_name}: {operation} failed: {message}")]
    Aws {
        stack_name: String,
        operation: &'static str,
        /// The service's error code (`ValidationError`, `Throttling`), when AWS answered.
        code: Option<String>,
        message: String,
    },

    #[error(
        "{stack_name}: the template is {yaml_bytes} bytes as YAML and {json_bytes} bytes as compact JSON, \
         over CloudFormation's limit of {limit} bytes for a template, even through S3\n\
         help: split the platform's services into more than one acme.yaml"
    )]
    TemplateTooLarge { stack_name: String, yaml_bytes: usize, json_bytes: usize, limit: usize },

    /// A template must go through the staging bucket, and the keys stack, which holds it, is
    /// neither deployed with it nor part of this run.
    #[error(
        "{stack_name}: the template is over the 51,200 bytes CloudFormation takes inline, so it goes through \
         the staging bucket, which the keys stack has not created yet\n\
         help: deploy the keys stack with it (acmectl deploy), or first: acmectl deploy --stack keys"
    )]
    NoStagingBucket { stack_name: String },

    /// CloudFormation rejected the change set (invalid template, missing capability, ...).
    #[error("{stack_name}: change set {change_set} {status}: {reason}")]
    ChangeSetFailed { stack_name: String, change_set: String, status: String, reason: String },

    /// The change set ran and the stack did not reach `CREATE_COMPLETE` / `UPDATE_COMPLETE`.
    #[error("{stack_name}: change set {change_set} ended in {status}: {reason}")]
    StackFailed { stack_name: String, change_set: String, status: String, reason: String },

    #[error("{stack_name} is in {status} and cannot be updated\nhelp: {help}")]
    NotUpdatable { stack_name: String, status: String, help: &'static str },

    /// The last update failed and its rollback failed too: CloudFormation takes no change
    /// until the rollback is continued. `failed` lists the resources that would not roll
    /// back, as `LogicalId (Type): reason`; `skip` their logical ids.
    #[error(
        "{stack_name} is in UPDATE_ROLLBACK_FAILED: its last update failed, and so did the rollback{}\n\
         help: fix the cause above (often a resource changed or deleted outside CloudFormation), then run\n  \
         aws cloudformation continue-update-rollback --stack-name {stack_name} --region {region}\n\
         {}and deploy again",
        failed.iter().map(|f| format!("\n  would not roll back: {f}")).collect::<String>(),
        if skip.is_empty() { String::new() } else { format!(
            "If the rollback fails again on the same resources, skip them (CloudFormation then leaves them as they \
             are; make them match the template by hand):\n  aws cloudformation continue-update-rollback \
             --stack-name {stack_name} --region {region} --resources-to-skip {}\n", skip.join(" ")) }
    )]
    UpdateRollbackFailed { stack_name: String, region: String, failed: Vec<String>, skip: Vec<String> },

    /// A status acmectl has no rule for: it changes nothing rather than guess.
    #[error(
        "{stack_name} is in {status}, a state acmectl does not expect{}\n\
         help: look at the stack's events (aws cloudformation describe-stack-events --stack-name {stack_name}); \
         acmectl changed nothing",
        reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default()
    )]
    UnexpectedState { stack_name: String, status: String, reason: Option<String> },

    #[error("{stack_name}: deleting it ended in {status}: {reason}\nhelp: {}", delete_help(stack_name))]
    DeleteFailed { stack_name: String, status: String, reason: String },

    #[error("{stack_name}: cannot read {what}: {reason}")]
    Unreadable { stack_name: String, what: &'static str, reason: String },

    /// The data-loss guard stopped the deploy before anything changed.
    #[error(
        "the deploy would destroy data; nothing was changed:{}\n\
         help: if that is intended, name each resource: {}",
        dangers.iter().map(|d| format!("\n  - {d}")).collect::<String>(),
        dangers.iter().map(|d| format!("--allow-replace {}/{}", d.stack, d.change.logical_id)).collect::<Vec<_>>().join(" ")
    )]
    Guarded { dangers: Vec<Danger> },

    /// Ctrl-C: no new stack was started; those already running go on in CloudFormation.
    #[error(
        "interrupted: no further stack was started{}{}\n\
         help: run the same deploy again; it waits for running stacks and carries on",
        if running.is_empty() { String::new() } else {
            format!("\nstill running in CloudFormation (it finishes them): {}", running.join(", ")) },
        if not_started.is_empty() { String::new() } else { format!("\nnot started: {}", not_started.join(", ")) }
    )]
    Interrupted { running: Vec<String>, not_started: Vec<String> },

    #[error(
        "no AWS credentials: {0}\n\
         help: acmectl uses the AWS CLI's credential chain: set AWS_PROFILE or pass --profile (after \
         `aws sso login` for SSO profiles), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a \
         role is attached"
    )]
    NoCredentials(String),

    /// Destroy stopped before deleting anything: these resources refuse deletion.
    #[error(
        "destroy would fail on resources with deletion protection; nothing was deleted:{}\n\
         help: deletion protection is on so that nobody deletes them by accident; if you mean to, turn it off:{}\n\
         then run acmectl destroy again",
        protected.iter().map(|p| format!("\n  - {}/{} ({}) {}", p.stack_name, p.logical_id, p.resource_type, p.physical_id)).collect::<String>(),
        protected.iter().map(|p| format!("\n  {}", p.command)).collect::<String>()
    )]
    Protected { protected: Vec<crate::Protection> },

    /// Route 53 refused a change batch because a record is not what the batch expects: the
    /// lock or the record of intent changed under this run (another run, a rollback).
    #[error("{subject}: Route 53 refused the change, a record changed under this run: {message}")]
    Conflict { subject: String, message: String },

    /// Targets stayed unhealthy in their target groups past the wait.
    #[error("{0}")]
    NotHealthy(String),

    /// The account cannot hold the platform as described (checked before any change).
    #[error("{0}")]
    Preflight(String),

    #[error("{stack_name}: still {status} after waiting {waited:?} for {what}")]
    Timeout { stack_name: String, what: &'static str, status: String, waited: Duration },

    #[error(
        "{stack_name}: parameter {parameter} takes output {output} of the {upstream} stack, {why}\n\
         help: deploy {upstream} first, or give {parameter} a value"
    )]
    MissingInput { stack_name: String, parameter: String, upstream: String, output: String, why: String },

    #[error("{stack_name}: parameter {parameter} has no value and no default")]
    MissingParameter { stack_name: String, parameter: String },

    #[error("stack {0} is not part of this platform's plan")]
    UnknownStack(String),

    #[error("parameter {0} was given a value, but no stack being deployed takes it")]
    UnusedParameter(String),

    /// Some stacks of a wave failed; stacks of later waves were not started.
    #[error("{}", Failures(failures, skipped))]
    Failed {
        /// The stacks that did deploy, in plan order.
        deployed: Vec<Deployed>,
        failures: Vec<Error>,
        /// Stacks not started because a stack they depend on failed.
        skipped: Vec<String>,
    },
}

struct Failures<'a>(&'a [Error], &'a [String]);

impl fmt::Display for Failures<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{n} stack{} failed", if n == 1 { "" } else { "s" })?;
        for e in self.0 {
            write!(f, "\n- {e}")?;
        }
        if !self.1.is_empty() {
            write!(f, "\nnot started, as they depend on a failed stack: {}", self.1.join(", "))?;
        }
        write!(f, "\nthe other stacks are as deployed; fix the cause and deploy again to carry on")
    }
}

fn delete_help(stack_name: &str) -> String {
    format!(
        "see the reason above; once it is fixed (a resource in use, deletion protection on), run acmectl destroy \
         again, or aws cloudformation delete-stack --stack-name {stack_name} --retain-resources <LogicalId>... \
         to leave resources that cannot go behind"
    )
}

impl Error {
    /// Wrap an SDK error, keeping its code and the whole chain of causes.
    pub(crate) fn aws<E>(stack_name: &str, operation: &'static str, err: SdkError<E>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        // AWS answered: its code and message say it all. Otherwise (no connection, TLS,
        // credentials, timeouts) the whole chain of causes is the message.
        let message = match (&err, err.code(), err.message()) {
            (SdkError::ServiceError(_), Some(code), Some(message)) => format!("{code}: {message}"),
            _ => DisplayErrorContext(&err).to_string(),
        };
        Error::Aws { stack_name: stack_name.to_owned(), operation, code: err.code().map(str::to_owned), message }
    }
}

/// `DescribeStacks` answers a stack that is not there with a `ValidationError`.
pub(crate) fn is_missing_stack<E: ProvideErrorMetadata>(err: &SdkError<E>) -> bool {
    err.code() == Some("ValidationError") && err.message().is_some_and(|m| m.contains("does not exist"))
}

/// CloudFormation's ways of saying "nothing to change": a failed change set on AWS, and a
/// `CreateChangeSet` error on emulators that check early.
pub(crate) fn means_no_changes(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_wordings_of_no_changes_are_recognized() {
        assert!(means_no_changes(
            "The submitted information didn't contain changes. Submit different information to create a change set."
        ));
        assert!(means_no_changes("No updates are to be performed."));
        assert!(!means_no_changes("Template format error: Unresolved resource dependencies [Vpc]"));
    }

    #[test]
    fn failures_list_every_stack() {
        let e = Error::Failed {
            deployed: vec![],
            skipped: vec!["acme-services".into()],
            failures: vec![
                Error::MissingParameter { stack_name: "acme-edge".into(), parameter: "VpcId".into() },
                Error::UnknownStack("backup".into()),
            ],
        };
        assert_eq!(
            e.to_string(),
            "2 stacks failed\n- acme-edge: parameter VpcId has no value and no default\n\
             - stack backup is not part of this platform's plan\n\
             not started, as they depend on a failed stack: acme-services\n\
             the other stacks are as deployed; fix the cause and deploy again to carry on"
        );
    }
}
