//! `AWS::Logs::*` resource properties.

use super::iam::PolicyDocument;
use crate::{Expr, ResourceProperties};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogGroup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<Expr>,
    pub retention_in_days: u32,
    pub kms_key_id: Expr,
}

impl ResourceProperties for LogGroup {
    const TYPE: &'static str = "AWS::Logs::LogGroup";
}

/// A CloudWatch Logs resource policy: lets AWS services (Route 53 query logging, ...) write
/// to log groups. An account holds at most 10 per Region.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourcePolicy {
    pub policy_name: String,
    pub policy_document: PolicyDocument,
}

impl ResourceProperties for ResourcePolicy {
    const TYPE: &'static str = "AWS::Logs::ResourcePolicy";
}
