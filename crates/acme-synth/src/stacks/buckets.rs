//! What every bucket of the platform shares: private (public access blocked, ACLs off by
//! owner-enforced ownership), versioned, encrypted, reachable over TLS only, with one lifecycle
//! rule. Stacks choose the encryption, the lifecycle and where server access logs go.

use acme_cfn::Expr;
use acme_cfn::resources::iam::{Principal, Statement};
use acme_cfn::resources::s3::{
    AbortIncompleteMultipartUpload, Bucket, BucketEncryption, LifecycleConfiguration, LifecycleRule,
    LoggingConfiguration, NoncurrentVersionExpiration, OwnershipControls, OwnershipControlsRule,
    PublicAccessBlockConfiguration, ServerSideEncryptionByDefault, ServerSideEncryptionRule, VersioningConfiguration,
};
use serde_json::json;

/// Multipart uploads left unfinished this long are dropped.
const ABORT_INCOMPLETE_UPLOAD_DAYS: u32 = 7;

/// A private, versioned, owner-enforced bucket with `encryption` and one lifecycle rule.
pub fn private_bucket(
    encryption: BucketEncryption,
    lifecycle: LifecycleRule,
    logging: Option<LoggingConfiguration>,
) -> Bucket {
    Bucket {
        bucket_encryption: Some(encryption),
        public_access_block_configuration: Some(PublicAccessBlockConfiguration::all()),
        versioning_configuration: Some(VersioningConfiguration { status: "Enabled".into() }),
        ownership_controls: Some(OwnershipControls {
            rules: vec![OwnershipControlsRule { object_ownership: "BucketOwnerEnforced".into() }],
        }),
        lifecycle_configuration: Some(LifecycleConfiguration { rules: vec![lifecycle] }),
        logging_configuration: logging,
        ..Default::default()
    }
}

/// A lifecycle rule: objects expire after `expire_days` (never when `None`), replaced or
/// deleted versions after `noncurrent_days`, unfinished uploads after a week.
pub fn lifecycle(id: &str, expire_days: Option<u32>, noncurrent_days: u32) -> LifecycleRule {
    LifecycleRule {
        id: id.into(),
        status: "Enabled".into(),
        expiration_in_days: expire_days,
        noncurrent_version_expiration: Some(NoncurrentVersionExpiration { noncurrent_days }),
        abort_incomplete_multipart_upload: Some(AbortIncompleteMultipartUpload {
            days_after_initiation: ABORT_INCOMPLETE_UPLOAD_DAYS,
        }),
    }
}

/// SSE-S3: for buckets that AWS services deliver logs to, which cannot use KMS keys.
pub fn sse_s3() -> BucketEncryption {
    BucketEncryption {
        server_side_encryption_configuration: vec![ServerSideEncryptionRule {
            server_side_encryption_by_default: ServerSideEncryptionByDefault {
                sse_algorithm: "AES256".into(),
                kms_master_key_id: None,
            },
            bucket_key_enabled: None,
        }],
    }
}

/// SSE-KMS with `key`, and a bucket key so S3 calls KMS per bucket rather than per object.
pub fn sse_kms(key: Expr) -> BucketEncryption {
    BucketEncryption {
        server_side_encryption_configuration: vec![ServerSideEncryptionRule {
            server_side_encryption_by_default: ServerSideEncryptionByDefault {
                sse_algorithm: "aws:kms".into(),
                kms_master_key_id: Some(key),
            },
            bucket_key_enabled: Some(true),
        }],
    }
}

fn bucket_and_objects(bucket: &str) -> Vec<Expr> {
    vec![Expr::att(bucket, "Arn"), Expr::sub(format!("${{{bucket}.Arn}}/*"))]
}

/// Bucket-policy statement refusing every request not made over TLS.
pub fn deny_insecure_transport(bucket: &str) -> Statement {
    Statement::deny(&["s3:*"], bucket_and_objects(bucket))
        .sid("DenyInsecureTransport")
        .principal(Principal::anyone())
        .condition(json!({ "Bool": { "aws:SecureTransport": "false" } }))
}

/// Bucket-policy statement refusing TLS older than 1.2.
pub fn deny_tls_below_1_2(bucket: &str) -> Statement {
    Statement::deny(&["s3:*"], bucket_and_objects(bucket))
        .sid("DenyTlsBelow12")
        .principal(Principal::anyone())
        .condition(json!({ "NumericLessThan": { "s3:TlsVersion": "1.2" } }))
}
