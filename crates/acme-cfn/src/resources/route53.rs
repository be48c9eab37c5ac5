//! `AWS::Route53::*` resource properties.

use crate::{Expr, ResourceProperties};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostedZone {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosted_zone_config: Option<HostedZoneConfig>,
    /// Set only for private zones: the VPCs that may resolve it.
    #[serde(rename = "VPCs", skip_serializing_if = "Vec::is_empty")]
    pub vpcs: Vec<Vpc>,
    /// Public zones only: the us-east-1 log group Route 53 writes the zone's DNS queries to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_logging_config: Option<QueryLoggingConfig>,
}

impl ResourceProperties for HostedZone {
    const TYPE: &'static str = "AWS::Route53::HostedZone";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostedZoneConfig {
    pub comment: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryLoggingConfig {
    pub cloud_watch_logs_log_group_arn: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Vpc {
    #[serde(rename = "VPCId")]
    pub vpc_id: Expr,
    #[serde(rename = "VPCRegion")]
    pub vpc_region: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecordSet {
    pub hosted_zone_id: Expr,
    pub name: String,
    #[serde(rename = "Type")]
    pub record_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias_target: Option<AliasTarget>,
    #[serde(rename = "TTL", skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_records: Vec<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_identifier: Option<String>,
    /// 0..=255; with `set_identifier`, the record's share among the records of its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
}

impl ResourceProperties for RecordSet {
    const TYPE: &'static str = "AWS::Route53::RecordSet";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasTarget {
    #[serde(rename = "DNSName")]
    pub dns_name: Expr,
    pub hosted_zone_id: Expr,
    pub evaluate_target_health: bool,
}
