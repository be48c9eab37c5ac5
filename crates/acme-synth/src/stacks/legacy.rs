//! What the edge stack holds for the hosts the old side serves (`legacy`), and the names it
//! shares with `acmectl migrate`.
//!
//! Who owns what, host by host:
//! - A host the old side never served (no `legacy`, or `new: true`): the stack owns its
//!   alias record to the load balancer from the first deploy.
//! - A host the old side serves: until every service on it has finished its migration, the
//!   stack declares no record for it. The migration owns its records through the Route 53
//!   API: a weighted record for the old side ([`OLD_SET`]) and one for the load balancer
//!   ([`NEW_SET`]), so that a step or a rollback is one API call, and a deploy never touches
//!   them. Once `migrate finalize` has marked every service on the host as migrated (the
//!   stack parameter [`migrated_parameter`]), the stack adds its own weighted alias record
//!   ([`final_set`], weight 100) beside the migration's, and the migration then deletes its
//!   two: the name resolves at every moment of the handover.
//! - Services that share a host by path move on the load balancer: each one's listener rule
//!   forwards by weight to its own target group and to the old side's (IP targets at the old
//!   side's private addresses), and the migration moves the weights with `ModifyRule`. The
//!   template holds the resting state (everything on the old side) until the service is
//!   migrated, and then a plain forward to the service: a deploy between the two never
//!   changes the rule, so it never resets the weights.
//!
//! The stack keeps the migrated flags as parameters of its own (`Stack::kept`): a deploy
//! passes each with the value the stack has, and only `migrate finalize` changes it.

use crate::StackName;
use crate::stacks::names;
use acme_cfn::pascal;
use acme_spec::{OldSide, Platform, Service};

/// Set identifier of the migration's weighted record for the old side.
pub const OLD_SET: &str = "acmectl-old";
/// Set identifier of the migration's weighted record for the new load balancer.
pub const NEW_SET: &str = "acmectl-new";
/// Weight of the stack's own record once a host is migrated.
pub const FINAL_WEIGHT: u32 = 100;

/// Set identifier of the stack's own record of a migrated host: the edge stack's name.
pub fn final_set(p: &Platform) -> String {
    names::stack(&p.name, StackName::EDGE)
}

/// The TXT record where the migration writes what it intends on `host` (the step, since
/// when), so that a crashed run resumes where AWS says it is.
pub fn intent_record(host: &str) -> String {
    format!("_acmectl-migration.{host}")
}

/// The TXT record that holds `host`'s migration lock: its owner and expiry.
pub fn lock_record(host: &str) -> String {
    format!("_acmectl-lock.{host}")
}

/// The edge stack parameter that says whether `service` has finished its migration.
pub fn migrated_parameter(service: &str) -> String {
    format!("Migrated{}", pascal(service))
}

/// Condition: `service` has finished its migration.
pub fn service_migrated(service: &str) -> String {
    format!("Service{}Migrated", pascal(service))
}

/// Condition: `service` still has traffic to move.
pub fn service_on_old_side(service: &str) -> String {
    format!("Service{}OnOldSide", pascal(service))
}

/// Condition: every service on `host` has finished its migration.
pub fn host_migrated(host: &str) -> String {
    format!("Host{}Migrated", pascal(host))
}

/// Condition: some service on `host` still has traffic on the old side.
pub fn host_on_old_side(host: &str) -> String {
    format!("Host{}OnOldSide", pascal(host))
}

/// Logical id of the target group of `host`'s old side (its private addresses).
pub fn old_side_target_group(host: &str) -> String {
    format!("OldSide{}TargetGroup", pascal(host))
}

/// The edge output carrying [`old_side_target_group`]'s ARN.
pub fn old_side_target_group_output(host: &str) -> String {
    format!("OldSide{}TargetGroupArn", pascal(host))
}

/// How a host's traffic moves over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    /// One service on the host: weighted DNS records, old side beside the load balancer.
    Dns,
    /// Several services share the host by path: weighted target groups on the load
    /// balancer's rules. `reachable`: the old side has private addresses the load balancer
    /// can forward to; without them the host cannot move path by path.
    Path { reachable: bool },
}

/// A public host the old side serves.
#[derive(Clone, Debug)]
pub struct OldHost<'a> {
    pub host: &'a str,
    pub side: &'a OldSide,
    /// The services routed on it, in file order.
    pub services: Vec<&'a Service>,
}

impl OldHost<'_> {
    pub fn mechanism(&self) -> Mechanism {
        if self.services.len() > 1 {
            Mechanism::Path { reachable: self.side.private.is_some() }
        } else {
            Mechanism::Dns
        }
    }

    /// Whether the load balancer forwards to the old side for this host.
    pub fn has_old_side_target_group(&self) -> bool {
        self.mechanism() == Mechanism::Path { reachable: true }
    }
}

/// The routed hosts the old side serves, sorted by name.
pub fn old_hosts(p: &Platform) -> Vec<OldHost<'_>> {
    let Some(legacy) = &p.legacy else { return vec![] };
    legacy
        .hosts
        .iter()
        .map(|(host, side)| OldHost { host, side, services: p.services_on(host) })
        .filter(|h| !h.services.is_empty())
        .collect()
}

/// Services routed on at least one host the old side serves: each gets a migrated flag.
pub fn migrating_services(p: &Platform) -> Vec<&Service> {
    p.services.iter().filter(|s| s.routes.iter().any(|r| p.old_side(&r.host).is_some())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use acme_spec::fixture;

    #[test]
    fn the_bundled_hosts_move_by_dns_or_by_path() {
        let p = fixture::acme();
        let hosts = old_hosts(&p);
        let mechanisms: Vec<(&str, Mechanism)> = hosts.iter().map(|h| (h.host, h.mechanism())).collect();
        assert_eq!(
            mechanisms,
            [
                ("auth.acme.example.com", Mechanism::Dns),
                ("chat.acme.example.com", Mechanism::Dns),
                ("www.acme.example.com", Mechanism::Path { reachable: true }),
            ]
        );
        let names: Vec<&str> = migrating_services(&p).iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["web", "api", "auth", "chat"]);
    }

    #[test]
    fn a_new_host_and_a_platform_without_legacy_have_nothing_to_migrate() {
        let mut p = fixture::acme();
        p.legacy.as_mut().map(|l| l.hosts.remove("chat.acme.example.com"));
        assert!(migrating_services(&p).iter().all(|s| s.name != "chat"));
        p.legacy = None;
        assert!(old_hosts(&p).is_empty() && migrating_services(&p).is_empty());
    }

    #[test]
    fn names_for_conditions_and_parameters_do_not_collide() {
        assert_eq!(migrated_parameter("web-admin"), "MigratedWebAdmin");
        assert_ne!(service_migrated("www-acme-example-com"), host_migrated("www.acme.example.com"));
        assert_eq!(intent_record("www.acme.example.com"), "_acmectl-migration.www.acme.example.com");
    }
}
