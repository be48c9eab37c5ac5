//! The load balancer: users reach it over HTTPS with a modern TLS policy, plain HTTP only
//! redirects, and AWS WAF's managed rules stand in front of it.

use super::{items, refers_to, show};
use crate::requirement::{ADVISORIES, HTTPS};
use crate::{Context, Rule, Violation};

pub static RULES: &[Rule] = &[
    Rule {
        id: "ACME-LB-001",
        requirement: HTTPS,
        title: "HTTPS listeners use a modern TLS policy (TLS 1.2 and 1.3 only)",
        help: "The HTTPS listener's security policy is one of the ELBSecurityPolicy-TLS13-1-2 or -1-3 families: no TLS 1.0 or 1.1, which browsers and PCI DSS have retired. acmectl's default is ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09; `edge.tls_policy` may relax it for old clients.",
        evaluate: tls_policy,
    },
    Rule {
        id: "ACME-LB-002",
        requirement: HTTPS,
        title: "Plain HTTP listeners only redirect to HTTPS",
        help: "Port 80 exists only so that browsers typing a bare host name land on HTTPS: its listener answers every request with a redirect and has no forwarding rules.",
        evaluate: http_redirects_only,
    },
    Rule {
        id: "ACME-LB-003",
        requirement: ADVISORIES,
        title: "Internet-facing load balancers are behind AWS WAF",
        help: "A WAF web ACL with AWS managed rule groups, which AWS updates as new attacks are published, and a per-IP rate limit. `edge.waf: false` turns it off.",
        evaluate: waf,
    },
];

/// TLS 1.2 as the floor and TLS 1.3 offered: the `TLS13-1-2` and `TLS13-1-3` families.
pub fn modern_tls_policy(policy: &str) -> bool {
    ["ELBSecurityPolicy-TLS13-1-2", "ELBSecurityPolicy-TLS13-1-3"].iter().any(|p| policy.starts_with(p))
}

fn tls_policy(ctx: &Context) -> Vec<Violation> {
    let relaxed = !modern_tls_policy(&ctx.platform.edge.tls_policy);
    let mut found = vec![];
    for (stack, id, r) in ctx.resources("AWS::ElasticLoadBalancingV2::Listener") {
        if r.property("Protocol").and_then(|p| p.as_str()) != Some("HTTPS") {
            continue;
        }
        let policy = r.property("SslPolicy").and_then(|p| p.as_str()).unwrap_or("");
        if !modern_tls_policy(policy) {
            let v = Violation::at(
                stack,
                id,
                "Properties.SslPolicy",
                format!(
                    "listener `{id}` uses TLS policy {}, which allows TLS below 1.2 or lacks TLS 1.3",
                    show(r.property("SslPolicy"))
                ),
            );
            found.push(if relaxed {
                v.field(
                    "edge.tls_policy",
                    format!(
                        "remove `edge.tls_policy` (default {}) or name a TLS13-1-2 policy",
                        acme_spec::validate::DEFAULT_TLS_POLICY
                    ),
                )
            } else {
                v
            });
        }
    }
    found
}

fn http_redirects_only(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (stack, id, r) in ctx.resources("AWS::ElasticLoadBalancingV2::Listener") {
        match r.property("Protocol").and_then(|p| p.as_str()) {
            Some("HTTPS") => continue,
            Some("HTTP") => {}
            _ => {
                found.push(Violation::at(
                    stack,
                    id,
                    "Properties.Protocol",
                    format!(
                        "listener `{id}` speaks {}, neither HTTPS nor a redirecting HTTP",
                        show(r.property("Protocol"))
                    ),
                ));
                continue;
            }
        }
        let actions = items(r.property("DefaultActions"));
        let redirects = !actions.is_empty()
            && actions.iter().all(|a| {
                a.get("Type").and_then(|t| t.as_str()) == Some("redirect")
                    && a.pointer("/RedirectConfig/Protocol").and_then(|p| p.as_str()) == Some("HTTPS")
            });
        if !redirects {
            found.push(Violation::at(
                stack,
                id,
                "Properties.DefaultActions",
                format!("HTTP listener `{id}` does something other than redirect to HTTPS"),
            ));
        }
        for (rule_stack, rule_id, rule) in ctx.resources("AWS::ElasticLoadBalancingV2::ListenerRule") {
            if rule_stack == stack && rule.property("ListenerArn").is_some_and(|l| refers_to(l, id)) {
                found.push(Violation::at(
                    rule_stack,
                    rule_id,
                    "Properties.ListenerArn",
                    format!("rule `{rule_id}` serves traffic on the plain HTTP listener `{id}`"),
                ));
            }
        }
    }
    found
}

fn waf(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (stack, id, r) in ctx.resources("AWS::ElasticLoadBalancingV2::LoadBalancer") {
        if r.property("Scheme").and_then(|s| s.as_str()) != Some("internet-facing") {
            continue;
        }
        let protected = ctx
            .resources("AWS::WAFv2::WebACLAssociation")
            .any(|(s, _, a)| s == stack && a.property("ResourceArn").is_some_and(|arn| refers_to(arn, id)));
        if !protected {
            let v = Violation::at(stack, id, "", format!("internet-facing load balancer `{id}` has no WAF web ACL"));
            found.push(if ctx.platform.edge.waf {
                v.fix("keep the WebAclAssociation: remove the override that detaches it")
            } else {
                v.field("edge.waf", "remove `edge.waf: false` (WAF is on by default)")
            });
        }
    }
    found
}
