//! How plans, dangers, teardowns and status read, for people (text) and machines (JSON).
//! Pure functions of their input, so tests can hold the wording.

use acme_aws::preflight::Account;
use acme_aws::status::{Drift, Status};
use acme_aws::{Change, ChangePlan, Danger, StackAction, StackPlan, Teardown};
use acme_synth::stacks::shards::ShardPlan;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;

/// `acme in account 123456789012 (arn), us-east-1`
/// Which load balancer carries which hosts, and how full each is against its quotas.
pub fn shard_plan_text(plan: &ShardPlan) -> String {
    let mut out = String::new();
    let q = plan.quotas;
    let n = plan.shards.len();
    let _ = writeln!(
        out,
        "{n} load balancer{} (each ALB's quotas: {} hosts, {} rules, {} target groups, {} targets):",
        if n == 1 { "" } else { "s" },
        q.hosts,
        q.rules,
        q.target_groups,
        q.targets
    );
    for s in &plan.shards {
        let l = s.load;
        let _ = writeln!(
            out,
            "  {:<8} {:>3} hosts {:>3}%  {:>3} rules {:>3}%  {:>3} target groups {:>3}%  {:>4} targets {:>3}%",
            s.stack.to_string(),
            l.hosts,
            100 * l.hosts / q.hosts.max(1),
            l.rules,
            100 * l.rules / q.rules.max(1),
            l.target_groups,
            100 * l.target_groups / q.target_groups.max(1),
            l.targets,
            100 * l.targets / q.targets.max(1),
        );
        if !s.hosts.is_empty() {
            let _ = writeln!(out, "           {}", s.hosts.join(", "));
        }
    }
    out
}

pub fn account_line(platform: &str, account: &Account) -> String {
    format!("{platform} in account {} as {}, {}", account.account_id, account.arn, account.region)
}

/// The plan, one block per stack; creations summarized by type, updates resource by resource.
pub fn plan_text(plan: &ChangePlan, dangers: &[Danger]) -> String {
    let mut out = String::new();
    for s in &plan.stacks {
        let _ = writeln!(out, "{}", stack_heading(s));
        if s.action == StackAction::Create || s.action == StackAction::Recreate {
            let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
            for c in &s.changes {
                *by_type.entry(c.resource_type.as_str()).or_default() += 1;
            }
            let _ = writeln!(out, "    add {} resources:", s.changes.len());
            for (ty, n) in by_type {
                let _ = writeln!(out, "      {n:>3} × {ty}");
            }
            continue;
        }
        for c in &s.changes {
            let mark = if c.holds_data && c.may_destroy() { "  ← holds data" } else { "" };
            let _ = writeln!(out, "    {c}{mark}");
        }
    }
    let count = |a: StackAction| plan.stacks.iter().filter(|s| s.action == a).count();
    let _ = write!(
        out,
        "\nPlan: {} to create, {} to update, {} to recreate, {} unchanged.",
        count(StackAction::Create),
        count(StackAction::Update),
        count(StackAction::Recreate),
        count(StackAction::Unchanged)
    );
    if !dangers.is_empty() {
        let _ = write!(out, "\nDestroys data:");
        for d in dangers {
            let allowed = if d.allowed { " (allowed by --allow-replace)" } else { "" };
            let _ = write!(out, "\n  - {d}{allowed}");
        }
    }
    out.push('\n');
    out
}

fn stack_heading(s: &StackPlan) -> String {
    let status = s.status.as_deref().map(|st| format!(", now {st}")).unwrap_or_default();
    let what = match s.action {
        StackAction::Unchanged => "no changes".to_owned(),
        StackAction::Recreate => "recreate (its creation failed and rolled back: deleted, then created)".to_owned(),
        StackAction::Create => "create".to_owned(),
        StackAction::Update => {
            format!("update, {} change{}", s.changes.len(), if s.changes.len() == 1 { "" } else { "s" })
        }
    };
    let deferred = s.deferred.as_deref().map(|d| format!("; no change set yet: {d}")).unwrap_or_default();
    format!("{} ({}{status}): {what}{deferred}", s.stack, s.stack_name)
}

pub fn change_json(c: &Change) -> Value {
    json!({
        "action": c.action,
        "verb": c.verb(),
        "logical_id": c.logical_id,
        "type": c.resource_type,
        "physical_id": c.physical_id,
        "replacement": c.replacement,
        "replacing_properties": c.replacing_properties(),
        "holds_data": c.holds_data,
        "causes": c.causes.iter().map(|x| json!({
            "attribute": x.attribute,
            "property": x.property,
            "requires_recreation": x.requires_recreation,
            "source": x.source,
            "causing_entity": x.causing_entity,
            "judged_by": match x.judged_by { acme_aws::Judge::Account => "account", acme_aws::Judge::Acmectl => "acmectl" },
        })).collect::<Vec<_>>(),
    })
}

pub fn danger_json(d: &Danger) -> Value {
    json!({
        "stack": d.stack,
        "stack_name": d.stack_name,
        "logical_id": d.change.logical_id,
        "type": d.change.resource_type,
        "physical_id": d.change.physical_id,
        "action": d.change.verb(),
        "replacing_properties": d.change.replacing_properties(),
        "allowed": d.allowed,
        "allow_with": format!("--allow-replace {}/{}", d.stack, d.change.logical_id),
    })
}

pub fn plan_json(plan: &ChangePlan, account: &Account, dangers: &[Danger]) -> Value {
    json!({
        "platform": plan.platform,
        "account": account.account_id,
        "region": account.region,
        "changes": plan.has_changes(),
        "stacks": plan.stacks.iter().map(|s| json!({
            "stack": s.stack,
            "stack_name": s.stack_name,
            "status": s.status,
            "action": s.action.as_str(),
            "change_set": s.change_set.as_ref().map(|c| c.name.clone()),
            "deferred": s.deferred,
            "changes": s.changes.iter().map(change_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "dangers": dangers.iter().map(danger_json).collect::<Vec<_>>(),
    })
}

/// What destroy would delete and what it leaves, before asking.
pub fn teardown_text(t: &Teardown) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Stacks to delete, in this order (independent ones in parallel):");
    for s in &t.stacks {
        let _ = writeln!(out, "  {} ({}, now {})", s.stack, s.stack_name, s.status);
    }
    if !t.kept.is_empty() {
        let _ = writeln!(out, "Left in the account (DeletionPolicy):");
        let _ = write!(out, "{}", kept_text(t));
    }
    out
}

/// The resources a destroy leaves, one per line.
pub fn kept_text(t: &Teardown) -> String {
    let mut out = String::new();
    for k in &t.kept {
        let what = if k.policy == "Snapshot" { "deleted after a final snapshot" } else { "kept" };
        let _ = writeln!(
            out,
            "  {:<28} {}/{}  {}  ({what})",
            k.resource_type,
            k.stack_name,
            k.logical_id,
            k.physical_id.as_deref().unwrap_or("(no id)")
        );
    }
    out
}

pub fn teardown_json(t: &Teardown, deleted: &[String]) -> Value {
    json!({
        "platform": t.platform,
        "deleted": deleted,
        "kept": t.kept.iter().map(|k| json!({
            "stack_name": k.stack_name,
            "logical_id": k.logical_id,
            "type": k.resource_type,
            "physical_id": k.physical_id,
            "policy": k.policy,
        })).collect::<Vec<_>>(),
    })
}

pub fn status_text(status: &Status) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Stacks:");
    for s in &status.stacks {
        let state = s.status.as_deref().unwrap_or("not deployed");
        let drift = match &s.drift {
            Drift::InSync => "in sync".to_owned(),
            Drift::Drifted(r) => format!("DRIFTED: {}", r.join("; ")),
            Drift::Unknown(why) => format!("drift unknown: {why}"),
            Drift::NotChecked => String::new(),
        };
        let reason =
            s.reason.as_deref().filter(|_| state.contains("FAILED")).map(|r| format!(" ({r})")).unwrap_or_default();
        let _ = writeln!(out, "  {:<14} {:<26}{reason} {drift}", s.stack.to_string(), state);
    }
    let _ = writeln!(out, "Alarms in ALARM:");
    match &status.alarms {
        Ok(alarms) if alarms.is_empty() => {
            let _ = writeln!(out, "  none");
        }
        Ok(alarms) => {
            for a in alarms {
                let _ = writeln!(out, "  {} since {}: {}", a.name, a.since.as_deref().unwrap_or("?"), a.reason);
            }
        }
        Err(e) => {
            let _ = writeln!(out, "  cannot be read: {e}");
        }
    }
    let _ = writeln!(out, "Targets:");
    for t in &status.targets {
        let line = match &t.error {
            Some(e) => format!("unknown: {e}"),
            None if t.unhealthy.is_empty() => format!("{} healthy", t.healthy),
            None => format!("{} healthy, {} not: {}", t.healthy, t.unhealthy.len(), t.unhealthy.join("; ")),
        };
        let _ = writeln!(out, "  {}:{}  {line}", t.service, t.port);
    }
    out
}

pub fn status_json(status: &Status) -> Value {
    json!({
        "attention": status.needs_attention(),
        "stacks": status.stacks.iter().map(|s| json!({
            "stack": s.stack,
            "stack_name": s.stack_name,
            "status": s.status,
            "reason": s.reason,
            "drift": match &s.drift {
                Drift::InSync => json!({ "status": "IN_SYNC" }),
                Drift::Drifted(r) => json!({ "status": "DRIFTED", "resources": r }),
                Drift::Unknown(why) => json!({ "status": "UNKNOWN", "reason": why }),
                Drift::NotChecked => json!({ "status": "NOT_CHECKED" }),
            },
        })).collect::<Vec<_>>(),
        "alarms": match &status.alarms {
            Ok(a) => json!(a.iter().map(|a| json!({ "name": a.name, "reason": a.reason, "since": a.since })).collect::<Vec<_>>()),
            Err(e) => json!({ "error": e }),
        },
        "targets": status.targets.iter().map(|t| json!({
            "service": t.service,
            "port": t.port,
            "target_group_arn": t.target_group_arn,
            "healthy": t.healthy,
            "unhealthy": t.unhealthy,
            "error": t.error,
        })).collect::<Vec<_>>(),
    })
}

/// The Kubernetes part of a plan: objects that change, with the fields.
pub fn kube_plan_text(plan: &acme_kube::Plan) -> String {
    let mut out = String::from("Kubernetes:\n");
    let mut unchanged = 0;
    for c in &plan.changes {
        match &c.action {
            acme_kube::Action::Unchanged => unchanged += 1,
            acme_kube::Action::Create => {
                let _ = writeln!(out, "    add      {}", c.object);
            }
            acme_kube::Action::Delete => {
                let _ = writeln!(out, "    delete   {} (acmectl owns it; no longer in acme.yaml)", c.object);
            }
            acme_kube::Action::Update { fields } => {
                let paths: Vec<&str> = fields.iter().map(|f| f.path.as_str()).collect();
                let _ = writeln!(out, "    modify   {}: {}", c.object, paths.join(", "));
            }
        }
        if let Some(conflict) = &c.conflicts {
            let _ = writeln!(out, "             takes over fields from another manager: {conflict}");
        }
    }
    let _ = writeln!(out, "    {unchanged} objects unchanged");
    for kind in &plan.prune_unchecked {
        let _ = writeln!(out, "    note: objects of {kind} could not be listed, so none of them is shown for deletion");
    }
    out
}
