//! The cluster: its API endpoint is private or limited to known networks, Kubernetes secrets
//! are encrypted with the platform's key, every control-plane log is kept, and AWS updates
//! the nodes (EKS Auto Mode).

use super::{customer_key, is_true, items, show};
use crate::requirement::{ACCESS_CONTROL, AUDIT, AUTOMATED_UPDATES, KMS};
use crate::{Context, Rule, Violation};
use ipnet::IpNet;

pub static RULES: &[Rule] = &[
    Rule {
        id: "ACME-EKS-001",
        requirement: ACCESS_CONTROL,
        title: "The cluster API endpoint is private or restricted to listed networks",
        help: "By default the endpoint is reachable only from inside the VPC. `cluster.public_access_cidrs` may open it to named networks, none wider than a /8; 0.0.0.0/0 is the whole internet.",
        evaluate: endpoint,
    },
    Rule {
        id: "ACME-EKS-002",
        requirement: KMS,
        title: "Kubernetes secrets are encrypted with the platform's KMS key",
        help: "Envelope encryption of secrets in etcd with the cluster key of the keys stack.",
        evaluate: secrets_encrypted,
    },
    Rule {
        id: "ACME-EKS-003",
        requirement: AUDIT,
        title: "Every control-plane log type is on",
        help: "api, audit, authenticator, controllerManager and scheduler logs go to an encrypted log group: who did what in the cluster can always be answered.",
        evaluate: logging,
    },
    Rule {
        id: "ACME-EKS-004",
        requirement: AUTOMATED_UPDATES,
        title: "Nodes are updated automatically (EKS Auto Mode)",
        help: "With Auto Mode compute, AWS replaces nodes with patched AMIs on its own (at most 21 days old) and keeps core add-ons current.",
        evaluate: auto_mode,
    },
];

const CLUSTER: &str = "AWS::EKS::Cluster";
const LOG_TYPES: [&str; 5] = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

/// The narrowest prefix that is still "restricted": anything wider opens the API to a large
/// part of the internet.
const WIDEST_PREFIX: u8 = 8;

fn endpoint(ctx: &Context) -> Vec<Violation> {
    let relaxed = ctx.platform.cluster.public_access_cidrs.iter().any(|c| c.prefix_len() < WIDEST_PREFIX);
    let mut found = vec![];
    for (stack, id, r) in ctx.resources(CLUSTER) {
        let public = r.property("ResourcesVpcConfig.EndpointPublicAccess");
        // EKS makes the endpoint public when the property is absent.
        if public.is_some() && !is_true(public) {
            continue;
        }
        let cidrs = items(r.property("ResourcesVpcConfig.PublicAccessCidrs"));
        let wide: Vec<String> = if cidrs.is_empty() {
            vec!["0.0.0.0/0".into()]
        } else {
            cidrs
                .iter()
                .filter_map(|c| c.as_str())
                .filter(|c| c.parse::<IpNet>().map_or(true, |n| n.prefix_len() < WIDEST_PREFIX))
                .map(str::to_owned)
                .collect()
        };
        if !wide.is_empty() {
            let v = Violation::at(
                stack,
                id,
                "Properties.ResourcesVpcConfig",
                format!("the API endpoint of `{id}` is public to {}", wide.join(", ")),
            );
            found.push(if relaxed {
                v.field("cluster.public_access_cidrs", "list only your networks in `cluster.public_access_cidrs` (none wider than a /8), or remove it for a private endpoint")
            } else {
                v
            });
        }
    }
    found
}

fn secrets_encrypted(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (stack, id, r) in ctx.resources(CLUSTER) {
        let ok = items(r.property("EncryptionConfig")).iter().any(|c| {
            items(c.get("Resources")).iter().any(|res| res.as_str() == Some("secrets"))
                && customer_key(c.pointer("/Provider/KeyArn"))
        });
        if !ok {
            found.push(Violation::at(
                stack,
                id,
                "Properties.EncryptionConfig",
                format!("Kubernetes secrets of `{id}` are not encrypted with a KMS key"),
            ));
        }
    }
    found
}

fn logging(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (stack, id, r) in ctx.resources(CLUSTER) {
        let on: Vec<&str> = items(r.property("Logging.ClusterLogging.EnabledTypes"))
            .iter()
            .filter_map(|t| t.get("Type")?.as_str())
            .collect();
        let missing: Vec<&str> = LOG_TYPES.iter().copied().filter(|t| !on.contains(t)).collect();
        if !missing.is_empty() {
            found.push(Violation::at(
                stack,
                id,
                "Properties.Logging.ClusterLogging.EnabledTypes",
                format!("control-plane logs of `{id}` miss {}", missing.join(", ")),
            ));
        }
    }
    found
}

fn auto_mode(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (stack, id, r) in ctx.resources(CLUSTER) {
        if !is_true(r.property("ComputeConfig.Enabled")) {
            found.push(Violation::at(
                stack,
                id,
                "Properties.ComputeConfig.Enabled",
                format!(
                    "`{id}` does not run EKS Auto Mode (ComputeConfig.Enabled is {}): nobody patches its nodes",
                    show(r.property("ComputeConfig.Enabled"))
                ),
            ));
        } else if items(r.property("ComputeConfig.NodePools")).is_empty() {
            found.push(Violation::at(
                stack,
                id,
                "Properties.ComputeConfig.NodePools",
                format!("`{id}` has Auto Mode on but no built-in node pool"),
            ));
        }
    }
    for (stack, id, _) in ctx.resources("AWS::EKS::Nodegroup") {
        found.push(Violation::at(stack, id, "", format!("managed node group `{id}` needs its AMI updated by hand")));
    }
    found
}
