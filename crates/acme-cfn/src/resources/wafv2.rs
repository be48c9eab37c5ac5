//! `AWS::WAFv2::*` resource properties.
//!
//! Only the statement kinds acmectl writes are typed (managed rule groups and rate-based
//! rules); add others here as they are needed.

use crate::{Expr, ResourceProperties};
use serde::Serialize;

/// An action or override with no settings, written as `{}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Empty {}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WebAcl {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `REGIONAL` (ALB, API Gateway, ...) or `CLOUDFRONT`.
    pub scope: String,
    pub default_action: DefaultAction,
    pub visibility_config: VisibilityConfig,
    pub rules: Vec<Rule>,
}

impl ResourceProperties for WebAcl {
    const TYPE: &'static str = "AWS::WAFv2::WebACL";
}

/// Exactly one of `allow` / `block`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DefaultAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block: Option<Empty>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VisibilityConfig {
    pub sampled_requests_enabled: bool,
    pub cloud_watch_metrics_enabled: bool,
    /// `[\w#:.\-/]{1,128}`.
    pub metric_name: String,
}

/// A rule: `action` for rules with their own statement, `override_action` for rule groups.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rule {
    pub name: String,
    pub priority: u32,
    pub statement: Statement,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<RuleAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_action: Option<OverrideAction>,
    pub visibility_config: VisibilityConfig,
}

/// Exactly one of the actions.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<Empty>,
}

/// `None` keeps the rule group's own actions; `Count` only counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OverrideAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub none: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<Empty>,
}

/// Exactly one statement kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_rule_group_statement: Option<ManagedRuleGroupStatement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_based_statement: Option<RateBasedStatement>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedRuleGroupStatement {
    pub vendor_name: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded_rules: Vec<ExcludedRule>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExcludedRule {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RateBasedStatement {
    /// Requests per `evaluation_window_sec` and aggregation key, 10..=2_000_000_000.
    pub limit: u64,
    /// `IP`, `FORWARDED_IP`, `CONSTANT` or `CUSTOM_KEYS`.
    pub aggregate_key_type: String,
    /// 60, 120, 300 or 600 (default 300).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_window_sec: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WebAclAssociation {
    pub resource_arn: Expr,
    #[serde(rename = "WebACLArn")]
    pub web_acl_arn: Expr,
}

impl ResourceProperties for WebAclAssociation {
    const TYPE: &'static str = "AWS::WAFv2::WebACLAssociation";
}

/// Web ACL logging. A CloudWatch Logs destination must be a log group named
/// `aws-waf-logs-*`, given by its ARN without the trailing `:*`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfiguration {
    pub resource_arn: Expr,
    pub log_destination_configs: Vec<Expr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redacted_fields: Vec<FieldToMatch>,
}

impl ResourceProperties for LoggingConfiguration {
    const TYPE: &'static str = "AWS::WAFv2::LoggingConfiguration";
}

/// The part of a request a field refers to; only single headers are typed so far.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FieldToMatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_header: Option<SingleHeader>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SingleHeader {
    /// Lowercase header name.
    pub name: String,
}
