//! `AWS::ElasticLoadBalancingV2::*` resource properties.

use crate::{Cond, Expr, ExprList, ResourceProperties};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Expr>,
    /// `application`, `network` or `gateway`.
    #[serde(rename = "Type")]
    pub load_balancer_type: String,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    /// `ipv4`, `dualstack` or `dualstack-without-public-ipv4`.
    pub ip_address_type: String,
    pub subnets: ExprList,
    pub security_groups: Vec<Cond<Expr>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub load_balancer_attributes: Vec<Attribute>,
}

impl ResourceProperties for LoadBalancer {
    const TYPE: &'static str = "AWS::ElasticLoadBalancingV2::LoadBalancer";
}

/// A `Key`/`Value` attribute of a load balancer, listener or target group.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attribute {
    pub key: String,
    pub value: Expr,
}

impl Attribute {
    pub fn new(key: impl Into<String>, value: impl Into<Expr>) -> Self {
        Attribute { key: key.into(), value: value.into() }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Listener {
    pub load_balancer_arn: Expr,
    pub port: u16,
    /// `HTTP` or `HTTPS` for an Application Load Balancer.
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl_policy: Option<String>,
    /// The default certificate (exactly one for HTTPS); more go in `ListenerCertificate`s.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<Certificate>,
    pub default_actions: Vec<Action>,
}

impl ResourceProperties for Listener {
    const TYPE: &'static str = "AWS::ElasticLoadBalancingV2::Listener";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Certificate {
    pub certificate_arn: Expr,
}

/// Extra certificates of an HTTPS listener, served by SNI. One certificate per resource.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListenerCertificate {
    pub listener_arn: Expr,
    pub certificates: Vec<Certificate>,
}

impl ResourceProperties for ListenerCertificate {
    const TYPE: &'static str = "AWS::ElasticLoadBalancingV2::ListenerCertificate";
}

/// A listener or rule action. Set the config that matches `action_type`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Action {
    /// `forward`, `redirect`, `fixed-response`, ...
    #[serde(rename = "Type")]
    pub action_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_group_arn: Option<Expr>,
    /// A forward to several target groups, each taking a share of the requests by weight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_config: Option<ForwardConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_config: Option<RedirectConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_response_config: Option<FixedResponseConfig>,
}

impl Action {
    pub fn forward(target_group_arn: Expr) -> Self {
        Action {
            action_type: "forward".into(),
            target_group_arn: Some(target_group_arn),
            forward_config: None,
            redirect_config: None,
            fixed_response_config: None,
        }
    }

    /// Forward to several target groups by weight (0..=999 each; at most 5 groups).
    pub fn weighted_forward(groups: Vec<(Expr, u32)>) -> Self {
        Action {
            action_type: "forward".into(),
            target_group_arn: None,
            forward_config: Some(ForwardConfig {
                target_groups: groups
                    .into_iter()
                    .map(|(target_group_arn, weight)| TargetGroupTuple { target_group_arn, weight })
                    .collect(),
            }),
            redirect_config: None,
            fixed_response_config: None,
        }
    }

    pub fn redirect(config: RedirectConfig) -> Self {
        Action {
            action_type: "redirect".into(),
            target_group_arn: None,
            forward_config: None,
            redirect_config: Some(config),
            fixed_response_config: None,
        }
    }

    pub fn fixed_response(config: FixedResponseConfig) -> Self {
        Action {
            action_type: "fixed-response".into(),
            target_group_arn: None,
            forward_config: None,
            redirect_config: None,
            fixed_response_config: Some(config),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ForwardConfig {
    pub target_groups: Vec<TargetGroupTuple>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetGroupTuple {
    pub target_group_arn: Expr,
    pub weight: u32,
}

/// Redirect target; `#{host}`, `#{path}`, `#{query}` keep the request's own parts.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedirectConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// `HTTP_301` or `HTTP_302`.
    pub status_code: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FixedResponseConfig {
    pub status_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_body: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListenerRule {
    pub listener_arn: Expr,
    /// 1..=50000; the lowest number is evaluated first.
    pub priority: u32,
    pub conditions: Vec<RuleCondition>,
    pub actions: Cond<Vec<Action>>,
}

impl ResourceProperties for ListenerRule {
    const TYPE: &'static str = "AWS::ElasticLoadBalancingV2::ListenerRule";
}

/// One rule condition; set the config that matches `field`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleCondition {
    /// `host-header`, `path-pattern`, ...
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_header_config: Option<Values>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_pattern_config: Option<Values>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_header_config: Option<HttpHeaderConfig>,
}

/// A request header and the values that match it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpHeaderConfig {
    pub http_header_name: String,
    pub values: Vec<String>,
}

impl RuleCondition {
    pub fn host_header(hosts: Vec<String>) -> Self {
        RuleCondition {
            field: "host-header".into(),
            host_header_config: Some(Values { values: hosts }),
            path_pattern_config: None,
            http_header_config: None,
        }
    }

    pub fn path_pattern(patterns: Vec<String>) -> Self {
        RuleCondition {
            field: "path-pattern".into(),
            host_header_config: None,
            path_pattern_config: Some(Values { values: patterns }),
            http_header_config: None,
        }
    }

    pub fn http_header(name: &str, values: Vec<String>) -> Self {
        RuleCondition {
            field: "http-header".into(),
            host_header_config: None,
            path_pattern_config: None,
            http_header_config: Some(HttpHeaderConfig { http_header_name: name.into(), values }),
        }
    }
}

/// `HostHeaderConfig` / `PathPatternConfig`: the values a condition matches.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Values {
    pub values: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetGroup {
    /// Leave unset so CloudFormation generates one and replacements do not collide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Expr>,
    /// `ip`, `instance`, `lambda` or `alb`.
    pub target_type: String,
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    pub port: u16,
    pub vpc_id: Expr,
    pub health_check_enabled: bool,
    pub health_check_protocol: String,
    pub health_check_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_check_port: Option<String>,
    pub health_check_interval_seconds: u32,
    pub health_check_timeout_seconds: u32,
    pub healthy_threshold_count: u32,
    pub unhealthy_threshold_count: u32,
    pub matcher: Matcher,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_group_attributes: Vec<Attribute>,
    /// Targets registered by CloudFormation: fixed addresses, such as the old side's
    /// servers during a migration. Pods register themselves (`TargetGroupBinding`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetDescription>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<super::Tag>,
}

/// One target of a target group.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetDescription {
    /// An IP address for `ip` target groups.
    pub id: String,
    pub port: u16,
    /// `all` for an IP address outside the VPC (reached through peering, a VPN or Direct
    /// Connect); leave out for one inside it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
}

impl ResourceProperties for TargetGroup {
    const TYPE: &'static str = "AWS::ElasticLoadBalancingV2::TargetGroup";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Matcher {
    /// `200`, `200,202` or `200-399`.
    pub http_code: String,
}
