//! `AWS::Logs::*` resource properties.

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
