//! The architecture picture: the proposal's cloud diagram, drawn from acme.yaml.
//!
//! Top to bottom, as traffic enters: the users; the account-wide services (Route 53, WAF,
//! CloudTrail, CloudWatch, KMS); then the VPC in three bands, one per subnet tier, each naming
//! its subnets per availability zone with their CIDRs: the load balancer in the public
//! subnets, the EKS cluster with one box per service in the private subnets, the database
//! (primary and Multi-AZ standby) in the database subnets. Regional services that the VPC
//! reaches through endpoints sit in a column to its right, next to what uses them: ECR beside
//! the cluster, the service buckets beside the services, AWS Backup beside the database.
//!
//! Arrows: DNS and HTTPS from the users, the load balancer to every routed service, every
//! `talks_to`, every `uses` (database, bucket), image pulls, backups and replication.

use crate::sketch::{Cell, EdgeKind, Line, NodeKind, Sketch, card, wrapped};
use crate::text::Style;
use acme_spec::{Platform, Tier, Use, ZoneSource, ZoneSubnets};
use acme_synth::stacks::{edge, keys};

/// Widest a line of node text gets before it wraps.
pub(crate) const TEXT_WIDTH: f64 = 230.0;

/// Columns of the cluster grid: about 1.5 times as many as rows, so four services and the
/// cluster's own box take three columns and two rows, 30 services seven columns and five rows.
fn cluster_columns(boxes: usize) -> usize {
    (((boxes as f64) * 1.5).sqrt().ceil() as usize).clamp(2, boxes.max(2))
}

pub fn sketch(p: &Platform) -> Sketch {
    let mut s = Sketch::new(
        format!("{} · AWS architecture", p.name),
        format!("{}, from acme.yaml by acmectl diagram: zones, subnets, services and who talks to whom", p.region),
        crate::sketch::Flow::TopDown,
    );

    let boxes = p.services.len() + 1;
    let k = cluster_columns(boxes);
    let rows = boxes.div_ceil(k);
    let buckets: Vec<(usize, usize, &str)> = p
        .services
        .iter()
        .enumerate()
        .flat_map(|(i, svc)| {
            svc.uses.iter().enumerate().filter_map(move |(j, u)| match u {
                Use::Bucket(name) => Some((i, j, name.as_str())),
                Use::Database => None,
            })
        })
        .collect();
    let side_columns = buckets.len().div_ceil(rows).max(1);

    // Layers.
    let top_nodes = 4 + usize::from(p.edge.waf);
    let per_row = k + side_columns;
    // Route 53 and WAF go over the load balancer; the rest fill the row, the caption column last.
    let top_rows = top_nodes.div_ceil(per_row + 1);
    let public = 1 + top_rows;
    let first_service = public + 1;
    let database_layer = first_service + rows;
    let side = k + 1;

    let cloud = s.group("cloud", &format!("AWS Cloud · {}", p.region), true, None, ("#232F3E", "#FFFFFF"), false);
    let subnets = p.network.subnets();
    let vpc = s.group(
        "vpc",
        &format!("VPC {} · {} zones", p.network.cidr.trunc(), subnets.len()),
        true,
        Some(cloud),
        ("#8C4FFF", "#FFFFFF"),
        false,
    );
    let public_band = s.group("public-subnets", "Public subnets", false, Some(vpc), ("#7AA116", "#F2F7E9"), false);
    let private_band = s.group("private-subnets", "Private subnets", false, Some(vpc), ("#00A4A6", "#E8F6F7"), false);
    let cluster = s.group(
        "eks-cluster",
        &format!("EKS cluster {}", p.name),
        false,
        Some(private_band),
        ("#ED7100", "#FFF9F3"),
        true,
    );
    let database_band =
        s.group("database-subnets", "Database subnets", false, Some(vpc), ("#3B48CC", "#EEF0FB"), false);
    s.groups[database_band].covers.push(Cell::spanning(database_layer, 0, k + 1));

    // The internet side.
    let users = s.node(
        "users",
        "Users",
        NodeKind::Users,
        vec![Line::new(Style::Title, "Users"), Line::new(Style::Note, "browsers and apps")],
        Cell::at(0, 1),
        None,
    );

    let mut top = (0..).map(|i| Cell::at(1 + i / (per_row + 1), (1 + i % (per_row + 1)) % (per_row + 1)));
    let mut next_top = || top.next().unwrap_or(Cell::at(1, 1));
    let hosts = p.hosts();
    let mut r53_lines = vec![Line::new(Style::Title, "Amazon Route 53")];
    r53_lines.extend(wrapped(
        Style::Body,
        &match &p.dns.zone {
            ZoneSource::Create => format!("public zone {}", p.domain),
            ZoneSource::Existing { id } => format!("existing zone {id}"),
        },
        TEXT_WIDTH,
    ));
    r53_lines.push(Line::new(
        Style::Note,
        format!("{} alias {} → load balancer", hosts.len(), plural(hosts.len(), "record", "records")),
    ));
    if let Some(private) = &p.dns.private_zone {
        r53_lines.extend(wrapped(Style::Note, &format!("private zone {private}"), TEXT_WIDTH));
    }
    let route53 = s.node("route53", "Amazon Route 53", NodeKind::Networking, r53_lines, next_top(), Some(cloud));
    let waf = p.edge.waf.then(|| s.node("waf", "AWS WAF", NodeKind::Security, waf_lines(), next_top(), Some(cloud)));
    let trail = card("AWS CloudTrail", "multi-region trail", "to an encrypted S3 bucket");
    s.node("cloudtrail", "AWS CloudTrail", NodeKind::Management, trail, next_top(), Some(cloud));
    let emails = p.alerts.email.len();
    let watch = card(
        "Amazon CloudWatch",
        "alarms · dashboard",
        format!("Container Insights · alerts to {emails} {}", plural(emails, "address", "addresses")),
    );
    s.node("cloudwatch", "Amazon CloudWatch", NodeKind::Management, watch, next_top(), Some(cloud));
    let purposes: Vec<&str> = keys::Purpose::ALL.iter().map(|k| k.slug()).collect();
    let kms = card("AWS KMS", format!("keys: {}", purposes.join(", ")), "rotated yearly");
    s.node("kms", "AWS KMS", NodeKind::Security, kms, next_top(), Some(cloud));

    // Public subnets: the load balancer.
    caption(&mut s, &subnets, Tier::Public, "NAT gateway in each zone", public, public_band);
    let rules = edge::listener_routes(p).len();
    let targets = edge::targets(p).len();
    let alb_lines = card(
        "Application Load Balancer",
        "internet-facing · HTTPS :443, HTTP :80 redirects",
        format!(
            "{rules} listener {} · {targets} target {}",
            plural(rules, "rule", "rules"),
            plural(targets, "group", "groups")
        ),
    );
    let alb = s.node(
        "alb",
        "Application Load Balancer",
        NodeKind::Networking,
        alb_lines,
        Cell::spanning(public, 1, k),
        Some(public_band),
    );
    let repositories = p.services.len();
    let ecr = card(
        "Amazon ECR",
        format!("{repositories} {}", plural(repositories, "repository", "repositories")),
        "scan on push · immutable tags",
    );
    let ecr = s.node("ecr", "Amazon ECR", NodeKind::Containers, ecr, Cell::at(public, side), Some(cloud));

    // Private subnets: the cluster, its info box top right, the services around it.
    caption(&mut s, &subnets, Tier::Private, "nodes and pods", first_service, private_band);
    let endpoint = if p.cluster.public_access_cidrs.is_empty() {
        "private API endpoint".to_owned()
    } else {
        format!("API endpoint also public to {} CIDRs", p.cluster.public_access_cidrs.len())
    };
    let eks_lines =
        card(format!("Amazon EKS {}", p.cluster.version), format!("cluster {} · Auto Mode", p.name), endpoint);
    let eks = s.node(
        "eks",
        "Amazon EKS",
        NodeKind::Containers,
        eks_lines,
        cluster_cell(first_service, k, k - 1),
        Some(cluster),
    );
    let services: Vec<usize> = p
        .services
        .iter()
        .enumerate()
        .map(|(i, svc)| {
            let at = if i < k - 1 { i } else { i + 1 };
            let id = s.node(
                &format!("service-{}", svc.name),
                &svc.name,
                NodeKind::Service,
                service_lines(svc),
                cluster_cell(first_service, k, at),
                Some(cluster),
            );
            s.nodes[id].data.push(("service", svc.name.clone()));
            s.nodes[id].data.push(("namespace", svc.namespace.clone()));
            id
        })
        .collect();
    let bucket_nodes: Vec<usize> = buckets
        .iter()
        .enumerate()
        .map(|(j, &(i, _, name))| {
            let owner = &p.services[i].name;
            let lines = card("Amazon S3", format!("bucket {name}"), format!("owned by {owner}"));
            let cell = Cell::at(first_service + j % rows, side + j / rows);
            let id = s.node(
                &format!("bucket-{owner}-{name}"),
                &format!("{owner}/{name}"),
                NodeKind::Storage,
                lines,
                cell,
                Some(cloud),
            );
            s.nodes[id].data.push(("bucket", name.to_owned()));
            s.nodes[id].data.push(("service", owner.clone()));
            id
        })
        .collect();

    // Database subnets: primary and standby, AWS Backup beside them.
    let database_note = if p.database.is_some() { "no route out of the VPC" } else { "no database in acme.yaml" };
    caption(&mut s, &subnets, Tier::Database, database_note, database_layer, database_band);
    let mut data_edges = vec![];
    let rds = p.database.as_ref().map(|db| {
        let engine = db.engine.label();
        let primary = card(
            format!("Amazon RDS {engine} {}", db.version),
            format!("{} · {}–{} GB", db.class, db.storage_gb, db.max_storage_gb),
            if db.multi_az { "primary · zone 1" } else { "single instance · zone 1" },
        );
        let primary =
            s.node("rds", "Amazon RDS", NodeKind::Database, primary, Cell::at(database_layer, 1), Some(database_band));
        s.nodes[primary].data.push(("role", "primary".to_owned()));
        if db.multi_az {
            let standby = card("RDS standby", "Multi-AZ, takes over on failure", "standby · zone 2");
            let standby = s.node(
                "rds-standby",
                "RDS standby",
                NodeKind::Database,
                standby,
                Cell::at(database_layer, 2),
                Some(database_band),
            );
            s.nodes[standby].data.push(("role", "standby".to_owned()));
            data_edges.push((primary, standby, EdgeKind::Replication));
        }
        let copy = match &p.backup.copy_to {
            Some(copy) => format!("copied to {}", copy.region),
            None => format!("PITR {} days in RDS", db.backup_retention_days),
        };
        let backup = card("AWS Backup", format!("{} · kept {} days", p.backup.schedule, p.backup.retention_days), copy);
        let backup =
            s.node("backup", "AWS Backup", NodeKind::Storage, backup, Cell::at(database_layer, side), Some(cloud));
        data_edges.push((backup, primary, EdgeKind::Backup));
        primary
    });

    // Arrows from the internet.
    s.edge(users, route53, EdgeKind::Dns);
    s.edge(route53, alb, EdgeKind::Dns);
    match waf {
        Some(waf) => {
            s.edge(users, waf, EdgeKind::Request);
            s.edge(waf, alb, EdgeKind::Request);
        }
        None => {
            s.edge(users, alb, EdgeKind::Request);
        }
    }
    for (i, svc) in p.services.iter().enumerate() {
        if !svc.routes.is_empty() {
            s.edge(alb, services[i], request_kind(svc)).data.push(("field", format!("services[{i}].routes")));
        }
    }
    // Between services, and to what they use.
    for (i, svc) in p.services.iter().enumerate() {
        calls(&mut s, p, &services, i);
        for (j, u) in svc.uses.iter().enumerate() {
            let field = format!("services[{i}].uses[{j}]");
            match u {
                Use::Database => {
                    if let Some(rds) = rds {
                        s.edge(services[i], rds, EdgeKind::Database).data.push(("field", field));
                    }
                }
                Use::Bucket(_) => {
                    if let Some(b) = buckets.iter().position(|&(o, u, _)| o == i && u == j) {
                        s.edge(services[i], bucket_nodes[b], EdgeKind::Bucket).data.push(("field", field));
                    }
                }
            }
        }
    }
    s.edge(ecr, eks, EdgeKind::ImagePull);
    for (from, to, kind) in data_edges {
        s.edge(from, to, kind);
    }
    s
}

/// The `at`-th box of the cluster grid, row by row.
fn cluster_cell(first_layer: usize, columns: usize, at: usize) -> Cell {
    Cell::at(first_layer + at / columns, 1 + at % columns)
}

/// A service's box, the same in both pictures: name, namespace when it differs, ports and
/// replicas, whether it is reachable from outside, and the WebSocket badge.
pub(crate) fn service_lines(svc: &acme_spec::Service) -> Vec<Line> {
    let mut lines = wrapped(Style::Title, &svc.name, TEXT_WIDTH);
    if svc.namespace != svc.name {
        lines.extend(wrapped(Style::Body, &format!("namespace {}", svc.namespace), TEXT_WIDTH));
    }
    let ports: Vec<String> = svc.ports.iter().map(|p| format!(":{}", p.port)).collect();
    lines.push(Line::new(Style::Note, format!("{} · {}–{} pods", ports.join(" "), svc.replicas.min, svc.replicas.max)));
    if svc.routes.is_empty() {
        lines.push(Line::new(Style::Note, "internal: no route"));
    }
    if svc.websocket {
        lines.push(Line::new(Style::Badge, "WebSocket"));
    }
    lines
}

/// The arrow that brings a service its requests: a WebSocket service's stays open.
pub(crate) fn request_kind(svc: &acme_spec::Service) -> EdgeKind {
    if svc.websocket { EdgeKind::WebSocket } else { EdgeKind::Request }
}

/// The `talks_to` arrows of service `i`, between the boxes `nodes` (one per service, in order).
pub(crate) fn calls(s: &mut Sketch, p: &Platform, nodes: &[usize], i: usize) {
    for (j, callee) in p.services[i].talks_to.iter().enumerate() {
        if let Some(to) = p.services.iter().position(|c| &c.name == callee) {
            s.edge(nodes[i], nodes[to], EdgeKind::Call).data.push(("field", format!("services[{i}].talks_to[{j}]")));
        }
    }
}

pub(crate) fn waf_lines() -> Vec<Line> {
    card("AWS WAF", "AWS managed rule groups", format!("rate limit {} / 5 min per IP", edge::WAF_RATE_LIMIT_PER_5_MIN))
}

/// A subnet tier's caption in the band's first column, named as the band (which draws no
/// label of its own), then each zone's CIDR.
fn caption(s: &mut Sketch, subnets: &[ZoneSubnets], tier: Tier, note: &str, layer: usize, band: usize) {
    let (id, name) = (s.groups[band].id.clone(), s.groups[band].name.clone());
    let mut lines = vec![Line::new(Style::Title, &name)];
    for zone in subnets {
        lines.push(Line::new(Style::Body, format!("zone {} · {}", zone.zone + 1, zone.cidr(tier))));
    }
    lines.push(Line::new(Style::Note, note));
    s.node(&id, &name, NodeKind::Caption, lines, Cell::at(layer, 0), Some(band));
}

pub(crate) fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
