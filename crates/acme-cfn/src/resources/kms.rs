//! `AWS::KMS::*` resource properties.

use super::iam::PolicyDocument;
use crate::{Expr, ResourceProperties};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Key {
    pub description: String,
    pub enable_key_rotation: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_period_in_days: Option<u32>,
    pub key_policy: PolicyDocument,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_window_in_days: Option<u32>,
}

impl ResourceProperties for Key {
    const TYPE: &'static str = "AWS::KMS::Key";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alias {
    pub alias_name: String,
    pub target_key_id: Expr,
}

impl ResourceProperties for Alias {
    const TYPE: &'static str = "AWS::KMS::Alias";
}
