//! One module per stack. Each `build` takes the platform and returns its [`Stack`];
//! a stack may import only outputs of stacks built before it in [`build_all`].

use crate::Stack;
use acme_cfn::resources::ec2::EgressRule;
use acme_spec::Platform;

pub mod backup;
pub mod buckets;
pub mod ci;
pub mod cluster;
pub mod data;
pub mod dns;
pub mod edge;
pub mod keys;
pub mod legacy;
pub mod names;
pub mod network;
pub mod observability;
pub mod registry;
pub mod services;
pub mod shards;
#[cfg(test)]
pub(crate) mod testing;

/// Resource types that hold data or identity a new resource cannot give back (DESIGN.md
/// decision 3): each carries `DeletionPolicy`/`UpdateReplacePolicy` `Retain` or `Snapshot`
/// (`tests/contract.rs` holds every stack to it), and a deploy that would replace or remove
/// one stops unless the user names it (acme-aws's guard). Log groups are not listed: those
/// with data (audit, flow and query logs) are retained one by one, and the guard reads that.
pub const STATEFUL_TYPES: &[&str] = &[
    "AWS::RDS::DBInstance",
    "AWS::KMS::Key",
    "AWS::S3::Bucket",
    "AWS::Route53::HostedZone",
    "AWS::ECR::Repository",
    "AWS::Backup::BackupVault",
];

/// The egress of a security group that opens no connection. An empty list would leave AWS's
/// default allow-all in place, so the group gets one rule that no traffic leaving it matches.
pub fn no_egress() -> EgressRule {
    EgressRule {
        description: "No egress: matches nothing".into(),
        ip_protocol: "-1".into(),
        cidr_ip: Some("127.0.0.1/32".into()),
        ..EgressRule::default()
    }
}

/// Every stack of the platform, in dependency order.
pub fn build_all(p: &Platform, shards: &shards::ShardPlan) -> Vec<Stack> {
    // The ci stack comes third in deploy order, but is built last: the rights of the role
    // that deploys the other stacks follow from what they hold.
    let mut stacks = vec![keys::build(p), network::build(p), dns::build(p), cluster::build(p), registry::build(p)];
    if p.database.is_some() {
        stacks.push(data::build(p));
    }
    stacks.extend(edge::build_all(p, shards));
    stacks.push(services::build(p));
    stacks.push(observability::build(p));
    if p.database.is_some() {
        stacks.push(backup::build(p));
    }
    let ci = ci::build(p, &stacks);
    stacks.insert(3, ci);
    stacks
}
