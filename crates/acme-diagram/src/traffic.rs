//! The traffic-flow picture: the proposal's user traffic flow, drawn from acme.yaml.
//!
//! Left to right: the user, Route 53, WAF (when on), the load balancer, then one box per
//! listener rule (host and path, with the priority the edge stack gives it), each leading to
//! its service; services without a route stand in the same column, reachable only from other
//! services. Calls between services (`talks_to`) run on the right. The rules are the edge
//! stack's own (`edge::listener_routes`), so the picture shows what the load balancer does.

use crate::architecture::{TEXT_WIDTH, calls, plural, request_kind, service_lines, waf_lines};
use crate::sketch::{Cell, EdgeKind, Flow, Line, NodeKind, Sketch, card, wrapped};
use crate::text::Style;
use acme_spec::Platform;
use acme_synth::stacks::edge;

pub fn sketch(p: &Platform) -> Sketch {
    let mut s = Sketch::new(
        format!("{} · user traffic flow", p.name),
        format!(
            "{}, from acme.yaml by acmectl diagram: each host and path rule of the load balancer, and the calls between services",
            p.region
        ),
        Flow::LeftRight,
    );

    // One column per listener rule, grouped by service; a service without rules gets one.
    let rules = edge::listener_routes(p);
    let columns: Vec<Vec<&edge::ListenerRoute>> =
        p.services.iter().map(|svc| rules.iter().filter(|r| r.service.name == svc.name).collect()).collect();
    let width: usize = columns.iter().map(|own| own.len().max(1)).sum::<usize>().max(1);
    let middle = (width - 1) / 2;

    let mut layer = 0;
    let users = s.node(
        "users",
        "Users",
        NodeKind::Users,
        vec![Line::new(Style::Title, "Users"), Line::new(Style::Note, "browser or app")],
        Cell::at(layer, middle),
        None,
    );
    layer += 1;
    let hosts = p.hosts();
    let noun = plural(hosts.len(), "host", "hosts");
    let r53 =
        card("Amazon Route 53", format!("{} {noun} in {}", hosts.len(), p.domain), "alias records → load balancer");
    let route53 = s.node("route53", "Amazon Route 53", NodeKind::Networking, r53, Cell::at(layer, middle), None);
    s.edge(users, route53, EdgeKind::Dns);
    let mut last = route53;
    if p.edge.waf {
        layer += 1;
        let waf = s.node("waf", "AWS WAF", NodeKind::Security, waf_lines(), Cell::at(layer, middle), None);
        s.edge(last, waf, EdgeKind::Request);
        last = waf;
    }
    layer += 1;
    let shards = acme_synth::stacks::shards::plan(p).shards.len();
    let websocket = p.services.iter().any(|s| s.websocket && !s.routes.is_empty());
    let alb_lines = vec![
        Line::new(
            Style::Title,
            if shards == 1 {
                "Application Load Balancer".to_owned()
            } else {
                format!("{shards} Application Load Balancers")
            },
        ),
        Line::new(Style::Body, "HTTPS :443 · TLS 1.2 and 1.3"),
        Line::new(Style::Note, "HTTP :80 redirects to HTTPS"),
        Line::new(Style::Note, format!("idle timeout {} s", edge::idle_timeout_seconds(p, websocket))),
        Line::new(Style::Note, "no rule matches: 404"),
    ];
    let alb = s.node(
        "alb",
        "Application Load Balancer",
        NodeKind::Networking,
        alb_lines,
        Cell::spanning(layer, 0, width),
        None,
    );
    s.edge(last, alb, EdgeKind::Request);
    let rule_layer = layer + 1;
    let service_layer = layer + 2;

    let mut column = 0;
    let mut service_nodes = vec![];
    for (i, (svc, own)) in p.services.iter().zip(&columns).enumerate() {
        let kind = request_kind(svc);
        let span = own.len().max(1);
        let lines = service_lines(svc);
        let node = s.node(
            &format!("service-{}", svc.name),
            &svc.name,
            NodeKind::Service,
            lines,
            Cell::spanning(service_layer, column, span),
            None,
        );
        s.nodes[node].data.push(("service", svc.name.clone()));
        service_nodes.push(node);
        for (k, rule) in own.iter().enumerate() {
            let j = svc.routes.iter().position(|route| route == rule.route).unwrap_or(0);
            let path = match rule.path_patterns() {
                Some(patterns) => format!("path {}", patterns.join(" ")),
                None => "any path".to_owned(),
            };
            let mut lines = wrapped(Style::Title, &rule.route.host, TEXT_WIDTH);
            lines.extend(wrapped(Style::Body, &path, TEXT_WIDTH));
            lines.push(Line::new(Style::Note, format!("priority {} · to :{}", rule.priority, rule.route.port)));
            let name = format!("{}{}", rule.route.host, rule.route.path.as_deref().unwrap_or(""));
            let rule_node = s.node(
                &format!("rule-{}-{j}", svc.name),
                &name,
                NodeKind::Networking,
                lines,
                Cell::at(rule_layer, column + k),
                None,
            );
            s.nodes[rule_node].data.push(("host", rule.route.host.clone()));
            s.nodes[rule_node].data.push(("path", rule.route.path.clone().unwrap_or_default()));
            s.nodes[rule_node].data.push(("service", svc.name.clone()));
            s.edge(alb, rule_node, EdgeKind::Request);
            s.edge(rule_node, node, kind).data.push(("field", format!("services[{i}].routes[{j}]")));
        }
        column += span;
    }
    for i in 0..p.services.len() {
        calls(&mut s, p, &service_nodes, i);
    }
    s
}
