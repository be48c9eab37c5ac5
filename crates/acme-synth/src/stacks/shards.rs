//! Which Application Load Balancer carries which hosts: the edge is sharded so that no ALB
//! passes its quotas, and planned here, at synthesis, so that a deploy never fails halfway
//! at the 101st rule (what an AWS Load Balancer Controller IngressGroup does: it never
//! shards, and its reconcile hangs at the quota).
//!
//! The unit of placement is a group of hosts: the hosts one service is routed on must share
//! a load balancer (a target group belongs to one), so hosts linked by a service travel
//! together. A group's load is what the edge stack spends on it: a certificate per host, a
//! listener rule per route (and the migration's old-side and probe rules), a target group per
//! routed service port (and one per host's old side), and the targets those groups hold.
//!
//! Stability: a service the account already has on a load balancer stays there
//! ([`acme_spec::Placement`], read from the deployed edge stacks). Only groups with no
//! service deployed are placed, first fit in file order, into a shard that stays at or
//! below [`FILL_PERCENT`] of each quota it grows by (rules, target groups, targets), so the
//! groups already there can grow in place; else into a new shard. Removing a service frees
//! room and moves nothing. A platform not deployed yet gets the same assignment as it
//! would have got had its services been added one by one in file order.

use crate::StackName;
use crate::stacks::{edge, legacy};
use acme_spec::Platform;
use serde::Serialize;
use std::collections::BTreeMap;

/// AWS's quotas per Application Load Balancer (Elastic Load Balancing user guide, "Quotas
/// for your Application Load Balancers"), and the ones acmectl's rules stay within by shape.
pub mod quotas {
    /// Rules per load balancer besides the default rules (adjustable).
    pub const RULES: usize = 100;
    /// Target groups per load balancer (not adjustable).
    pub const TARGET_GROUPS: usize = 100;
    /// Certificates per load balancer besides the default one (adjustable): one a host.
    pub const CERTIFICATES: usize = 25;
    /// Hosts one load balancer serves: the default certificate and the others.
    pub const HOSTS: usize = CERTIFICATES + 1;
    /// Targets per load balancer.
    pub const TARGETS: usize = 1000;
    /// Target groups per forward action (not adjustable); a weighted split uses two.
    pub const TARGET_GROUPS_PER_ACTION: usize = 5;
    /// Condition values per rule; a route's rule uses three (host, path, path/*).
    pub const CONDITION_VALUES_PER_RULE: usize = 5;
}

/// How full a shard may get from groups placed in it, in percent of the rules, target
/// groups and targets quotas: the rest is room for the groups already there to grow (a new
/// path on a host) without moving. A group alone in its shard may use the whole quota.
pub const FILL_PERCENT: usize = 80;

/// What one load balancer holds, counted against its quotas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Load {
    pub hosts: usize,
    pub rules: usize,
    pub target_groups: usize,
    pub targets: usize,
}

impl Load {
    fn add(self, o: Load) -> Load {
        Load {
            hosts: self.hosts + o.hosts,
            rules: self.rules + o.rules,
            target_groups: self.target_groups + o.target_groups,
            targets: self.targets + o.targets,
        }
    }

    /// The quotas this load passes, as `what: count over the quota of N`.
    fn excess(&self) -> Vec<String> {
        [
            ("hosts (certificates)", self.hosts, quotas::HOSTS),
            ("listener rules", self.rules, quotas::RULES),
            ("target groups", self.target_groups, quotas::TARGET_GROUPS),
            ("targets", self.targets, quotas::TARGETS),
        ]
        .into_iter()
        .filter(|(_, n, quota)| n > quota)
        .map(|(what, n, quota)| format!("{n} {what}, over the quota of {quota}"))
        .collect()
    }

    /// Whether `group` may be placed beside this load: the hosts quota whole, the others up
    /// to the fill line.
    fn takes(&self, group: Load) -> bool {
        let after = self.add(group);
        let fill = |quota: usize| quota * FILL_PERCENT / 100;
        after.hosts <= quotas::HOSTS
            && after.rules <= fill(quotas::RULES)
            && after.target_groups <= fill(quotas::TARGET_GROUPS)
            && after.targets <= fill(quotas::TARGETS)
    }
}

/// One load balancer: its edge stack, hosts and services.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Shard {
    pub index: u16,
    pub stack: StackName,
    /// Lowercase, sorted.
    pub hosts: Vec<String>,
    /// The routed services it carries, in file order.
    pub services: Vec<String>,
    pub load: Load,
}

/// Every load balancer of the platform, with what could not be placed within quotas.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShardPlan {
    /// By index; shard 0 always exists (it holds what the shards share).
    pub shards: Vec<Shard>,
    /// Why the plan cannot deploy: a group of hosts too large for one load balancer, or
    /// services the account has on two load balancers that now share a host. Each names the
    /// hosts, the quota and the fix.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excess: Vec<Excess>,
    /// The quotas each shard is measured against.
    pub quotas: Load,
    #[serde(skip)]
    by_service: BTreeMap<String, u16>,
    #[serde(skip)]
    by_host: BTreeMap<String, u16>,
}

impl ShardPlan {
    /// The shard of a routed service.
    pub fn of_service(&self, service: &str) -> Option<u16> {
        self.by_service.get(service).copied()
    }

    /// The shard of a host (any case).
    pub fn of_host(&self, host: &str) -> Option<u16> {
        self.by_host.get(&host.to_ascii_lowercase()).copied()
    }

    pub fn stacks(&self) -> impl Iterator<Item = StackName> + '_ {
        self.shards.iter().map(|s| s.stack)
    }

    pub fn shard(&self, index: u16) -> Option<&Shard> {
        self.shards.iter().find(|s| s.index == index)
    }
}

/// Why hosts cannot be placed, at the route of acme.yaml that made it so: the last one (in
/// file order) of the services concerned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Excess {
    /// Field path, `services[12].routes[0]`.
    pub field: String,
    pub message: String,
    pub fix: String,
}

impl Excess {
    pub fn issue(&self) -> acme_spec::Issue {
        acme_spec::Issue { field: self.field.clone(), message: self.message.clone(), help: self.fix.clone() }
    }
}

impl std::fmt::Display for Excess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at {})\n  fix: {}", self.message, self.field, self.fix)
    }
}

/// The last route of the last of `services` (indexes into the file's services).
fn last_route(p: &Platform, services: impl Iterator<Item = usize>) -> String {
    let Some(si) = services.max() else { return "services".to_owned() };
    format!("services[{si}].routes[{}]", p.services[si].routes.len().saturating_sub(1))
}

/// A group of hosts that must share a load balancer.
struct Group {
    hosts: Vec<usize>,
    services: Vec<usize>,
    load: Load,
}

/// Hosts linked by the services routed on them, each group in order of its first service.
fn groups(p: &Platform) -> (Vec<String>, Vec<Group>) {
    let mut hosts: Vec<String> = vec![];
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut parent: Vec<usize> = vec![];
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first_host: Vec<Option<usize>> = vec![None; p.services.len()];
    for (si, s) in p.services.iter().enumerate() {
        for r in &s.routes {
            let host = r.host.to_ascii_lowercase();
            let h = *index.entry(host.clone()).or_insert_with(|| {
                hosts.push(host);
                parent.push(parent.len());
                parent.len() - 1
            });
            match first_host[si] {
                None => first_host[si] = Some(h),
                Some(f) => {
                    let (a, b) = (root(&mut parent, f), root(&mut parent, h));
                    // The older host stays the root, so a group is keyed by its first host.
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
    }

    let mut load = vec![Load::default(); hosts.len()];
    for l in &mut load {
        l.hosts = 1;
    }
    let host_of = |host: &str| index.get(&host.to_ascii_lowercase()).copied();
    for host in edge::rule_hosts(p) {
        if let Some(h) = host_of(host) {
            load[h].rules += 1;
        }
    }
    for target in edge::targets(p) {
        let host = target.service.routes.iter().find(|r| r.port == target.port.port).map(|r| r.host.as_str());
        if let Some(h) = host.and_then(host_of) {
            load[h].target_groups += 1;
            load[h].targets += target.service.replicas.max as usize;
        }
    }
    for old in legacy::old_hosts(p).iter().filter(|h| h.has_old_side_target_group()) {
        if let (Some(h), Some(origin)) = (host_of(old.host), &old.side.private) {
            load[h].target_groups += 1;
            load[h].targets += origin.addresses.len();
        }
    }

    // Groups keyed by their root host, ordered by their first service in the file.
    let mut by_root: BTreeMap<usize, usize> = BTreeMap::new();
    let mut out: Vec<Group> = vec![];
    for (si, first) in first_host.iter().enumerate() {
        let Some(first) = *first else { continue };
        let r = root(&mut parent, first);
        let g = *by_root.entry(r).or_insert_with(|| {
            out.push(Group { hosts: vec![], services: vec![], load: Load::default() });
            out.len() - 1
        });
        out[g].services.push(si);
    }
    for (h, host_load) in load.iter().enumerate() {
        let r = root(&mut parent, h);
        if let Some(&g) = by_root.get(&r) {
            out[g].hosts.push(h);
            out[g].load = out[g].load.add(*host_load);
        }
    }
    (hosts, out)
}

/// The shard plan of `p`, given where the account has its services (`p.placement`).
pub fn plan(p: &Platform) -> ShardPlan {
    let (hosts, groups) = groups(p);
    let mut excess = vec![];
    let mut shard_of_group: Vec<Option<u16>> = vec![None; groups.len()];
    let mut loads: BTreeMap<u16, Load> = BTreeMap::from([(0, Load::default())]);
    let names = |g: &Group| -> String {
        let mut h: Vec<&str> = g.hosts.iter().map(|&i| hosts[i].as_str()).collect();
        h.sort_unstable();
        h.join(", ")
    };

    // Groups the account has: where they are.
    for (gi, g) in groups.iter().enumerate() {
        let mut prior: Vec<(u16, &str)> = g
            .services
            .iter()
            .filter_map(|&si| {
                let name = p.services[si].name.as_str();
                p.placement.shards.get(name).map(|&n| (n, name))
            })
            .collect();
        prior.sort_unstable();
        let Some(&(shard, _)) = prior.first() else { continue };
        if let Some(&(other, name)) = prior.iter().find(|(n, _)| *n != shard) {
            excess.push(Excess {
                field: last_route(p, g.services.iter().copied()),
                message: format!(
                    "{} share a load balancer now, but the account has {} on {} and {name} on {}: moving one \
                     would re-create its target groups and records",
                    names(g),
                    prior[0].1,
                    StackName::Edge(shard),
                    StackName::Edge(other),
                ),
                fix: format!(
                    "route the services of {} on hosts of one load balancer, or remove the route that links them",
                    names(g)
                ),
            });
        }
        shard_of_group[gi] = Some(shard);
        let l = loads.entry(shard).or_default();
        *l = l.add(g.load);
    }
    // New groups: first fit below the fill line, else a shard of their own.
    for (gi, g) in groups.iter().enumerate() {
        if shard_of_group[gi].is_some() {
            continue;
        }
        let fits = loads.iter().find(|(_, l)| **l == Load::default() || l.takes(g.load)).map(|(n, _)| *n);
        let shard = fits.unwrap_or_else(|| (0..).find(|n| !loads.contains_key(n)).unwrap_or(u16::MAX));
        shard_of_group[gi] = Some(shard);
        let l = loads.entry(shard).or_default();
        *l = l.add(g.load);
    }

    let mut shards: BTreeMap<u16, Shard> = loads
        .iter()
        .map(|(&index, &load)| {
            (index, Shard { index, stack: StackName::Edge(index), hosts: vec![], services: vec![], load })
        })
        .collect();
    let (mut by_service, mut by_host) = (BTreeMap::new(), BTreeMap::new());
    for (g, shard) in groups.iter().zip(&shard_of_group) {
        let Some(n) = *shard else { continue };
        let s = shards.get_mut(&n).unwrap_or_else(|| unreachable!("every placed shard has a load"));
        for &h in &g.hosts {
            s.hosts.push(hosts[h].clone());
            by_host.insert(hosts[h].clone(), n);
        }
        for &si in &g.services {
            s.services.push(p.services[si].name.clone());
            by_service.insert(p.services[si].name.clone(), n);
        }
    }
    let order: BTreeMap<&str, usize> = p.services.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    for s in shards.values_mut() {
        s.hosts.sort_unstable();
        s.services.sort_by_key(|name| order.get(name.as_str()).copied());
        let over = s.load.excess();
        if over.is_empty() {
            continue;
        }
        let here = groups
            .iter()
            .zip(&shard_of_group)
            .filter(|(_, n)| **n == Some(s.index))
            .map(|(g, _)| g)
            .collect::<Vec<_>>();
        let fix = if here.len() == 1 {
            "a host cannot span load balancers, nor can a service's hosts: route some of its paths (or \
             services) under a host of their own"
        } else {
            "its groups of hosts grew past the room left for growth: route the new paths under a host of \
             their own, which acmectl places on another load balancer"
        };
        excess.push(Excess {
            field: last_route(p, here.iter().flat_map(|g| g.services.iter().copied())),
            message: format!("{} (hosts {}): {}", s.stack, s.hosts.join(", "), over.join(", ")),
            fix: fix.to_owned(),
        });
    }
    let quotas = Load {
        hosts: quotas::HOSTS,
        rules: quotas::RULES,
        target_groups: quotas::TARGET_GROUPS,
        targets: quotas::TARGETS,
    };
    ShardPlan { shards: shards.into_values().collect(), excess, quotas, by_service, by_host }
}

#[cfg(test)]
mod tests {
    use super::*;
    use acme_spec::{Placement, Route, Service, fixture};

    fn route(host: &str, path: Option<&str>) -> Route {
        Route { host: host.into(), path: path.map(Into::into), port: 8080 }
    }

    /// The fixture's `web` under another name, with these routes, at most 2 replicas.
    fn service(p: &Platform, name: &str, routes: Vec<Route>) -> Service {
        let mut s = crate::stacks::testing::service_like(p, name, routes);
        s.replicas.max = 2;
        s
    }

    /// `hosts` hosts `h<i>.acme.example.com` of `paths` services by path each.
    fn paths_on_hosts(hosts: usize, paths: usize) -> Platform {
        platform(|p| {
            (0..hosts)
                .flat_map(|h| (0..paths).map(move |i| (h, i)))
                .map(|(h, i)| {
                    let route = route(&format!("h{h}.acme.example.com"), Some(&format!("/p{i}")));
                    service(p, &format!("s{h}x{i}"), vec![route])
                })
                .collect()
        })
    }

    /// A new platform (no old side) of these services.
    fn platform(services: impl Fn(&Platform) -> Vec<Service>) -> Platform {
        let mut p = Platform { legacy: None, ..fixture::acme() };
        p.services = services(&p);
        p
    }

    /// `n` services, each on a host of its own: `h<i>.acme.example.com`.
    fn one_host_each(n: usize) -> Platform {
        platform(|p| {
            (0..n).map(|i| service(p, &format!("s{i}"), vec![route(&format!("h{i}.acme.example.com"), None)])).collect()
        })
    }

    /// `n` services by path on one host.
    fn paths_on_one_host(n: usize) -> Platform {
        platform(|p| {
            (0..n)
                .map(|i| service(p, &format!("s{i}"), vec![route("www.acme.example.com", Some(&format!("/p{i}")))]))
                .collect()
        })
    }

    fn hosts_per_shard(plan: &ShardPlan) -> Vec<usize> {
        plan.shards.iter().map(|s| s.hosts.len()).collect()
    }

    /// The plan's assignment as the account would hold it after a deploy.
    fn deployed(p: &Platform) -> Placement {
        let plan = plan(p);
        Placement {
            shards: p.services.iter().filter_map(|s| Some((s.name.clone(), plan.of_service(&s.name)?))).collect(),
        }
    }

    fn assert_within_quotas(plan: &ShardPlan) {
        assert_eq!(plan.excess, Vec::<Excess>::new());
        for s in &plan.shards {
            assert!(s.load.excess().is_empty(), "{}: {:?}", s.stack, s.load);
        }
    }

    #[test]
    fn the_bundled_platform_fits_one_load_balancer() {
        let p = fixture::acme();
        let plan = plan(&p);
        assert_eq!(plan.shards.len(), 1);
        assert_eq!(plan.shards[0].stack, StackName::EDGE);
        assert_eq!(plan.shards[0].hosts, ["auth.acme.example.com", "chat.acme.example.com", "www.acme.example.com"]);
        assert_eq!(plan.shards[0].load.hosts, 3);
        assert_eq!(
            plan.shards[0].load.rules,
            edge::listener_routes(&p).len() + edge::old_side_rules(&p).len() + edge::probe_rules(&p).len()
        );
        assert_within_quotas(&plan);
    }

    #[test]
    fn twenty_six_hosts_fit_one_load_balancer_and_the_twenty_seventh_opens_a_second() {
        let plan26 = plan(&one_host_each(26));
        assert_eq!(hosts_per_shard(&plan26), [26]);
        assert_within_quotas(&plan26);

        let plan27 = plan(&one_host_each(27));
        assert_eq!(hosts_per_shard(&plan27), [26, 1]);
        assert_eq!(plan27.of_host("h26.acme.example.com"), Some(1));
        assert_eq!(plan27.shards[1].stack.to_string(), "edge-2");
        assert_within_quotas(&plan27);
    }

    #[test]
    fn a_hundred_paths_on_one_host_fit_and_a_hundred_and_one_are_refused_with_the_fix() {
        let plan100 = plan(&paths_on_one_host(100));
        assert_eq!(plan100.shards.len(), 1);
        assert_eq!(plan100.shards[0].load.rules, 100);
        assert_eq!(plan100.shards[0].load.target_groups, 100);
        assert_within_quotas(&plan100);

        let plan101 = plan(&paths_on_one_host(101));
        assert_eq!(plan101.excess.len(), 1, "{:?}", plan101.excess);
        let excess = &plan101.excess[0].to_string();
        assert_eq!(plan101.excess[0].field, "services[100].routes[0]", "the 101st path");
        assert!(excess.contains("www.acme.example.com"), "{excess}");
        assert!(excess.contains("101 listener rules, over the quota of 100"), "{excess}");
        assert!(excess.contains("101 target groups, over the quota of 100"), "{excess}");
        assert!(excess.contains("fix: a host cannot span load balancers"), "{excess}");
        // Reported, never silently unrouted: every service still has its shard.
        assert!((0..101).all(|i| plan101.of_service(&format!("s{i}")).is_some()));
    }

    #[test]
    fn a_hundred_and_one_rules_over_many_hosts_are_sharded_below_the_fill_line() {
        // 101 hosts of one rule each: the host quota splits them first.
        let p = one_host_each(101);
        let plan = plan(&p);
        assert_within_quotas(&plan);
        assert_eq!(hosts_per_shard(&plan), [26, 26, 26, 23]);
        // Hosts of 25 paths each: three fit below 80 rules, the fourth opens a shard.
        let plan = super::plan(&paths_on_hosts(4, 25));
        assert_within_quotas(&plan);
        let rules: Vec<usize> = plan.shards.iter().map(|s| s.load.rules).collect();
        assert_eq!(rules, [75, 25]);
    }

    #[test]
    fn a_hundred_target_groups_fit_and_the_hundred_and_first_does_not() {
        // One host whose 100 routes each reach a target group of their own: exactly the quota.
        let plan = plan(&paths_on_one_host(100));
        assert_eq!(plan.shards[0].load.target_groups, quotas::TARGET_GROUPS);
        assert!(plan.excess.is_empty());
        // Groups of 20 target groups: four stay at the fill line (80), the fifth goes on.
        let plan = super::plan(&paths_on_hosts(5, 20));
        let groups: Vec<usize> = plan.shards.iter().map(|s| s.load.target_groups).collect();
        assert_eq!(groups, [80, 20]);
        let plan101 = super::plan(&paths_on_one_host(101));
        assert!(plan101.excess[0].message.contains("101 target groups"), "{:?}", plan101.excess);
    }

    #[test]
    fn hosts_one_service_is_routed_on_share_a_load_balancer() {
        let mut p = one_host_each(30);
        // s29 is also routed on h0's host: its own host joins h0's shard.
        p.services[29].routes.push(route("h0.acme.example.com", Some("/s29")));
        let plan = plan(&p);
        assert_eq!(plan.of_host("h29.acme.example.com"), plan.of_host("h0.acme.example.com"));
        assert_within_quotas(&plan);
    }

    #[test]
    fn adding_a_service_moves_no_other_service() {
        let before = one_host_each(60);
        let placement = deployed(&before);
        // A new service at the top of the file, and one by path on a full shard's host.
        let mut after = before.clone();
        after.placement = placement.clone();
        after.services.insert(0, service(&before, "first", vec![route("new.acme.example.com", None)]));
        after.services.push(service(&before, "beside", vec![route("h3.acme.example.com", Some("/beside"))]));
        let plan_after = plan(&after);
        for (service, shard) in &placement.shards {
            assert_eq!(plan_after.of_service(service), Some(*shard), "{service} moved");
        }
        assert_eq!(plan_after.of_service("beside"), plan_after.of_host("h3.acme.example.com"));
        assert_within_quotas(&plan_after);
        // Without the account's placement, the new first service would have pushed others on.
        let fresh = plan(&Platform { placement: Placement::default(), ..after.clone() });
        assert!(placement.shards.iter().any(|(s, n)| fresh.of_service(s) != Some(*n)));
    }

    #[test]
    fn removing_a_service_moves_no_other_service() {
        let before = one_host_each(60);
        let placement = deployed(&before);
        let mut after = before.clone();
        after.placement = placement.clone();
        after.services.remove(3);
        let plan_after = plan(&after);
        for s in &after.services {
            assert_eq!(plan_after.of_service(&s.name), placement.shards.get(&s.name).copied(), "{} moved", s.name);
        }
        // A new service takes the room freed in the first shard.
        after.services.push(service(&before, "late", vec![route("late.acme.example.com", None)]));
        assert_eq!(plan(&after).of_service("late"), Some(0));
    }

    #[test]
    fn services_the_account_has_apart_that_come_to_share_a_host_are_refused() {
        let mut p = one_host_each(27);
        p.placement = deployed(&p);
        assert_eq!(p.placement.shards["s26"], 1);
        p.services[26].routes.push(route("h0.acme.example.com", Some("/s26")));
        let plan = plan(&p);
        let conflict = plan.excess.iter().map(ToString::to_string).find(|e| e.contains("s0 on edge and s26 on edge-2"));
        let conflict = conflict.unwrap_or_else(|| panic!("{:?}", plan.excess));
        assert!(conflict.contains("h0.acme.example.com, h26.acme.example.com share a load balancer now"), "{conflict}");
        assert!(conflict.contains("fix:"), "{conflict}");
    }

    #[test]
    fn a_shard_the_account_fills_past_its_quota_is_refused_not_moved() {
        // 80 paths on www and 20 on api, together in the first shard; then www grows by 21.
        let mut p =
            platform(|p| {
                let mut v: Vec<Service> = (0..60)
                    .map(|i| service(p, &format!("w{i}"), vec![route("www.acme.example.com", Some(&format!("/p{i}")))]))
                    .collect();
                v.extend((0..20).map(|i| {
                    service(p, &format!("a{i}"), vec![route("api.acme.example.com", Some(&format!("/p{i}")))])
                }));
                v
            });
        p.placement = deployed(&p);
        assert_eq!(plan(&p).shards.len(), 1);
        for i in 60..81 {
            p.services.push(service(
                &p,
                &format!("w{i}"),
                vec![route("www.acme.example.com", Some(&format!("/p{i}")))],
            ));
        }
        let plan = plan(&p);
        assert_eq!(plan.shards.len(), 1, "nothing moved");
        assert!(plan.excess[0].message.contains("101 listener rules"), "{:?}", plan.excess);
        assert!(plan.excess[0].fix.starts_with("its groups of hosts grew"), "{:?}", plan.excess);
        assert_eq!(plan.excess[0].field, "services[100].routes[0]", "the route that grew it");
    }

    #[test]
    fn a_thousand_services_on_two_hundred_hosts_shard_within_every_quota() {
        let p = platform(|p| {
            (0..1000)
                .map(|i| {
                    let host = format!("h{}.acme.example.com", i % 200);
                    let path = (i >= 200).then(|| format!("/s{i}"));
                    service(p, &format!("s{i}"), vec![route(&host, path.as_deref())])
                })
                .collect()
        });
        let plan = plan(&p);
        assert_within_quotas(&plan);
        assert!((0..1000).all(|i| plan.of_service(&format!("s{i}")).is_some()));
        let hosts: usize = plan.shards.iter().map(|s| s.hosts.len()).sum();
        assert_eq!(hosts, 200);
        assert_eq!(plan.shards.len(), 13, "{:?}", hosts_per_shard(&plan));
    }
}
