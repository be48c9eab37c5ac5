//! The `backup` stack: an AWS Backup vault and a daily plan for the database.
//!
//! Point-in-time recovery stays with RDS itself (the data stack's `BackupRetentionPeriod`).
//! AWS Backup's continuous backup for RDS would take that setting over: RDS then rejects any
//! other `BackupRetentionPeriod` from the data stack and CloudFormation reports drift, so one
//! spec change would break the deploy. This stack adds what RDS lacks instead: daily snapshots
//! kept for `backup.retention_days` (beyond RDS's 35-day limit if asked), in a vault with its
//! own key, a deny on deleting recovery points, an optional Vault Lock and an optional copy to
//! a vault in another region.
//!
//! Vault notifications to the alert topic are not set: the observability stack that owns the
//! topic is built after this one.

use crate::stacks::names::outputs;
use crate::{Stack, StackName};
use acme_cfn::resources::backup::{
    BackupPlan, BackupPlanResourceType, BackupRule, BackupSelection, BackupSelectionResourceType, BackupVault,
    CopyAction, Lifecycle, LockConfiguration,
};
use acme_cfn::resources::iam::{Effect, PolicyDocument, Principal, Role, Statement, aws_managed};
use acme_cfn::{Expr, ParameterType};
use acme_spec::Platform;
use serde_json::json;

const VAULT: &str = "BackupVault";
const PLAN: &str = "BackupPlan";
const ROLE: &str = "BackupRole";

pub fn vault_name(p: &Platform) -> String {
    format!("{}-backup", p.name)
}

pub fn build(p: &Platform) -> Stack {
    let mut stack = Stack::new(
        StackName::Backup,
        format!("{}: AWS Backup vault, daily plan and selection of the database.", p.name),
    );
    let backup_key = stack.import(StackName::Keys, outputs::BACKUP_KEY_ARN, ParameterType::String);
    let database_arn = stack.import(StackName::Data, outputs::DATABASE_INSTANCE_ARN, ParameterType::String);
    let b = &p.backup;
    let t = &mut stack.template;

    t.add(
        VAULT,
        BackupVault {
            backup_vault_name: vault_name(p),
            encryption_key_arn: Some(backup_key),
            // Nobody (a stolen admin included) can delete a recovery point early or shorten its
            // lifecycle. Expiry by the plan's lifecycle is done by AWS Backup itself and is not
            // subject to this policy: the same deny is what AWS's Config rule
            // backup-recovery-point-manual-deletion-disabled asks for and what CDK's
            // blockRecoveryPointDeletion() writes. Replacing the policy stays possible (and is in
            // CloudTrail), for a deliberate decommission.
            access_policy: Some(PolicyDocument::new(vec![
                Statement::deny(&["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"], vec!["*"])
                    .sid("DenyEarlyRecoveryPointDeletion")
                    .principal(Principal::anyone()),
            ])),
            lock_configuration: b.vault_lock.as_ref().map(|lock| LockConfiguration {
                min_retention_days: lock.min_retention_days,
                max_retention_days: Some(lock.max_retention_days),
                changeable_for_days: lock.changeable_for_days,
            }),
            notifications: None,
        },
    )
    .retain();

    let lifecycle = Lifecycle { delete_after_days: Some(b.retention_days), move_to_cold_storage_after_days: None };
    t.add(
        PLAN,
        BackupPlan {
            backup_plan: BackupPlanResourceType {
                backup_plan_name: format!("{}-database", p.name),
                backup_plan_rule: vec![BackupRule {
                    rule_name: "daily".into(),
                    target_backup_vault: Expr::r#ref(VAULT),
                    schedule_expression: Some(b.schedule.clone()),
                    // Start within the hour of the schedule (the minimum), so the job stays
                    // clear of the RDS backup and maintenance windows; a snapshot may take its time.
                    start_window_minutes: Some(60),
                    completion_window_minutes: Some(24 * 60),
                    lifecycle: Some(lifecycle.clone()),
                    copy_actions: b
                        .copy_to
                        .iter()
                        .map(|copy| CopyAction {
                            destination_backup_vault_arn: Expr::Lit(copy.vault_arn.clone()),
                            lifecycle: Some(lifecycle.clone()),
                        })
                        .collect(),
                    enable_continuous_backup: None,
                }],
            },
        },
    );

    t.add(
        ROLE,
        Role {
            description: Some(format!("AWS Backup backs up and restores the {} database", p.name)),
            assume_role_policy_document: Some(PolicyDocument::new(vec![Statement {
                sid: None,
                effect: Effect::Allow,
                principal: Some(Principal::service("backup.amazonaws.com")),
                action: vec!["sts:AssumeRole".into()],
                resource: None,
                condition: Some(json!({ "StringEquals": { "aws:SourceAccount": { "Ref": "AWS::AccountId" } } })),
            }])),
            managed_policy_arns: vec![
                aws_managed("service-role/AWSBackupServiceRolePolicyForBackup"),
                aws_managed("service-role/AWSBackupServiceRolePolicyForRestores"),
            ],
            ..Role::default()
        },
    );

    t.add(
        "BackupSelection",
        BackupSelection {
            backup_plan_id: Expr::r#ref(PLAN),
            backup_selection: BackupSelectionResourceType {
                selection_name: "database".into(),
                iam_role_arn: Expr::att(ROLE, "Arn"),
                resources: vec![database_arn],
            },
        },
    );

    t.output("BackupVaultName", "Name of the AWS Backup vault.", Expr::r#ref(VAULT));
    t.output("BackupVaultArn", "ARN of the AWS Backup vault.", Expr::att(VAULT, "BackupVaultArn"));
    t.output("BackupPlanId", "Id of the AWS Backup plan.", Expr::att(PLAN, "BackupPlanId"));
    stack
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stacks::testing::{prop, resource};

    use acme_spec::{BackupCopy, VaultLock};

    fn locked_and_copied() -> Platform {
        let mut p = acme_spec::fixture::acme();
        p.backup.vault_lock =
            Some(VaultLock { min_retention_days: 7, max_retention_days: 365, changeable_for_days: Some(3) });
        p.backup.copy_to = Some(BackupCopy {
            region: "us-west-2".into(),
            vault_arn: "arn:aws:backup:us-west-2:111122223333:backup-vault:acme-dr".into(),
        });
        p
    }

    #[test]
    fn vault_is_encrypted_with_the_backup_key_and_retained() {
        let s = build(&acme_spec::fixture::acme());
        assert_eq!(prop(&s, VAULT, "EncryptionKeyArn"), &json!({ "Ref": "BackupKeyArn" }));
        assert_eq!(prop(&s, VAULT, "BackupVaultName"), &json!("acme-backup"));
        assert_eq!(resource(&s, VAULT).deletion_policy, Some(acme_cfn::Policy::Retain));
        assert_eq!(resource(&s, VAULT).update_replace_policy, Some(acme_cfn::Policy::Retain));
        let deny = prop(&s, VAULT, "AccessPolicy.Statement.0");
        assert_eq!(deny["Effect"], json!("Deny"));
        assert_eq!(deny["Principal"], json!({ "AWS": "*" }));
        assert!(deny["Action"].as_array().is_some_and(|a| a.contains(&json!("backup:DeleteRecoveryPoint"))));
    }

    #[test]
    fn plan_runs_on_the_schedule_and_keeps_recovery_points_for_the_retention() {
        let s = build(&acme_spec::fixture::acme());
        let rules = prop(&s, PLAN, "BackupPlan.BackupPlanRule");
        assert_eq!(rules.as_array().map(Vec::len), Some(1));
        assert_eq!(rules[0]["ScheduleExpression"], json!("cron(0 5 * * ? *)"));
        assert_eq!(rules[0]["Lifecycle"], json!({ "DeleteAfterDays": 35 }));
        assert_eq!(rules[0]["TargetBackupVault"], json!({ "Ref": VAULT }));
        assert!(rules[0].get("EnableContinuousBackup").is_none(), "PITR stays with RDS");
    }

    #[test]
    fn selection_targets_the_database_arn_with_a_scoped_backup_role() {
        let s = build(&acme_spec::fixture::acme());
        assert_eq!(
            prop(&s, "BackupSelection", "BackupSelection.Resources"),
            &json!([{ "Ref": "DatabaseInstanceArn" }])
        );
        assert_eq!(prop(&s, "BackupSelection", "BackupPlanId"), &json!({ "Ref": PLAN }));
        assert_eq!(
            s.inputs.iter().find(|i| i.parameter == "DatabaseInstanceArn").map(|i| i.from),
            Some(StackName::Data)
        );
        let trust = prop(&s, ROLE, "AssumeRolePolicyDocument.Statement.0");
        assert_eq!(trust["Principal"], json!({ "Service": ["backup.amazonaws.com"] }));
        assert_eq!(trust["Condition"]["StringEquals"]["aws:SourceAccount"], json!({ "Ref": "AWS::AccountId" }));
        let policies = prop(&s, ROLE, "ManagedPolicyArns").to_string();
        assert!(policies.contains("service-role/AWSBackupServiceRolePolicyForBackup"));
        assert!(policies.contains("service-role/AWSBackupServiceRolePolicyForRestores"));
    }

    #[test]
    fn vault_lock_only_when_configured() {
        let plain = build(&acme_spec::fixture::acme());
        assert!(resource(&plain, VAULT).property("LockConfiguration").is_none());

        let locked = build(&locked_and_copied());
        assert_eq!(
            prop(&locked, VAULT, "LockConfiguration"),
            &json!({ "MinRetentionDays": 7, "MaxRetentionDays": 365, "ChangeableForDays": 3 })
        );

        let mut governance = locked_and_copied();
        if let Some(lock) = governance.backup.vault_lock.as_mut() {
            lock.changeable_for_days = None;
        }
        let s = build(&governance);
        assert!(resource(&s, VAULT).property("LockConfiguration.ChangeableForDays").is_none());
    }

    #[test]
    fn copy_action_only_when_configured_with_the_same_retention() {
        let plain = build(&acme_spec::fixture::acme());
        assert!(resource(&plain, PLAN).property("BackupPlan.BackupPlanRule.0.CopyActions").is_none());

        let copied = build(&locked_and_copied());
        assert_eq!(
            prop(&copied, PLAN, "BackupPlan.BackupPlanRule.0.CopyActions"),
            &json!([{
                "DestinationBackupVaultArn": "arn:aws:backup:us-west-2:111122223333:backup-vault:acme-dr",
                "Lifecycle": { "DeleteAfterDays": 35 }
            }])
        );
    }

    #[test]
    fn outputs_match_the_contract() {
        let s = build(&acme_spec::fixture::acme());
        let names: Vec<&str> = s.template.outputs.keys().map(String::as_str).collect();
        assert_eq!(names, ["BackupVaultName", "BackupVaultArn", "BackupPlanId"]);
    }
}
