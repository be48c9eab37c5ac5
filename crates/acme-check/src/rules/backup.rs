//! Backup: an AWS Backup plan takes the database, beyond RDS's own point-in-time recovery.

use super::{items, referenced_id};
use crate::requirement::BACKUPS;
use crate::{Context, Rule, Violation};
use acme_synth::StackName;
use serde_json::Value;

pub static RULES: &[Rule] = &[Rule {
    id: "ACME-BACKUP-001",
    requirement: BACKUPS,
    title: "The backup plan covers the database",
    help: "A daily AWS Backup plan with at least one rule selects the RDS instance (by the data stack's DatabaseInstanceArn output), so copies live in a vault apart from the instance.",
    evaluate: covers_database,
}];

fn covers_database(ctx: &Context) -> Vec<Violation> {
    if ctx.resources("AWS::RDS::DBInstance").next().is_none() {
        return vec![];
    }
    let Some(stack) = ctx.artifacts.stack(StackName::Backup) else {
        return vec![Violation::at(
            StackName::Backup,
            "BackupPlan",
            "",
            "the platform has a database but no backup stack",
        )];
    };
    // Parameters of the backup stack that carry the instance's ARN from the data stack.
    let database_params: Vec<&str> = stack
        .inputs
        .iter()
        .filter(|i| i.from == StackName::Data && i.output == acme_synth::stacks::names::outputs::DATABASE_INSTANCE_ARN)
        .map(|i| i.parameter.as_str())
        .collect();
    let mut found = vec![];
    let plans: Vec<(&str, &acme_cfn::Resource)> = ctx
        .resources("AWS::Backup::BackupPlan")
        .filter(|(s, _, _)| *s == stack.name)
        .map(|(_, id, r)| (id, r))
        .collect();
    for (id, plan) in &plans {
        if items(plan.property("BackupPlan.BackupPlanRule")).is_empty() {
            found.push(Violation::at(
                stack.name,
                id,
                "Properties.BackupPlan.BackupPlanRule",
                format!("backup plan `{id}` has no rule: it never runs"),
            ));
        }
    }
    let selected = ctx.resources("AWS::Backup::BackupSelection").any(|(s, _, sel)| {
        s == stack.name
            && plans.iter().any(|(plan, _)| sel.property("BackupPlanId").and_then(referenced_id) == Some(plan))
            && items(sel.property("BackupSelection.Resources"))
                .iter()
                .any(|r: &&Value| referenced_id(r).is_some_and(|p| database_params.contains(&p)))
    });
    if !selected {
        let (id, property) = ctx
            .resources("AWS::Backup::BackupSelection")
            .find(|(s, _, _)| *s == stack.name)
            .map_or(("BackupSelection", ""), |(_, id, _)| (id, "Properties.BackupSelection.Resources"));
        found.push(Violation::at(stack.name, id, property, "no backup plan selects the database"));
    }
    found
}
