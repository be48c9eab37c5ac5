//! Keys: data at rest is encrypted with the platform's own KMS keys, and those keys rotate.

use super::{customer_key, is_true, number, show};
use crate::requirement::KMS;
use crate::{Context, Rule, Violation};

pub static RULES: &[Rule] = &[
    Rule {
        id: "ACME-KEY-001",
        requirement: KMS,
        title: "Every resource that can use a customer-managed KMS key does",
        help: "acmectl encrypts log groups, topics, repositories, the backup vault, service buckets and the database's secret and Performance Insights with keys of the keys stack, whose policies it controls. An AWS-managed or absent key cannot be scoped, audited or rotated by you. Buckets that receive load balancer or S3 server access logs keep SSE-S3: those services write with nothing else. (Database storage, cluster secrets and the trail have rules of their own.)",
        evaluate: customer_managed_keys,
    },
    Rule {
        id: "ACME-KEY-002",
        requirement: KMS,
        title: "KMS keys rotate yearly or more often",
        help: "Every key of the keys stack has automatic rotation on, so key material is replaced without re-encrypting data.",
        evaluate: rotation,
    },
];

/// Resource types that take a KMS key, and the property that names it.
const KEY_PROPERTIES: &[(&str, &str)] = &[
    ("AWS::Logs::LogGroup", "KmsKeyId"),
    ("AWS::SNS::Topic", "KmsMasterKeyId"),
    ("AWS::SQS::Queue", "KmsMasterKeyId"),
    ("AWS::Backup::BackupVault", "EncryptionKeyArn"),
    ("AWS::SecretsManager::Secret", "KmsKeyId"),
];

fn customer_managed_keys(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (resource_type, property) in KEY_PROPERTIES {
        for (stack, id, r) in ctx.resources(resource_type) {
            let value = r.property(property);
            if !customer_key(value) {
                found.push(Violation::at(
                    stack,
                    id,
                    &format!("Properties.{property}"),
                    format!(
                        "{resource_type} `{id}` is not encrypted with a customer-managed key ({property} is {})",
                        show(value)
                    ),
                ));
            }
        }
    }
    for (stack, id, r) in ctx.resources("AWS::ECR::Repository") {
        let kind = r.property("EncryptionConfiguration.EncryptionType").and_then(|v| v.as_str());
        if kind != Some("KMS") || !customer_key(r.property("EncryptionConfiguration.KmsKey")) {
            found.push(Violation::at(
                stack,
                id,
                "Properties.EncryptionConfiguration",
                format!(
                    "repository `{id}` stores images without a customer-managed key (EncryptionType {})",
                    show(r.property("EncryptionConfiguration.EncryptionType"))
                ),
            ));
        }
    }
    for (stack, id, r) in ctx.resources("AWS::RDS::DBInstance") {
        if is_true(r.property("ManageMasterUserPassword")) && !customer_key(r.property("MasterUserSecret.KmsKeyId")) {
            found.push(Violation::at(
                stack,
                id,
                "Properties.MasterUserSecret.KmsKeyId",
                format!("the master secret of `{id}` is encrypted with the AWS-managed Secrets Manager key"),
            ));
        }
        if is_true(r.property("EnablePerformanceInsights")) && !customer_key(r.property("PerformanceInsightsKMSKeyId"))
        {
            found.push(Violation::at(stack, id, "Properties.PerformanceInsightsKMSKeyId", format!("Performance Insights data of `{id}` (query text included) is encrypted with the AWS-managed RDS key")));
        }
    }
    let log_buckets = super::buckets::access_log_destinations(ctx);
    for (stack, id, r) in ctx.resources("AWS::S3::Bucket") {
        if r.property("BucketEncryption").is_none() || log_buckets.contains(&(stack, id)) {
            continue; // no encryption at all is ACME-S3-003's finding
        }
        let rules = super::items(r.property("BucketEncryption.ServerSideEncryptionConfiguration"));
        let kms = rules.iter().any(|rule| {
            let algorithm = rule.pointer("/ServerSideEncryptionByDefault/SSEAlgorithm").and_then(|v| v.as_str());
            matches!(algorithm, Some("aws:kms" | "aws:kms:dsse"))
                && customer_key(rule.pointer("/ServerSideEncryptionByDefault/KMSMasterKeyID"))
        });
        if !kms {
            found.push(Violation::at(
                stack,
                id,
                "Properties.BucketEncryption",
                format!("bucket `{id}` is not encrypted with a customer-managed KMS key"),
            ));
        }
    }
    found
}

fn rotation(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (stack, id, r) in ctx.resources("AWS::KMS::Key") {
        if !is_true(r.property("EnableKeyRotation")) {
            found.push(Violation::at(stack, id, "Properties.EnableKeyRotation", format!("key `{id}` does not rotate")));
        } else if number(r.property("RotationPeriodInDays")).is_some_and(|d| d > 365.0) {
            found.push(Violation::at(
                stack,
                id,
                "Properties.RotationPeriodInDays",
                format!("key `{id}` rotates less often than yearly"),
            ));
        }
    }
    found
}
