//! S3: no bucket is public, every bucket is reached only over TLS and encrypted, and the
//! buckets that hold logs keep versions (a deleted or overwritten log can be recovered).

use super::{is_true, items, refers_to};
use crate::requirement::{ACCESS_CONTROL, AUDIT, ENCRYPTION};
use crate::{Context, Rule, Violation};
use acme_synth::StackName;

pub static RULES: &[Rule] = &[
    Rule {
        id: "ACME-S3-001",
        requirement: ACCESS_CONTROL,
        title: "Buckets block every form of public access",
        help: "All four S3 Block Public Access settings are on for every bucket acmectl creates: no ACL or policy can make an object public.",
        evaluate: public_access,
    },
    Rule {
        id: "ACME-S3-002",
        requirement: ENCRYPTION,
        title: "Buckets refuse requests that are not over TLS",
        help: "Each bucket's policy denies every request with aws:SecureTransport false.",
        evaluate: tls_only,
    },
    Rule {
        id: "ACME-S3-003",
        requirement: ENCRYPTION,
        title: "Buckets encrypt objects by default",
        help: "Every bucket states its default encryption (KMS for data, SSE-S3 where only a log service writes).",
        evaluate: encrypted,
    },
    Rule {
        id: "ACME-S3-004",
        requirement: AUDIT,
        title: "Buckets that hold logs keep versions",
        help: "The trail bucket and the access-log buckets are versioned, so an overwritten or deleted log can be recovered for an audit.",
        evaluate: log_versioning,
    },
];

const BLOCKS: [&str; 4] = ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"];

fn public_access(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (stack, id, r) in ctx.resources("AWS::S3::Bucket") {
        for flag in BLOCKS {
            if !is_true(r.property(&format!("PublicAccessBlockConfiguration.{flag}"))) {
                found.push(Violation::at(
                    stack,
                    id,
                    &format!("Properties.PublicAccessBlockConfiguration.{flag}"),
                    format!("bucket `{id}` does not set {flag}"),
                ));
            }
        }
    }
    found
}

fn tls_only(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (stack, id, _) in ctx.resources("AWS::S3::Bucket") {
        let policy = ctx
            .resources("AWS::S3::BucketPolicy")
            .find(|(s, _, p)| *s == stack && p.property("Bucket").is_some_and(|b| refers_to(b, id)));
        let Some((_, policy_id, policy)) = policy else {
            found.push(Violation::at(
                stack,
                id,
                "",
                format!("bucket `{id}` has no policy, so nothing denies requests without TLS"),
            ));
            continue;
        };
        let denies = items(policy.property("PolicyDocument.Statement")).iter().any(|st| {
            st.get("Effect").and_then(|e| e.as_str()) == Some("Deny")
                && st.pointer("/Condition/Bool/aws:SecureTransport").is_some_and(|v| v == "false" || v == false)
        });
        if !denies {
            found.push(Violation::at(
                stack,
                policy_id,
                "Properties.PolicyDocument",
                format!("the policy of bucket `{id}` does not deny requests without TLS"),
            ));
        }
    }
    found
}

fn encrypted(ctx: &Context) -> Vec<Violation> {
    ctx.resources("AWS::S3::Bucket")
        .filter(|(_, _, r)| items(r.property("BucketEncryption.ServerSideEncryptionConfiguration")).is_empty())
        .map(|(stack, id, _)| {
            Violation::at(
                stack,
                id,
                "Properties.BucketEncryption",
                format!("bucket `{id}` states no default encryption"),
            )
        })
        .collect()
}

fn log_versioning(ctx: &Context) -> Vec<Violation> {
    let mut log_buckets = access_log_destinations(ctx);
    for (stack, _, trail) in ctx.resources("AWS::CloudTrail::Trail") {
        if let Some(id) = trail.property("S3BucketName").and_then(super::referenced_id) {
            log_buckets.push((stack, id));
        }
    }
    let mut found = vec![];
    for (stack, id, r) in ctx.resources("AWS::S3::Bucket") {
        let enabled = r.property("VersioningConfiguration.Status").and_then(|v| v.as_str()) == Some("Enabled");
        if log_buckets.contains(&(stack, id)) && !enabled {
            found.push(Violation::at(
                stack,
                id,
                "Properties.VersioningConfiguration",
                format!("log bucket `{id}` does not keep versions"),
            ));
        }
    }
    found
}

/// Buckets that receive load balancer access logs or S3 server access logs, by stack and id.
pub(crate) fn access_log_destinations<'a>(ctx: &Context<'a>) -> Vec<(StackName, &'a str)> {
    let mut ids = vec![];
    for (stack, _, lb) in ctx.resources("AWS::ElasticLoadBalancingV2::LoadBalancer") {
        for attribute in items(lb.property("LoadBalancerAttributes")) {
            if attribute.get("Key").and_then(|k| k.as_str()) == Some("access_logs.s3.bucket")
                && let Some(id) = attribute.get("Value").and_then(super::referenced_id)
            {
                ids.push((stack, id));
            }
        }
    }
    for (stack, _, bucket) in ctx.resources("AWS::S3::Bucket") {
        if let Some(id) = bucket.property("LoggingConfiguration.DestinationBucketName").and_then(super::referenced_id) {
            ids.push((stack, id));
        }
    }
    ids
}
