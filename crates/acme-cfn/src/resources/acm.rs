//! `AWS::CertificateManager::*` resource properties (AWS Certificate Manager).

use super::Tag;
use crate::{Expr, ResourceProperties};
use serde::Serialize;

/// A public certificate. With `ValidationMethod: DNS` and a `HostedZoneId` in the
/// `DomainValidationOptions`, CloudFormation writes the validation records itself and the
/// resource completes once ACM has issued the certificate.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Certificate {
    pub domain_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subject_alternative_names: Vec<String>,
    /// `DNS` or `EMAIL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_method: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub domain_validation_options: Vec<DomainValidationOption>,
    /// `RSA_2048` (ACM's default), `EC_prime256v1`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_algorithm: Option<String>,
    /// `ENABLED` or `DISABLED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_transparency_logging_preference: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl ResourceProperties for Certificate {
    const TYPE: &'static str = "AWS::CertificateManager::Certificate";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DomainValidationOption {
    pub domain_name: String,
    /// The public hosted zone CloudFormation writes the DNS validation record into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosted_zone_id: Option<Expr>,
    /// For `EMAIL` validation only: the domain the approval mail goes to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_domain: Option<String>,
}
