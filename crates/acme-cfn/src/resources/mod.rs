//! Resource property types, one module per AWS service, faithful to the CloudFormation
//! resource specification: struct and field names are the ones AWS documents.
//! Optional properties are `Option`s and are left out of the template when `None`.

pub mod acm;
pub mod backup;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod ec2;
pub mod ecr;
pub mod eks;
pub mod elbv2;
pub mod iam;
pub mod kms;
pub mod logs;
pub mod rds;
pub mod route53;
pub mod s3;
pub mod sns;
pub mod wafv2;

use serde::Serialize;

/// A `Key`/`Value` tag, as most resource types take them.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: crate::Expr,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<crate::Expr>) -> Self {
        Tag { key: key.into(), value: value.into() }
    }
}
