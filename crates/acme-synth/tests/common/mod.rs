//! Platforms every integration test runs over: the bundled one and the variants that take
//! other branches of synthesis.

use acme_spec::{CiProvider, Platform, ZoneSource, fixture};

pub fn variants() -> Vec<(&'static str, Platform)> {
    let base = fixture::acme();
    let mut no_db = base.clone();
    no_db.database = None;
    for s in &mut no_db.services {
        s.uses.retain(|u| *u != acme_spec::Use::Database);
    }
    let mut mysql = base.clone();
    if let Some(db) = &mut mysql.database {
        db.engine = acme_spec::Engine::Mysql;
        db.version = "8.4".into();
    }
    let mut github = base.clone();
    github.ci.provider = CiProvider::Github;
    let mut two_zones = base.clone();
    two_zones.network.zones = 2;
    let mut existing_zone = base.clone();
    existing_zone.dns.zone = ZoneSource::Existing { id: "Z0123456789ABCDEFGHIJ".into() };
    existing_zone.dns.private_zone = None;
    let mut relaxed = base.clone();
    relaxed.edge.waf = false;
    relaxed.cluster.public_access_cidrs = vec!["203.0.113.0/24".parse().expect("literal CIDR")];
    if let Some(db) = &mut relaxed.database {
        db.multi_az = false;
        db.backup_retention_days = 3;
    }
    let mut backup_copy = base.clone();
    backup_copy.backup.copy_to = Some(acme_spec::BackupCopy {
        region: "us-west-2".into(),
        vault_arn: "arn:aws:backup:us-west-2:111122223333:backup-vault:acme-dr".into(),
    });
    backup_copy.backup.vault_lock =
        Some(acme_spec::VaultLock { min_retention_days: 7, max_retention_days: 400, changeable_for_days: Some(3) });
    // Kubernetes shapes: two services in one namespace, a second routed port, a bucket-only
    // service, a VPC in EKS's usual service range, the oldest cluster version.
    let mut shared_namespace = base.clone();
    shared_namespace.cluster.version = "1.30".into();
    shared_namespace.network.cidr = "172.20.0.0/16".parse().expect("literal CIDR");
    for s in &mut shared_namespace.services[1..3] {
        s.namespace = "backend".into();
    }
    shared_namespace.services[1].ports.push(acme_spec::ServicePort { name: "admin".into(), port: 9090 });
    shared_namespace.services[1].routes.push(acme_spec::Route {
        host: "admin.acme.example.com".into(),
        path: None,
        port: 9090,
    });
    shared_namespace.services[0].uses = vec![acme_spec::Use::Bucket("assets".into())];
    shared_namespace.services[3].replicas = acme_spec::Replicas { min: 1, max: 3 };
    // No old side: every host points at the load balancer from the first deploy.
    let mut new_platform = base.clone();
    new_platform.legacy = None;
    // The old side's other shapes: a shared host no service routes whole (a catch-all to the
    // old side), over HTTP on another port; a host on public addresses; a new host.
    let mut old_side = base.clone();
    old_side.services[0].routes[0].path = Some("/app".into());
    if let Some(legacy) = &mut old_side.legacy {
        if let Some(www) = legacy.hosts.get_mut("www.acme.example.com").and_then(|w| w.private.as_mut()) {
            www.protocol = "HTTP".into();
            www.port = 8080;
            www.health_codes = "200-399".into();
        }
        if let Some(auth) = legacy.hosts.get_mut("auth.acme.example.com") {
            auth.public = acme_spec::OldTarget::Addresses(vec!["203.0.113.10".parse().expect("literal address")]);
        }
        legacy.hosts.remove("chat.acme.example.com");
    }
    // Past one load balancer's 26 hosts: 26 more services on hosts of their own, the last
    // few holding WebSocket connections, so a second shard (edge-2) carries some of them.
    let mut two_load_balancers = base.clone();
    for i in 0..26 {
        let mut s = base.services[1].clone();
        s.name = format!("extra{i}");
        s.namespace = s.name.clone();
        s.uses = vec![];
        s.talks_to = vec![];
        s.websocket = i >= 23;
        s.routes =
            vec![acme_spec::Route { host: format!("extra{i}.acme.example.com"), path: None, port: s.main_port() }];
        two_load_balancers.services.push(s);
    }
    vec![
        ("acme", base),
        ("two-load-balancers", two_load_balancers),
        ("new-platform", new_platform),
        ("old-side", old_side),
        ("shared-namespace", shared_namespace),
        ("relaxed", relaxed),
        ("backup-copy", backup_copy),
        ("no-db", no_db),
        ("mysql", mysql),
        ("github", github),
        ("two-zones", two_zones),
        ("existing-zone", existing_zone),
    ]
}
