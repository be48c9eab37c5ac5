//! `AWS::EC2::*` resource properties.
//! Security-group types are shared by several stacks; the network stack adds the rest
//! (VPC, subnets, routes, gateways, flow logs, endpoints).

use super::Tag;
use super::iam::PolicyDocument;
use crate::{Expr, ResourceProperties};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroup {
    pub group_description: String,
    pub vpc_id: Expr,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_group_ingress: Vec<IngressRule>,
    /// Always written: an empty list would leave AWS's default allow-all egress in place,
    /// so groups that need no egress get a rule that matches nothing instead.
    pub security_group_egress: Vec<crate::Cond<EgressRule>>,
}

impl ResourceProperties for SecurityGroup {
    const TYPE: &'static str = "AWS::EC2::SecurityGroup";
}

/// An inline ingress rule. Exactly one source: `cidr_ip` or `source_security_group_id`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IngressRule {
    pub description: String,
    pub ip_protocol: String,
    pub from_port: u16,
    pub to_port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_ip: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_security_group_id: Option<Expr>,
}

/// An inline egress rule. Exactly one destination.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EgressRule {
    pub description: String,
    pub ip_protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_ip: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_security_group_id: Option<Expr>,
}

/// A standalone ingress rule, for a group another stack owns (the EKS cluster group).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroupIngress {
    pub group_id: Expr,
    pub description: String,
    pub ip_protocol: String,
    pub from_port: u16,
    pub to_port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_ip: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_security_group_id: Option<Expr>,
}

impl ResourceProperties for SecurityGroupIngress {
    const TYPE: &'static str = "AWS::EC2::SecurityGroupIngress";
}

/// A standalone egress rule, used where inline rules would make two groups refer to each other.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroupEgress {
    pub group_id: Expr,
    pub description: String,
    pub ip_protocol: String,
    pub from_port: u16,
    pub to_port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_ip: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_security_group_id: Option<Expr>,
}

impl ResourceProperties for SecurityGroupEgress {
    const TYPE: &'static str = "AWS::EC2::SecurityGroupEgress";
}

// Networking: the VPC, its subnets and routes, gateways, flow logs and endpoints.

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Vpc {
    pub cidr_block: String,
    /// Both DNS settings must be on for interface endpoints with private DNS.
    pub enable_dns_support: bool,
    pub enable_dns_hostnames: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl ResourceProperties for Vpc {
    const TYPE: &'static str = "AWS::EC2::VPC";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subnet {
    pub vpc_id: Expr,
    pub cidr_block: String,
    pub availability_zone: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map_public_ip_on_launch: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl ResourceProperties for Subnet {
    const TYPE: &'static str = "AWS::EC2::Subnet";
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InternetGateway {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl ResourceProperties for InternetGateway {
    const TYPE: &'static str = "AWS::EC2::InternetGateway";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcGatewayAttachment {
    pub vpc_id: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internet_gateway_id: Option<Expr>,
}

impl ResourceProperties for VpcGatewayAttachment {
    const TYPE: &'static str = "AWS::EC2::VPCGatewayAttachment";
}

/// An Elastic IP address. `Ref` yields the public address.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Eip {
    /// `vpc`.
    pub domain: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl ResourceProperties for Eip {
    const TYPE: &'static str = "AWS::EC2::EIP";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NatGateway {
    /// `Fn::GetAtt <eip>.AllocationId` of a public NAT gateway.
    pub allocation_id: Expr,
    pub subnet_id: Expr,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl ResourceProperties for NatGateway {
    const TYPE: &'static str = "AWS::EC2::NatGateway";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTable {
    pub vpc_id: Expr,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl ResourceProperties for RouteTable {
    const TYPE: &'static str = "AWS::EC2::RouteTable";
}

/// A route. Exactly one target: `gateway_id` or `nat_gateway_id`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Route {
    pub route_table_id: Expr,
    pub destination_cidr_block: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_id: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_gateway_id: Option<Expr>,
}

impl ResourceProperties for Route {
    const TYPE: &'static str = "AWS::EC2::Route";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubnetRouteTableAssociation {
    pub route_table_id: Expr,
    pub subnet_id: Expr,
}

impl ResourceProperties for SubnetRouteTableAssociation {
    const TYPE: &'static str = "AWS::EC2::SubnetRouteTableAssociation";
}

/// A flow log delivered to CloudWatch Logs (`LogDestinationType: cloud-watch-logs`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlowLog {
    pub resource_id: Expr,
    /// `VPC`, `Subnet`, `NetworkInterface`, ...
    pub resource_type: String,
    /// `ACCEPT`, `REJECT` or `ALL`.
    pub traffic_type: String,
    pub log_destination_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<Expr>,
    /// Role the flow-logs service assumes to write to the log group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliver_logs_permission_arn: Option<Expr>,
    /// Seconds: 60 or 600.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_aggregation_interval: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl ResourceProperties for FlowLog {
    const TYPE: &'static str = "AWS::EC2::FlowLog";
}

/// A VPC endpoint. Gateway endpoints take route tables; interface endpoints take subnets
/// and security groups.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcEndpoint {
    pub vpc_id: Expr,
    /// `com.amazonaws.<region>.<service>`.
    pub service_name: Expr,
    /// `Gateway` or `Interface`.
    pub vpc_endpoint_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_dns_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub route_table_ids: Vec<Expr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subnet_ids: Vec<Expr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_group_ids: Vec<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_document: Option<PolicyDocument>,
}

impl ResourceProperties for VpcEndpoint {
    const TYPE: &'static str = "AWS::EC2::VPCEndpoint";
}
