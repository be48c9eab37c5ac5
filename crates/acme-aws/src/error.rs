use crate::Deployed;
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
         over CloudFormation's limit of {limit} bytes for a template sent inline\n\
         help: split the stack; sending large templates through S3 (TemplateURL) is not implemented yet"
    )]
    TemplateTooLarge { stack_name: String, yaml_bytes: usize, json_bytes: usize, limit: usize },

    /// CloudFormation rejected the change set (invalid template, missing capability, ...).
    #[error("{stack_name}: change set {change_set} {status}: {reason}")]
    ChangeSetFailed { stack_name: String, change_set: String, status: String, reason: String },

    /// The change set ran and the stack did not reach `CREATE_COMPLETE` / `UPDATE_COMPLETE`.
    #[error("{stack_name}: change set {change_set} ended in {status}: {reason}")]
    StackFailed { stack_name: String, change_set: String, status: String, reason: String },

    #[error("{stack_name} is in {status} and cannot be updated\nhelp: {help}")]
    NotUpdatable { stack_name: String, status: String, help: &'static str },

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
    #[error("{}", Failures(failures))]
    Failed {
        /// The stacks that did deploy, in plan order.
        deployed: Vec<Deployed>,
        failures: Vec<Error>,
    },
}

struct Failures<'a>(&'a [Error]);

impl fmt::Display for Failures<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{n} stack{} failed to deploy", if n == 1 { "" } else { "s" })?;
        for e in self.0 {
            write!(f, "\n- {e}")?;
        }
        Ok(())
    }
}

impl Error {
    /// Wrap an SDK error, keeping its code and the whole chain of causes.
    pub(crate) fn aws<E>(stack_name: &str, operation: &'static str, err: SdkError<E>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        Error::Aws {
            stack_name: stack_name.to_owned(),
            operation,
            code: err.code().map(str::to_owned),
            message: DisplayErrorContext(&err).to_string(),
        }
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
            failures: vec![
                Error::MissingParameter { stack_name: "acme-edge".into(), parameter: "VpcId".into() },
                Error::UnknownStack("backup".into()),
            ],
        };
        assert_eq!(
            e.to_string(),
            "2 stacks failed to deploy\n- acme-edge: parameter VpcId has no value and no default\n\
             - stack backup is not part of this platform's plan"
        );
    }
}
