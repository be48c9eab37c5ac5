//! `AWS::CloudTrail::*` resource properties.

use crate::{Expr, ResourceProperties};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Trail {
    /// Fixed when a bucket policy must name the trail in `aws:SourceArn` before it exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trail_name: Option<String>,
    pub s3_bucket_name: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
    pub is_logging: bool,
    pub is_multi_region_trail: bool,
    pub include_global_service_events: bool,
    pub enable_log_file_validation: bool,
    #[serde(rename = "KMSKeyId", skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logs_log_group_arn: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logs_role_arn: Option<Expr>,
}

impl ResourceProperties for Trail {
    const TYPE: &'static str = "AWS::CloudTrail::Trail";
}
