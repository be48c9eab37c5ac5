//! Alarms: every alarm tells someone. It notifies an SNS topic, and the topic has a subscriber.

use super::{is_true, items, referenced_id};
use crate::requirement::ALERTS;
use crate::{Context, Rule, Violation};
use serde_json::Value;

pub static RULES: &[Rule] = &[
    Rule {
        id: "ACME-ALARM-001",
        requirement: ALERTS,
        title: "Every alarm notifies the alert topic",
        help: "An alarm whose actions are off or point nowhere fires unseen.",
        evaluate: alarm_actions,
    },
    Rule {
        id: "ACME-ALARM-002",
        requirement: ALERTS,
        title: "The alert topic has a subscriber",
        help: "A topic nobody subscribes to drops every alert. `alerts.email` subscribes addresses (each confirms by mail).",
        evaluate: subscribers,
    },
];

/// Topics (stack-local logical ids) that alarms notify.
fn notified_topics(alarm: &acme_cfn::Resource) -> impl Iterator<Item = &str> {
    items(alarm.property("AlarmActions")).into_iter().filter_map(referenced_id)
}

fn alarm_actions(ctx: &Context) -> Vec<Violation> {
    let topics: Vec<_> = ctx.resources("AWS::SNS::Topic").map(|(stack, id, _)| (stack, id)).collect();
    let mut found = vec![];
    for (stack, id, alarm) in ctx.resources("AWS::CloudWatch::Alarm") {
        if alarm.property("ActionsEnabled").is_some_and(|v| !is_true(Some(v))) {
            found.push(Violation::at(
                stack,
                id,
                "Properties.ActionsEnabled",
                format!("alarm `{id}` has its actions switched off"),
            ));
            continue;
        }
        if !notified_topics(alarm).any(|t| topics.contains(&(stack, t))) {
            found.push(Violation::at(
                stack,
                id,
                "Properties.AlarmActions",
                format!("alarm `{id}` notifies no SNS topic"),
            ));
        }
    }
    found
}

fn subscribers(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (stack, id, topic) in ctx.resources("AWS::SNS::Topic") {
        let notified =
            ctx.resources("AWS::CloudWatch::Alarm").any(|(s, _, a)| s == stack && notified_topics(a).any(|t| t == id));
        if !notified {
            continue;
        }
        let inline = !items(topic.property("Subscription")).is_empty();
        let subscribed = inline
            || ctx.resources("AWS::SNS::Subscription").any(|(s, _, sub)| {
                s == stack
                    && sub.property("TopicArn").and_then(referenced_id) == Some(id)
                    && sub.property("Endpoint").is_some_and(|e| e != &Value::Null)
            });
        if !subscribed {
            let v = Violation::at(stack, id, "", format!("alert topic `{id}` has no subscriber: alarms reach nobody"));
            found.push(if ctx.platform.alerts.email.is_empty() {
                v.field("alerts.email", "add `alerts: { email: [you@example.com] }`")
            } else {
                v.fix("keep the topic's email subscriptions: remove the override that changes them")
            });
        }
    }
    found
}
