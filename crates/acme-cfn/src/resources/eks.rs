//! `AWS::EKS::*` resource properties.

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
