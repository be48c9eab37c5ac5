//! The pictures as a reader meets them: every service and every declared edge is drawn (in the
//! SVG and in the Mermaid source), the SVG is well-formed XML, nothing overlaps, the Mermaid
//! source is sound, and the output is the same run after run.

use acme_diagram::layout::{Point, Rect};
use acme_diagram::{Diagram, diagrams, files, mermaid};
use acme_spec::{Platform, Route, Service, Use, fixture};
use acme_synth::stacks::edge;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn bundled() -> Platform {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../acme.yaml");
    acme_spec::load_file(&path).expect("the bundled acme.yaml is valid")
}

fn architecture(p: &Platform) -> Diagram {
    diagrams(p).into_iter().find(|d| d.name == "architecture").expect("architecture")
}

fn traffic(p: &Platform) -> Diagram {
    diagrams(p).into_iter().find(|d| d.name == "traffic-flow").expect("traffic flow")
}

/// What a generated service looks like.
#[derive(Clone, Debug)]
struct Shape {
    /// Routed on host `h<n>` (the first service on a host takes the whole host, later ones a path).
    host: Option<usize>,
    websocket: bool,
    /// Indices of callees (self and out-of-range ones are dropped).
    calls: Vec<usize>,
    database: bool,
    bucket: bool,
    own_namespace: bool,
}

fn generated(shapes: &[Shape], waf: bool, database: bool) -> Platform {
    let mut p = fixture::acme();
    p.edge.waf = waf;
    if !database {
        p.database = None;
    }
    let template = p.services[0].clone();
    let mut hosts_taken = BTreeSet::new();
    p.services = shapes
        .iter()
        .enumerate()
        .map(|(i, shape)| {
            let name = format!("svc{i}");
            let mut s = Service { name: name.clone(), namespace: name.clone(), routes: vec![], ..template.clone() };
            if shape.own_namespace {
                s.namespace = format!("team-{i}");
            }
            if let Some(h) = shape.host {
                let host = format!("h{h}.{}", p.domain);
                let path = if hosts_taken.insert(h) { None } else { Some(format!("/p{i}")) };
                s.routes = vec![Route { host, path, port: 8080 }];
            }
            s.websocket = shape.websocket;
            let mut calls: Vec<String> =
                shape.calls.iter().filter(|&&c| c != i && c < shapes.len()).map(|c| format!("svc{c}")).collect();
            calls.sort();
            calls.dedup();
            s.talks_to = calls;
            s.uses = vec![];
            if shape.database && database {
                s.uses.push(Use::Database);
            }
            if shape.bucket {
                s.uses.push(Use::Bucket("files".into()));
            }
            s
        })
        .collect();
    p
}

/// `n` services: a third routed over four hosts, each calling a few others (a fixed,
/// scrambled pattern), every fifth on the database, every seventh with a bucket.
fn many(n: usize) -> Platform {
    let shapes: Vec<Shape> = (0..n)
        .map(|i| Shape {
            host: (i % 3 == 0).then_some(i % 4),
            websocket: i % 11 == 0,
            calls: vec![(i * 7 + 3) % n, (i * 13 + 5) % n, if i % 2 == 0 { i + 1 } else { n }],
            database: i % 5 == 0,
            bucket: i % 7 == 0,
            own_namespace: i % 9 == 0,
        })
        .collect();
    generated(&shapes, true, true)
}

/// The variants the synthesis tests use, and more.
fn variants() -> Vec<(String, Platform)> {
    let mut out = vec![("bundled".to_owned(), bundled())];
    let mut p = fixture::acme();
    p.edge.waf = false;
    out.push(("no WAF".into(), p));
    let mut p = fixture::acme();
    p.database = None;
    for s in &mut p.services {
        s.uses.retain(|u| *u != Use::Database);
    }
    out.push(("no database".into(), p));
    let mut p = fixture::acme();
    if let Some(db) = p.database.as_mut() {
        db.multi_az = false;
        db.engine = acme_spec::Engine::Mysql;
    }
    p.network.zones = 2;
    out.push(("single-AZ MySQL, 2 zones".into(), p));
    let mut p = fixture::acme();
    p.network.zones = 6;
    p.dns.zone = acme_spec::ZoneSource::Existing { id: "Z0123456789ABCDEFGHIJ".into() };
    out.push(("6 zones, existing zone".into(), p));
    // One service on three rules and two ports, a long host, its own namespace.
    let mut p = fixture::acme();
    let web = &mut p.services[0];
    web.ports.push(acme_spec::ServicePort { name: "admin".into(), port: 9090 });
    web.namespace = "storefront".into();
    let long = "a-rather-long-host-name-for-the-storefront.eu.acme.example.com";
    web.routes.push(Route { host: long.into(), path: None, port: 8080 });
    web.routes.push(Route { host: long.into(), path: Some("/admin".into()), port: 9090 });
    out.push(("three rules, two ports, a long host".into(), p));
    let mut p = fixture::acme();
    p.services.truncate(1);
    p.services[0].talks_to.clear();
    out.push(("one service".into(), p));
    for n in [30, 35, 60] {
        out.push((format!("{n} services"), many(n)));
    }
    out
}

// --- Reading the SVG back -------------------------------------------------------------------

struct Drawn {
    /// id -> data-* attributes (and `kind`).
    nodes: BTreeMap<String, BTreeMap<String, String>>,
    /// data-* attributes of each edge, `from` and `to` being node ids.
    edges: Vec<BTreeMap<String, String>>,
}

fn read_svg(svg: &str) -> Drawn {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    let mut nodes = BTreeMap::new();
    let mut edges = vec![];
    for g in doc.descendants().filter(|n| n.has_tag_name("g")) {
        let classes: Vec<&str> = g.attribute("class").unwrap_or("").split(' ').collect();
        let data: BTreeMap<String, String> = g
            .attributes()
            .filter_map(|a| a.name().strip_prefix("data-").map(|k| (k.to_owned(), a.value().to_owned())))
            .collect();
        if classes.contains(&"node") {
            let id = g.attribute("id").and_then(|id| id.strip_prefix("node-")).expect("a node has an id");
            nodes.insert(id.to_owned(), data);
        } else if classes.contains(&"edge") {
            edges.push(data);
        }
    }
    Drawn { nodes, edges }
}

impl Drawn {
    /// The id of the one node whose data matches all of `want`.
    fn node(&self, want: &[(&str, &str)]) -> String {
        let found: Vec<&String> = self
            .nodes
            .iter()
            .filter(|(_, data)| want.iter().all(|(k, v)| data.get(*k).map(String::as_str) == Some(*v)))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(found.len(), 1, "exactly one node with {want:?}, found {found:?}");
        found[0].clone()
    }

    fn has_edge(&self, kind: &[&str], from: &str, to: &str, field: Option<&str>) -> bool {
        self.edges.iter().any(|e| {
            kind.contains(&e["kind"].as_str())
                && e["from"] == from
                && e["to"] == to
                && field.is_none_or(|f| e.get("field").map(String::as_str) == Some(f))
        })
    }
}

// --- Reading the Mermaid source back --------------------------------------------------------

struct Chart {
    nodes: BTreeSet<String>,
    groups: BTreeSet<String>,
    edges: Vec<(String, String, String)>,
}

const RESERVED: [&str; 12] = [
    "end",
    "subgraph",
    "graph",
    "flowchart",
    "class",
    "classDef",
    "style",
    "linkStyle",
    "click",
    "call",
    "direction",
    "default",
];

fn valid_id(id: &str) -> bool {
    id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&id)
}

/// A quoted label: no raw quote inside, and only the HTML Mermaid renders (`<b>`, `<br/>`).
fn valid_label(label: &str) -> bool {
    let stripped = label.replace("<b>", "").replace("</b>", "").replace("<br/>", "");
    !stripped.contains(['"', '<', '>']) && !label.is_empty()
}

/// Checks the Mermaid flowchart line by line (Mermaid itself, when installed, parses it in
/// `external_tools.rs`): every line one of the forms Mermaid's flowchart
/// grammar accepts, ids valid and declared before use, subgraphs balanced, styles pointing at
/// what exists. Returns the problems found, and what the chart declares.
fn read_mermaid(text: &str) -> (Chart, Vec<String>) {
    let mut problems = vec![];
    let mut chart = Chart { nodes: BTreeSet::new(), groups: BTreeSet::new(), edges: vec![] };
    let mut depth = 0usize;
    let mut header = false;
    let mut link_styles = vec![];
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let mut bad = |why: &str| problems.push(format!("line {}: {why}: {raw}", n + 1));
        if line.is_empty() || line.starts_with("%%") {
            continue;
        }
        if !header {
            if line != "flowchart TB" && line != "flowchart LR" {
                bad("expected the flowchart header");
            }
            header = true;
            continue;
        }
        if ["classDef ", "class ", "style ", "linkStyle "].iter().any(|k| line.starts_with(k)) && line.ends_with(';') {
            bad("a `;` after a colour reads as an HTML entity to Mermaid");
        }
        if line == "end" {
            if depth == 0 {
                bad("`end` without a subgraph");
            }
            depth = depth.saturating_sub(1);
        } else if let Some(rest) = line.strip_prefix("subgraph ") {
            let Some((id, label)) = rest.split_once("[\"") else {
                bad("subgraph without a quoted title");
                continue;
            };
            if !valid_id(id) || !label.ends_with("\"]") || !valid_label(&label[..label.len() - 2]) {
                bad("bad subgraph");
            }
            if !chart.groups.insert(id.to_owned()) {
                bad("subgraph declared twice");
            }
            depth += 1;
        } else if let Some(rest) = line.strip_prefix("classDef ") {
            if rest.split_once(' ').is_none() {
                bad("bad classDef");
            }
        } else if let Some(rest) = line.strip_prefix("class ") {
            let Some((ids, _)) = rest.split_once(' ') else {
                bad("bad class");
                continue;
            };
            if ids.split(',').any(|id| !chart.nodes.contains(id)) {
                bad("class names an undeclared node");
            }
        } else if let Some(rest) = line.strip_prefix("style ") {
            let id = rest.split(' ').next().unwrap_or("");
            if !chart.groups.contains(id) && !chart.nodes.contains(id) {
                bad("style names nothing declared");
            }
        } else if let Some(rest) = line.strip_prefix("linkStyle ") {
            match rest.split(' ').next().and_then(|i| i.parse::<usize>().ok()) {
                Some(i) => link_styles.push(i),
                None => bad("linkStyle without an index"),
            }
        } else if let Some((from, rest)) = line.split_once(' ').filter(|(first, _)| !first.contains(['[', '('])) {
            // An edge: `a ARROW|"label"| b`.
            let Some((arrow, rest)) = rest.split_once('|') else {
                bad("not a known statement");
                continue;
            };
            let Some((label, to)) = rest.rsplit_once("| ") else {
                bad("edge without a label");
                continue;
            };
            if !["-->", "==>", "-.->"].contains(&arrow.trim()) {
                bad("unknown arrow");
            }
            if !(label.starts_with('"') && label.ends_with('"') && valid_label(&label[1..label.len() - 1])) {
                bad("bad edge label");
            }
            for id in [from, to] {
                if !chart.nodes.contains(id) {
                    bad("edge to an undeclared node");
                }
            }
            chart.edges.push((from.to_owned(), to.to_owned(), arrow.trim().to_owned()));
        } else {
            // A node: `id["..."]`, `id(["..."])` or `id[("...")]`.
            let open = line.find(['[', '(']).unwrap_or(line.len());
            let (id, shape) = line.split_at(open);
            let label = [("[\"", "\"]"), ("([\"", "\"])"), ("[(\"", "\")]")]
                .iter()
                .find_map(|(o, c)| shape.strip_prefix(o).and_then(|s| s.strip_suffix(c)));
            if !valid_id(id) || label.is_none_or(|l| !valid_label(l)) {
                bad("bad node");
            }
            if !chart.nodes.insert(id.to_owned()) {
                bad("node declared twice");
            }
        }
    }
    if depth != 0 {
        problems.push("unclosed subgraph".into());
    }
    if chart.nodes.intersection(&chart.groups).next().is_some() {
        problems.push("a node and a subgraph share an id".into());
    }
    if link_styles != (0..chart.edges.len()).collect::<Vec<_>>() {
        problems.push(format!("linkStyle indices {link_styles:?} do not match the {} edges", chart.edges.len()));
    }
    (chart, problems)
}

/// Every edge of the SVG is in the Mermaid source, between the same nodes, and no other.
fn assert_same_content(d: &Diagram) {
    let drawn = read_svg(&d.svg());
    let (chart, problems) = read_mermaid(&d.mermaid());
    assert!(problems.is_empty(), "{}: {problems:#?}", d.name);
    let svg_nodes: BTreeSet<String> = drawn.nodes.keys().map(|id| mermaid::id(id)).collect();
    assert_eq!(svg_nodes, chart.nodes, "{}: the same nodes", d.name);
    let mut svg_edges: Vec<(String, String)> =
        drawn.edges.iter().map(|e| (mermaid::id(&e["from"]), mermaid::id(&e["to"]))).collect();
    let mut chart_edges: Vec<(String, String)> = chart.edges.iter().map(|(a, b, _)| (a.clone(), b.clone())).collect();
    svg_edges.sort();
    chart_edges.sort();
    assert_eq!(svg_edges, chart_edges, "{}: the same edges", d.name);
}

/// Every `talks_to` of service `i` is an arrow between its box and the callee's (`ids`, one per
/// service), tied to the field that declares it.
fn assert_calls_drawn(p: &Platform, drawn: &Drawn, ids: &[String], i: usize) {
    let s = &p.services[i];
    for (j, callee) in s.talks_to.iter().enumerate() {
        let to = &ids[p.services.iter().position(|c| &c.name == callee).expect("callee")];
        let field = format!("services[{i}].talks_to[{j}]");
        assert!(drawn.has_edge(&["talks_to"], &ids[i], to, Some(&field)), "{} → {callee}", s.name);
    }
}

/// Every service and every declared edge of the platform in the architecture picture.
fn assert_architecture_complete(p: &Platform) {
    let d = architecture(p);
    let drawn = read_svg(&d.svg());
    let ids: Vec<String> =
        p.services.iter().map(|s| drawn.node(&[("kind", "service"), ("service", &s.name)])).collect();
    let rds = p.database.as_ref().map(|_| drawn.node(&[("kind", "database"), ("role", "primary")]));
    for (i, s) in p.services.iter().enumerate() {
        if !s.routes.is_empty() {
            let field = format!("services[{i}].routes");
            assert!(drawn.has_edge(&["request", "websocket"], "alb", &ids[i], Some(&field)), "ALB → {}", s.name);
        }
        assert_calls_drawn(p, &drawn, &ids, i);
        for (j, u) in s.uses.iter().enumerate() {
            let field = format!("services[{i}].uses[{j}]");
            match u {
                Use::Database => {
                    let rds = rds.as_deref().expect("a platform with users of the database has one");
                    assert!(drawn.has_edge(&["database"], &ids[i], rds, Some(&field)), "{} → database", s.name);
                }
                Use::Bucket(b) => {
                    let bucket = drawn.node(&[("kind", "storage"), ("bucket", b), ("service", &s.name)]);
                    assert!(drawn.has_edge(&["bucket"], &ids[i], &bucket, Some(&field)), "{} → {b}", s.name);
                }
            }
        }
    }
    // The rest of the architecture: zones' subnets with their CIDRs, and the AWS services.
    let svg = d.svg();
    for zone in p.network.subnets() {
        for tier in acme_spec::Tier::ALL {
            assert!(svg.contains(&zone.cidr(tier).to_string()), "subnet {} missing", zone.cidr(tier));
        }
    }
    for name in ["route53", "alb", "eks", "ecr", "cloudtrail", "cloudwatch", "kms", "users"] {
        assert!(drawn.nodes.contains_key(name), "{name} missing");
    }
    assert_eq!(drawn.nodes.contains_key("waf"), p.edge.waf);
    assert_eq!(drawn.nodes.contains_key("backup"), p.database.is_some());
    assert_eq!(drawn.nodes.contains_key("rds-standby"), p.database.as_ref().is_some_and(|db| db.multi_az));
    assert_same_content(&d);
}

/// Every listener rule, its service, and every call in the traffic flow.
fn assert_traffic_complete(p: &Platform) {
    let d = traffic(p);
    let drawn = read_svg(&d.svg());
    let ids: Vec<String> =
        p.services.iter().map(|s| drawn.node(&[("service", &s.name), ("kind", "service")])).collect();
    for rule in edge::listener_routes(p) {
        let i = p.services.iter().position(|s| s.name == rule.service.name).expect("service");
        let j = rule.service.routes.iter().position(|r| r == rule.route).expect("route");
        let path = rule.route.path.clone().unwrap_or_default();
        let node = drawn.node(&[("host", &rule.route.host), ("path", &path), ("service", &rule.service.name)]);
        let kind = if rule.service.websocket { "websocket" } else { "request" };
        let field = format!("services[{i}].routes[{j}]");
        assert!(drawn.has_edge(&[kind], &node, &ids[i], Some(&field)), "{} → {}", rule.route.host, rule.service.name);
        assert!(drawn.has_edge(&["request"], "alb", &node, None), "ALB → {}", rule.route.host);
    }
    for i in 0..p.services.len() {
        assert_calls_drawn(p, &drawn, &ids, i);
    }
    assert!(drawn.has_edge(&["dns"], "users", "route53", None));
    let into_alb = if p.edge.waf { "waf" } else { "route53" };
    assert!(drawn.has_edge(&["request"], into_alb, "alb", None));
    assert_same_content(&d);
}

#[test]
fn the_bundled_architecture_shows_every_service_and_declared_edge() {
    assert_architecture_complete(&bundled());
}

#[test]
fn the_bundled_traffic_flow_shows_every_rule_and_call() {
    let p = bundled();
    assert_traffic_complete(&p);
    // WebSocket services are marked, and only they.
    let svg = traffic(&p).svg();
    assert_eq!(svg.matches(">WebSocket</text>").count(), 1 + 1, "chat's badge and the legend's");
}

#[test]
fn every_variant_shows_everything() {
    for (name, p) in variants() {
        println!("{name}");
        assert_architecture_complete(&p);
        assert_traffic_complete(&p);
    }
}

#[test]
fn the_svg_is_well_formed_and_self_describing() {
    for (name, p) in variants() {
        for d in diagrams(&p) {
            let svg = d.svg();
            let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name} {}: {e}", d.name));
            let root = doc.root_element();
            assert_eq!(root.tag_name().name(), "svg");
            assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
            let (w, h) = (root.attribute("width").expect("width"), root.attribute("height").expect("height"));
            assert_eq!(root.attribute("viewBox"), Some(format!("0 0 {w} {h}").as_str()));
            let mut ids = BTreeSet::new();
            for n in doc.descendants().filter(|n| n.attribute("id").is_some()) {
                assert!(ids.insert(n.attribute("id")), "{name} {}: duplicate id {:?}", d.name, n.attribute("id"));
            }
            // Every node and edge carries a title: a tooltip, and its accessible name.
            for g in doc.descendants().filter(|n| {
                n.has_tag_name("g")
                    && n.attribute("class").is_some_and(|c| c.split(' ').any(|w| w == "node" || w == "edge"))
            }) {
                let title = g.children().find(|c| c.has_tag_name("title")).and_then(|t| t.text());
                assert!(
                    title.is_some_and(|t| !t.is_empty()),
                    "{name} {}: {:?} has no title",
                    d.name,
                    g.attribute("id")
                );
            }
            // Every arrowhead referenced is defined.
            for path in doc.descendants().filter_map(|n| n.attribute("marker-end")) {
                let id = path.trim_start_matches("url(#").trim_end_matches(')');
                assert!(ids.contains(&Some(id)), "{name}: marker {id} undefined");
            }
        }
    }
}

#[test]
fn no_box_label_or_arrow_overlaps_another() {
    for (name, p) in variants() {
        for d in diagrams(&p) {
            let problems = d.layout.problems();
            assert!(problems.is_empty(), "{name} {}: {problems:#?}", d.name);
        }
    }
}

#[test]
fn a_hundred_services_still_lay_out_cleanly() {
    let p = many(100);
    for d in diagrams(&p) {
        assert!(d.layout.problems().is_empty(), "{}: {:#?}", d.name, d.layout.problems());
    }
}

#[test]
fn the_overlap_check_catches_what_it_looks_for() {
    let d = architecture(&bundled());
    let fresh = d.layout.clone();
    assert!(fresh.problems().is_empty());

    let mut moved = fresh.clone();
    moved.nodes[1].rect = moved.nodes[2].rect;
    assert!(moved.problems().iter().any(|p| p.contains("overlap")), "{:?}", moved.problems());

    let mut cramped = fresh.clone();
    cramped.nodes[0].rect.w = 20.0;
    assert!(cramped.problems().iter().any(|p| p.contains("does not fit")), "{:?}", cramped.problems());

    let mut through = fresh.clone();
    let target = through.nodes[3].rect;
    let mid = Point { x: target.x + target.w / 2.0, y: target.y + target.h / 2.0 };
    through.edges[0].points = vec![Point { x: mid.x - target.w, y: mid.y }, Point { x: mid.x + target.w, y: mid.y }];
    assert!(through.problems().iter().any(|p| p.contains("runs through")), "{:?}", through.problems());

    let mut shared = fresh.clone();
    shared.edges[1].points = shared.edges[0].points.clone();
    assert!(shared.problems().iter().any(|p| p.contains("share a line")), "{:?}", shared.problems());

    let mut labelled = fresh;
    let label = labelled.groups.iter().find_map(|g| g.label.clone()).expect("a labelled group");
    let r: Rect = label.rect;
    labelled.edges[0].points =
        vec![Point { x: r.x - 5.0, y: r.y + r.h / 2.0 }, Point { x: r.right() + 5.0, y: r.y + r.h / 2.0 }];
    assert!(labelled.problems().iter().any(|p| p.contains("label")), "{:?}", labelled.problems());
}

#[test]
fn calls_inside_the_cluster_stay_inside_its_border() {
    for p in [bundled(), many(30)] {
        let d = architecture(&p);
        let cluster = d.sketch.groups.iter().position(|g| g.id == "eks-cluster").expect("cluster group");
        let border = d.layout.groups[cluster].rect;
        let mut calls = 0;
        for (e, route) in d.sketch.edges.iter().zip(&d.layout.edges) {
            let inside = route
                .points
                .iter()
                .all(|q| q.x > border.x && q.x < border.right() && q.y > border.y && q.y < border.bottom());
            match e.kind {
                acme_diagram::sketch::EdgeKind::Call => {
                    calls += 1;
                    assert!(inside, "{} leaves the cluster", e.title);
                }
                acme_diagram::sketch::EdgeKind::Bucket | acme_diagram::sketch::EdgeKind::Database => {
                    assert!(!inside, "{} never leaves the cluster", e.title)
                }
                _ => {}
            }
        }
        assert!(calls > 0);
    }
}

#[test]
fn arrows_between_boxes_that_line_up_are_straight() {
    let p = bundled();
    let straight = |d: &Diagram, from: &str, to: &str| {
        let i = d.sketch.edges.iter().position(|e| d.sketch.nodes[e.from].id == from && d.sketch.nodes[e.to].id == to);
        let i = i.unwrap_or_else(|| panic!("{from} → {to} drawn"));
        d.layout.edges[i].points.len() == 2
    };
    let t = traffic(&p);
    for rule in t.sketch.nodes.iter().filter(|n| n.id.starts_with("rule-")) {
        let service = format!("service-{}", rule.data.iter().find(|(k, _)| *k == "service").expect("service").1);
        assert!(straight(&t, "alb", &rule.id), "ALB → {}", rule.id);
        assert!(straight(&t, &rule.id, &service), "{} → {service}", rule.id);
    }
    assert!(straight(&t, "users", "route53") && straight(&t, "route53", "waf") && straight(&t, "waf", "alb"));
    let a = architecture(&p);
    assert!(straight(&a, "waf", "alb") && straight(&a, "route53", "alb") && straight(&a, "users", "route53"));
    // The services in the cluster's first row sit right under the load balancer.
    let first_row = a.sketch.nodes.iter().filter(|n| n.id.starts_with("service-")).map(|n| n.cell.layer).min();
    let under: Vec<&str> = a
        .sketch
        .nodes
        .iter()
        .filter(|n| Some(n.cell.layer) == first_row && n.id.starts_with("service-"))
        .map(|n| n.id.as_str())
        .collect();
    assert_eq!(under, ["service-web", "service-api"]);
    for s in under {
        assert!(straight(&a, "alb", s), "ALB → {s}");
    }
}

#[test]
fn thirty_services_wrap_into_rows_of_seven() {
    let d = architecture(&many(30));
    let services: Vec<&acme_diagram::sketch::Node> =
        d.sketch.nodes.iter().filter(|n| n.id.starts_with("service-")).collect();
    let columns: BTreeSet<usize> = services.iter().map(|n| n.cell.column).collect();
    let layers: BTreeSet<usize> = services.iter().map(|n| n.cell.layer).collect();
    assert_eq!((columns.len(), layers.len()), (7, 5));
}

#[test]
fn the_output_is_the_same_every_time() {
    for (name, p) in variants() {
        assert_eq!(files(&p), files(&p.clone()), "{name}");
    }
    let names: Vec<String> = files(&bundled()).into_keys().collect();
    assert_eq!(
        names,
        [
            "diagrams/architecture.mmd",
            "diagrams/architecture.svg",
            "diagrams/traffic-flow.mmd",
            "diagrams/traffic-flow.svg"
        ]
    );
}

/// The layout in words: where each box is and the path of each arrow. Reviewable in a diff.
fn summary(d: &Diagram) -> String {
    let mut out = format!("{} × {}\n", d.layout.width, d.layout.height);
    for (n, b) in d.sketch.nodes.iter().zip(&d.layout.nodes) {
        out.push_str(&format!("node {} at ({}, {}) {} × {}\n", n.id, b.rect.x, b.rect.y, b.rect.w, b.rect.h));
    }
    for (e, r) in d.sketch.edges.iter().zip(&d.layout.edges) {
        let points: Vec<String> = r.points.iter().map(|p| format!("({}, {})", p.x, p.y)).collect();
        out.push_str(&format!("edge {}: {}\n", e.title, points.join(" ")));
    }
    out
}

#[test]
fn snapshots_of_the_bundled_pictures() {
    let p = bundled();
    for d in diagrams(&p) {
        insta::assert_snapshot!(format!("{}.mmd", d.name), d.mermaid());
        let rounded = summary(&d).split(' ').map(round).collect::<Vec<_>>().join(" ");
        insta::assert_snapshot!(format!("{}.layout", d.name), rounded);
    }
}

/// Numbers to one decimal in the summary, so a change in the last bit of a float is no diff.
fn round(word: &str) -> String {
    let (open, rest) = word.split_at(word.find(|c: char| c.is_ascii_digit() || c == '-').unwrap_or(word.len()));
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).unwrap_or(rest.len());
    match rest[..end].parse::<f64>() {
        Ok(v) if end > 0 => format!("{open}{}{}", acme_diagram::svg::num(v), &rest[end..]),
        _ => word.to_owned(),
    }
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        proptest::option::weighted(0.5, 0usize..6),
        proptest::bool::weighted(0.15),
        proptest::collection::vec(0usize..45, 0..4),
        proptest::bool::weighted(0.3),
        proptest::bool::weighted(0.15),
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(host, websocket, calls, database, bucket, own_namespace)| Shape {
            host,
            websocket,
            calls,
            database,
            bucket,
            own_namespace,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Any platform: everything drawn, nothing overlapping, well-formed output.
    #[test]
    fn any_platform_lays_out_cleanly(
        shapes in proptest::collection::vec(shape(), 1..45),
        waf in any::<bool>(),
        database in any::<bool>(),
    ) {
        let p = generated(&shapes, waf, database);
        for d in diagrams(&p) {
            let problems = d.layout.problems();
            prop_assert!(problems.is_empty(), "{}: {:#?}", d.name, problems);
        }
        assert_architecture_complete(&p);
        assert_traffic_complete(&p);
    }
}
