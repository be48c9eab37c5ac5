//! The database: private, encrypted at rest and in transit, backed up for point-in-time
//! recovery, protected from deletion, highly available, its password managed by RDS, and
//! patched automatically.

use super::{customer_key, is_true, number, refers_to, show};
use crate::requirement::{BACKUPS, ENCRYPTION, PATCHES, POINT_IN_TIME, RDS_AT_REST, RDS_SECURE};
use crate::{Context, Rule, Violation};

pub static RULES: &[Rule] = &[
    Rule {
        id: "ACME-DB-001",
        requirement: RDS_SECURE,
        title: "The database is not publicly accessible",
        help: "The instance gets no public address; it sits in isolated subnets and only the cluster's security group reaches its port.",
        evaluate: not_public,
    },
    Rule {
        id: "ACME-DB-002",
        requirement: RDS_AT_REST,
        title: "The database's storage is encrypted with the platform's KMS key",
        help: "StorageEncrypted with the data key of the keys stack: snapshots and replicas are encrypted with it too.",
        evaluate: encrypted,
    },
    Rule {
        id: "ACME-DB-003",
        requirement: ENCRYPTION,
        title: "The database accepts only TLS connections",
        help: "The parameter group sets rds.force_ssl (PostgreSQL) or require_secure_transport (MySQL), so no client can connect in clear text.",
        evaluate: tls_enforced,
    },
    Rule {
        id: "ACME-DB-004",
        requirement: POINT_IN_TIME,
        title: "Automated backups are kept 7 days or more",
        help: "The point-in-time recovery window: a problem found after a weekend can still be undone. acmectl keeps 14 days by default; `database.backup_retention_days` may shorten it.",
        evaluate: retention,
    },
    Rule {
        id: "ACME-DB-005",
        requirement: BACKUPS,
        title: "The database has deletion protection",
        help: "Nobody, CloudFormation included, can delete the instance until protection is switched off on purpose. `database.deletion_protection: false` switches it off.",
        evaluate: deletion_protection,
    },
    Rule {
        id: "ACME-DB-006",
        requirement: RDS_SECURE,
        title: "The database has a standby in a second zone (Multi-AZ)",
        help: "A zone outage or an instance failure fails over in about a minute instead of waiting for a restore. `database.multi_az: false` removes the standby.",
        evaluate: multi_az,
    },
    Rule {
        id: "ACME-DB-007",
        requirement: RDS_SECURE,
        title: "The master password is managed by RDS in Secrets Manager",
        help: "RDS generates and rotates the master password; it never appears in a template, a parameter or a pipeline log.",
        evaluate: managed_secret,
    },
    Rule {
        id: "ACME-DB-008",
        requirement: PATCHES,
        title: "Minor engine versions are applied automatically",
        help: "AutoMinorVersionUpgrade: security patches of the engine are installed in the maintenance window.",
        evaluate: auto_minor_upgrade,
    },
];

const DB: &str = "AWS::RDS::DBInstance";

fn not_public(ctx: &Context) -> Vec<Violation> {
    instances_where(
        ctx,
        "PubliclyAccessible",
        |v| !is_true(v),
        |_| false,
        ("", ""),
        |id, _| format!("database `{id}` is publicly accessible"),
    )
}

fn encrypted(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (stack, id, r) in ctx.resources(DB) {
        if !is_true(r.property("StorageEncrypted")) {
            found.push(Violation::at(
                stack,
                id,
                "Properties.StorageEncrypted",
                format!("database `{id}` stores data unencrypted"),
            ));
        } else if !customer_key(r.property("KmsKeyId")) {
            found.push(Violation::at(
                stack,
                id,
                "Properties.KmsKeyId",
                format!("database `{id}` is encrypted with the AWS-managed RDS key, not the platform's"),
            ));
        }
    }
    found
}

fn tls_enforced(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (stack, id, r) in ctx.resources(DB) {
        let mysql =
            r.property("Engine").and_then(|e| e.as_str()).is_some_and(|e| e.contains("mysql") || e.contains("mariadb"));
        let parameter = if mysql { "require_secure_transport" } else { "rds.force_ssl" };
        let group = r.property("DBParameterGroupName");
        let Some((_, gid, g)) = ctx
            .resources("AWS::RDS::DBParameterGroup")
            .find(|(s, gid, _)| *s == stack && group.is_some_and(|v| refers_to(v, gid)))
        else {
            found.push(Violation::at(
                stack,
                id,
                "Properties.DBParameterGroupName",
                format!("database `{id}` uses no parameter group of the platform, so nothing forces TLS"),
            ));
            continue;
        };
        let forced = g.property("Parameters").and_then(|p| p.get(parameter)).is_some_and(|v| {
            let text = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
            text == "1" || text.eq_ignore_ascii_case("on")
        });
        if !forced {
            found.push(Violation::at(stack, gid, "Properties.Parameters", format!("database `{id}` accepts connections without TLS: parameter group `{gid}` does not set {parameter} to 1")));
        }
    }
    found
}

/// Every instance whose `property` fails `holds`; the finding names `field` when the platform
/// itself relaxed it (`relaxed`), else the override that did.
fn instances_where(
    ctx: &Context,
    property: &str,
    holds: impl Fn(Option<&serde_json::Value>) -> bool,
    relaxed: impl Fn(&acme_spec::Database) -> bool,
    (field, fix): (&str, &str),
    message: impl Fn(&str, Option<&serde_json::Value>) -> String,
) -> Vec<Violation> {
    let relaxed = ctx.platform.database.as_ref().is_some_and(relaxed);
    ctx.resources(DB)
        .filter(|(_, _, r)| !holds(r.property(property)))
        .map(|(stack, id, r)| {
            let v = Violation::at(stack, id, &format!("Properties.{property}"), message(id, r.property(property)));
            if relaxed { v.field(field, fix) } else { v }
        })
        .collect()
}

fn retention(ctx: &Context) -> Vec<Violation> {
    instances_where(
        ctx,
        "BackupRetentionPeriod",
        |v| number(v).unwrap_or(1.0) >= 7.0,
        |d| d.backup_retention_days < 7,
        ("database.backup_retention_days", "set `database.backup_retention_days` to 7 or more (default 14)"),
        |id, v| format!("database `{id}` keeps automated backups {} days, fewer than 7", number(v).unwrap_or(1.0)),
    )
}

fn deletion_protection(ctx: &Context) -> Vec<Violation> {
    instances_where(
        ctx,
        "DeletionProtection",
        is_true,
        |d| !d.deletion_protection,
        ("database.deletion_protection", "remove `database.deletion_protection: false` (protection is on by default)"),
        |id, _| format!("database `{id}` can be deleted without switching protection off first"),
    )
}

fn multi_az(ctx: &Context) -> Vec<Violation> {
    instances_where(
        ctx,
        "MultiAZ",
        is_true,
        |d| !d.multi_az,
        ("database.multi_az", "remove `database.multi_az: false` (Multi-AZ is the default)"),
        |id, v| format!("database `{id}` has no standby in a second zone (MultiAZ is {})", show(v)),
    )
}

fn managed_secret(ctx: &Context) -> Vec<Violation> {
    let mut found = vec![];
    for (stack, id, r) in ctx.resources(DB) {
        if r.property("MasterUserPassword").is_some() {
            found.push(Violation::at(
                stack,
                id,
                "Properties.MasterUserPassword",
                format!("database `{id}` has a master password set in the template"),
            ));
        } else if !is_true(r.property("ManageMasterUserPassword")) {
            found.push(Violation::at(
                stack,
                id,
                "Properties.ManageMasterUserPassword",
                format!("the master password of `{id}` is not managed by RDS"),
            ));
        }
    }
    found
}

fn auto_minor_upgrade(ctx: &Context) -> Vec<Violation> {
    // RDS upgrades minor versions when the property is absent.
    instances_where(
        ctx,
        "AutoMinorVersionUpgrade",
        |v| v.is_none() || is_true(v),
        |_| false,
        ("", ""),
        |id, _| format!("database `{id}` does not install minor versions automatically"),
    )
}
