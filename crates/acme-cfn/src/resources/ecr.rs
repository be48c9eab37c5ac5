//! `AWS::ECR::*` resource properties.

use super::Tag;
use super::iam::PolicyDocument;
use crate::{Expr, ResourceProperties};
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Repository {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_name: Option<String>,
    /// `MUTABLE` (ECR's default) or `IMMUTABLE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_tag_mutability: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_scanning_configuration: Option<ImageScanningConfiguration>,
    /// Fixed at creation: changing it replaces the repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<EncryptionConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_policy: Option<LifecyclePolicy>,
    /// The repository policy; ECR checks that every principal it names exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_policy_text: Option<PolicyDocument>,
    /// Delete the images with the repository; without it a repository holding images cannot be deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub empty_on_delete: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl ResourceProperties for Repository {
    const TYPE: &'static str = "AWS::ECR::Repository";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageScanningConfiguration {
    pub scan_on_push: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionConfiguration {
    /// `AES256`, `KMS` or `KMS_DSSE`.
    pub encryption_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecyclePolicy {
    /// The lifecycle policy as JSON text (ECR takes a string here, not an object).
    pub lifecycle_policy_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<String>,
}
