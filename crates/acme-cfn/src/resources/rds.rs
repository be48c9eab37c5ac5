//! `AWS::RDS::*` resource properties.

use crate::{Expr, ExprList, ResourceProperties};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DbSubnetGroup {
    #[serde(rename = "DBSubnetGroupDescription")]
    pub db_subnet_group_description: String,
    #[serde(rename = "SubnetIds")]
    pub subnet_ids: ExprList,
}

impl ResourceProperties for DbSubnetGroup {
    const TYPE: &'static str = "AWS::RDS::DBSubnetGroup";
}

/// A DB parameter group. No name is set, so a family change (major upgrade) can replace it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DbParameterGroup {
    pub description: String,
    /// `postgres17`, `mysql8.4`, ...: engine plus major version.
    pub family: String,
    /// Parameter name to value. Values are strings, as RDS documents them.
    pub parameters: BTreeMap<String, String>,
}

impl ResourceProperties for DbParameterGroup {
    const TYPE: &'static str = "AWS::RDS::DBParameterGroup";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OptionGroup {
    pub engine_name: String,
    /// `8.0`, `8.4`: the option group's engine major version.
    pub major_engine_version: String,
    pub option_group_description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub option_configurations: Vec<OptionConfiguration>,
}

impl ResourceProperties for OptionGroup {
    const TYPE: &'static str = "AWS::RDS::OptionGroup";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OptionConfiguration {
    pub option_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub option_settings: Vec<OptionSetting>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OptionSetting {
    pub name: String,
    pub value: String,
}

/// An RDS DB instance (not Aurora). Optional properties are left to RDS defaults when `None`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DbInstance {
    #[serde(rename = "DBInstanceIdentifier", skip_serializing_if = "Option::is_none")]
    pub db_instance_identifier: Option<String>,
    pub engine: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    #[serde(rename = "DBInstanceClass")]
    pub db_instance_class: String,
    /// GiB, a string in the CloudFormation schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocated_storage: Option<String>,
    /// Storage autoscaling ceiling in GiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_allocated_storage: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_encrypted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<Expr>,
    #[serde(rename = "DBName", skip_serializing_if = "Option::is_none")]
    pub db_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_username: Option<String>,
    /// Let RDS generate the master password and keep it in Secrets Manager.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manage_master_user_password: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_user_secret: Option<MasterUserSecret>,
    /// A string in the CloudFormation schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(rename = "DBSubnetGroupName", skip_serializing_if = "Option::is_none")]
    pub db_subnet_group_name: Option<Expr>,
    #[serde(rename = "VPCSecurityGroups", skip_serializing_if = "Vec::is_empty")]
    pub vpc_security_groups: Vec<Expr>,
    #[serde(rename = "DBParameterGroupName", skip_serializing_if = "Option::is_none")]
    pub db_parameter_group_name: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub option_group_name: Option<Expr>,
    #[serde(rename = "MultiAZ", skip_serializing_if = "Option::is_none")]
    pub multi_az: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publicly_accessible: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_retention_period: Option<u8>,
    /// `hh24:mi-hh24:mi`, UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_backup_window: Option<String>,
    /// `ddd:hh24:mi-ddd:hh24:mi`, UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_maintenance_window: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_minor_version_upgrade: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_major_version_upgrade: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<bool>,
    /// `false` keeps automated backups (point-in-time recovery) after the instance is deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_automated_backups: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_tags_to_snapshot: Option<bool>,
    #[serde(rename = "EnableIAMDatabaseAuthentication", skip_serializing_if = "Option::is_none")]
    pub enable_iam_database_authentication: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_performance_insights: Option<bool>,
    #[serde(rename = "PerformanceInsightsKMSKeyId", skip_serializing_if = "Option::is_none")]
    pub performance_insights_kms_key_id: Option<Expr>,
    /// Days: 7 (free tier), a multiple of 31 up to 713, or 731.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performance_insights_retention_period: Option<u32>,
    /// Enhanced Monitoring interval in seconds: 0, 1, 5, 10, 15, 30 or 60.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitoring_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitoring_role_arn: Option<Expr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enable_cloudwatch_logs_exports: Vec<String>,
}

impl ResourceProperties for DbInstance {
    const TYPE: &'static str = "AWS::RDS::DBInstance";
}

/// The RDS-managed master secret; `SecretArn` is read back with `Fn::GetAtt MasterUserSecret.SecretArn`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MasterUserSecret {
    pub kms_key_id: Expr,
}
