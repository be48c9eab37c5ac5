//! `AWS::Backup::*` resource properties.

use super::iam::PolicyDocument;
use crate::{Expr, ResourceProperties};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BackupVault {
    /// Required by CloudFormation: `[a-zA-Z0-9-_]{2,50}`.
    pub backup_vault_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_key_arn: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_policy: Option<PolicyDocument>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_configuration: Option<LockConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Notifications>,
}

impl ResourceProperties for BackupVault {
    const TYPE: &'static str = "AWS::Backup::BackupVault";
}

/// Vault Lock. Without `changeable_for_days` the lock stays in governance mode; with it, the
/// lock becomes immutable (compliance mode) once that many days have passed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LockConfiguration {
    pub min_retention_days: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retention_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changeable_for_days: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Notifications {
    #[serde(rename = "SNSTopicArn")]
    pub sns_topic_arn: Expr,
    pub backup_vault_events: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BackupPlan {
    pub backup_plan: BackupPlanResourceType,
}

impl ResourceProperties for BackupPlan {
    const TYPE: &'static str = "AWS::Backup::BackupPlan";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BackupPlanResourceType {
    pub backup_plan_name: String,
    pub backup_plan_rule: Vec<BackupRule>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BackupRule {
    pub rule_name: String,
    /// The vault's name (not its ARN).
    pub target_backup_vault: Expr,
    /// `cron(...)` in UTC unless `ScheduleExpressionTimezone` says otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_expression: Option<String>,
    /// Minutes after the scheduled time a job may still start (at least 60).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_window_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_window_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub copy_actions: Vec<CopyAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_continuous_backup: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Lifecycle {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_after_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub move_to_cold_storage_after_days: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CopyAction {
    pub destination_backup_vault_arn: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BackupSelection {
    pub backup_plan_id: Expr,
    pub backup_selection: BackupSelectionResourceType,
}

impl ResourceProperties for BackupSelection {
    const TYPE: &'static str = "AWS::Backup::BackupSelection";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BackupSelectionResourceType {
    pub selection_name: String,
    pub iam_role_arn: Expr,
    /// Resource ARNs (or ARN patterns) to back up.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Expr>,
}
