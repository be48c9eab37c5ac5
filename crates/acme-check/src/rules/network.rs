//! Security groups: nothing is open to the whole internet except the public load balancer
//! on 80 (redirect) and 443, and no group lets traffic out to anywhere.

use super::{items, number, referenced_id};
use crate::requirement::NETWORK_POLICIES;
use crate::{Context, Rule, Violation};
use acme_synth::StackName;
use serde_json::Value;

pub static RULES: &[Rule] = &[Rule {
    id: "ACME-NET-001",
    requirement: NETWORK_POLICIES,
    title: "No security group is open to 0.0.0.0/0 or ::/0, except the public load balancer on 80 and 443",
    help: "Every rule names a security group or the VPC's own range. The internet-facing ALB alone takes 80 (redirect only) and 443 from anywhere. A group without egress rules would let everything out, so each states its egress.",
    evaluate: open_groups,
}];

fn open_to_world(rule: &Value) -> Option<&'static str> {
    if rule.get("CidrIp").and_then(Value::as_str) == Some("0.0.0.0/0") {
        Some("0.0.0.0/0")
    } else if rule.get("CidrIpv6").and_then(Value::as_str) == Some("::/0") {
        Some("::/0")
    } else {
        None
    }
}

/// TCP on exactly port 80 or 443.
fn web_port(rule: &Value) -> bool {
    let tcp = matches!(rule.get("IpProtocol").and_then(Value::as_str), Some("tcp" | "6"));
    let from = number(rule.get("FromPort"));
    tcp && from == number(rule.get("ToPort")) && matches!(from, Some(80.0) | Some(443.0))
}

fn public_alb_groups<'a>(ctx: &Context<'a>) -> Vec<(StackName, &'a str)> {
    ctx.resources("AWS::ElasticLoadBalancingV2::LoadBalancer")
        .filter(|(_, _, lb)| lb.property("Scheme").and_then(Value::as_str) == Some("internet-facing"))
        .flat_map(|(stack, _, lb)| {
            items(lb.property("SecurityGroups")).into_iter().filter_map(referenced_id).map(move |id| (stack, id))
        })
        .collect()
}

fn open_groups(ctx: &Context) -> Vec<Violation> {
    let alb = public_alb_groups(ctx);
    let mut found = vec![];
    for (stack, id, group) in ctx.resources("AWS::EC2::SecurityGroup") {
        let is_alb = alb.contains(&(stack, id));
        for (i, rule) in items(group.property("SecurityGroupIngress")).into_iter().enumerate() {
            if let Some(world) = open_to_world(rule).filter(|_| !(is_alb && web_port(rule))) {
                found.push(Violation::at(
                    stack,
                    id,
                    &format!("Properties.SecurityGroupIngress[{i}]"),
                    format!("security group `{id}` lets {world} in{}", ports(rule)),
                ));
            }
        }
        match group.property("SecurityGroupEgress") {
            None => found.push(Violation::at(
                stack,
                id,
                "Properties.SecurityGroupEgress",
                format!("security group `{id}` states no egress, so AWS lets everything out"),
            )),
            Some(egress) => {
                for (i, rule) in items(Some(egress)).into_iter().enumerate() {
                    if let Some(world) = open_to_world(rule) {
                        found.push(Violation::at(
                            stack,
                            id,
                            &format!("Properties.SecurityGroupEgress[{i}]"),
                            format!("security group `{id}` lets everything out to {world}{}", ports(rule)),
                        ));
                    }
                }
            }
        }
    }
    for (direction, resource_type) in
        [("in", "AWS::EC2::SecurityGroupIngress"), ("out", "AWS::EC2::SecurityGroupEgress")]
    {
        for (stack, id, rule) in ctx.resources(resource_type) {
            let Some(world) = open_to_world(&rule.properties) else { continue };
            let to_alb = rule.property("GroupId").and_then(referenced_id).is_some_and(|g| alb.contains(&(stack, g)));
            if direction == "in" && to_alb && web_port(&rule.properties) {
                continue;
            }
            found.push(Violation::at(
                stack,
                id,
                "Properties",
                format!("`{id}` lets {world} {direction}{}", ports(&rule.properties)),
            ));
        }
    }
    found
}

fn ports(rule: &Value) -> String {
    match (number(rule.get("FromPort")), number(rule.get("ToPort"))) {
        (Some(a), Some(b)) if a == b => format!(" on port {a}"),
        (Some(a), Some(b)) => format!(" on ports {a}-{b}"),
        _ => " on every port".into(),
    }
}
