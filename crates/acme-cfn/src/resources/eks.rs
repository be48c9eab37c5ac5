//! `AWS::EKS::*` resource properties.

use crate::{Expr, ExprList, ResourceProperties};
use serde::Serialize;

// --- Cluster, access entries, pod identity (owned by the cluster and services stacks) ---

/// An EKS cluster. Only the properties acmectl sets are modelled; each is optional in the
/// specification unless noted, so unset ones are left out of the template.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Cluster {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Kubernetes minor version, `1.\d\d`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Required: the role the control plane runs as.
    pub role_arn: Expr,
    /// Required.
    pub resources_vpc_config: ResourcesVpcConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_config: Option<AccessConfig>,
    /// `false` leaves out the self-managed vpc-cni, kube-proxy and CoreDNS add-ons; EKS
    /// Auto Mode runs those components itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_self_managed_addons: Option<bool>,
    /// EKS Auto Mode compute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_config: Option<ComputeConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_network_config: Option<KubernetesNetworkConfig>,
    /// EKS Auto Mode block storage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_config: Option<StorageConfig>,
    /// At most one item. Replacement on change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub encryption_config: Vec<EncryptionConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_policy: Option<UpgradePolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zonal_shift_config: Option<ZonalShiftConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<bool>,
}

impl ResourceProperties for Cluster {
    const TYPE: &'static str = "AWS::EKS::Cluster";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourcesVpcConfig {
    /// Required: subnets of the control-plane network interfaces (and, by default, of Auto Mode nodes).
    pub subnet_ids: ExprList,
    /// Extra groups on the control-plane interfaces, beside the cluster group EKS creates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_group_ids: Vec<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_private_access: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_public_access: Option<bool>,
    /// Unset means `0.0.0.0/0` when the public endpoint is on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub public_access_cidrs: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessConfig {
    /// `API`, `API_AND_CONFIG_MAP` or `CONFIG_MAP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_mode: Option<String>,
    /// Create-only: whether the principal creating the cluster becomes its admin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_cluster_creator_admin_permissions: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ComputeConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Built-in node pools: `general-purpose`, `system`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub node_pools: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_role_arn: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KubernetesNetworkConfig {
    /// EKS Auto Mode load balancing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elastic_load_balancing: Option<ElasticLoadBalancing>,
    /// `ipv4` or `ipv6`; create-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_family: Option<String>,
    /// Create-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_ipv4_cidr: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ElasticLoadBalancing {
    pub enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StorageConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_storage: Option<BlockStorage>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BlockStorage {
    pub enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionConfig {
    pub provider: Provider,
    /// `secrets`, the only value EKS accepts.
    pub resources: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Provider {
    pub key_arn: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Logging {
    pub cluster_logging: ClusterLogging,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClusterLogging {
    pub enabled_types: Vec<LoggingTypeConfig>,
}

/// One control-plane log type: `api`, `audit`, `authenticator`, `controllerManager`, `scheduler`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoggingTypeConfig {
    #[serde(rename = "Type")]
    pub log_type: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpgradePolicy {
    /// `STANDARD` or `EXTENDED`.
    pub support_type: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ZonalShiftConfig {
    pub enabled: bool,
}

/// Grants an IAM principal access to the Kubernetes API, in place of the `aws-auth` ConfigMap.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessEntry {
    pub cluster_name: Expr,
    pub principal_arn: Expr,
    /// `STANDARD` (default), `EC2` (Auto Mode nodes of a custom node class), `EC2_LINUX`, ...
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub entry_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Kubernetes groups the principal belongs to, for RBAC bindings beyond the access policies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kubernetes_groups: Vec<String>,
    /// At most 20.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub access_policies: Vec<AccessPolicy>,
}

impl ResourceProperties for AccessEntry {
    const TYPE: &'static str = "AWS::EKS::AccessEntry";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessPolicy {
    /// `arn:<partition>:eks::aws:cluster-access-policy/<name>`.
    pub policy_arn: Expr,
    pub access_scope: AccessScope,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessScope {
    /// `cluster` or `namespace`.
    #[serde(rename = "Type")]
    pub scope_type: String,
    /// Required when the type is `namespace`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

/// Gives the pods of one service account an IAM role through EKS Pod Identity.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PodIdentityAssociation {
    pub cluster_name: Expr,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: Expr,
}

impl ResourceProperties for PodIdentityAssociation {
    const TYPE: &'static str = "AWS::EKS::PodIdentityAssociation";
}

// --- Addon (owned by the observability stack) ---
// Paths are written out in full so this section merges beside the cluster types' imports.

/// An EKS add-on. `pod_identity_associations` grant its service accounts IAM roles
/// through EKS Pod Identity (built into Auto Mode clusters).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Addon {
    pub addon_name: String,
    pub cluster_name: crate::Expr,
    /// Unset: the default version for the cluster's Kubernetes version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addon_version: Option<String>,
    /// `NONE`, `OVERWRITE` or `PRESERVE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolve_conflicts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration_values: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pod_identity_associations: Vec<AddonPodIdentityAssociation>,
}

impl crate::ResourceProperties for Addon {
    const TYPE: &'static str = "AWS::EKS::Addon";
}

/// A service account of the add-on and the role it receives.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddonPodIdentityAssociation {
    pub role_arn: crate::Expr,
    pub service_account: String,
}
