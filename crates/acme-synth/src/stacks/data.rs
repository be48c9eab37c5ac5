//! The `data` stack: the RDS database (PostgreSQL or MySQL) in the isolated database subnets.
//!
//! Encrypted with the data key, reachable only from the cluster security group on the engine's
//! port, TLS required by its parameter group, master password generated and rotated by RDS in
//! Secrets Manager, and its logs exported into log groups created here beforehand, so that they
//! are encrypted with the logs key and kept.

use crate::stacks::names::outputs;
use crate::stacks::no_egress;
use crate::{Stack, StackName};
use acme_cfn::resources::ec2::{IngressRule, SecurityGroup};
use acme_cfn::resources::iam::{PolicyDocument, Principal, Role, Statement, aws_managed};
use acme_cfn::resources::logs::LogGroup;
use acme_cfn::resources::rds::{
    DbInstance, DbParameterGroup, DbSubnetGroup, MasterUserSecret, OptionConfiguration, OptionGroup, OptionSetting,
};
use acme_cfn::{Expr, ParameterType, pascal};
use acme_spec::{Database, Engine, Platform};
use serde_json::json;
use std::collections::BTreeMap;

const DATABASE: &str = "Database";
/// Master user of the instance; its password only ever lives in the RDS-managed secret.
const MASTER_USERNAME: &str = "dbadmin";
/// Daily automated backup (snapshot plus start of the log chain), UTC. Kept clear of the
/// maintenance window below, as RDS requires.
const BACKUP_WINDOW: &str = "02:00-02:30";
const MAINTENANCE_WINDOW: &str = "sun:03:00-sun:04:00";
const LOG_RETENTION_DAYS: u32 = 365;

/// Physical identifier of the instance. Fixed, because its log groups are named after it and
/// must exist before it; replacing the instance is guarded by the deploy.
pub fn instance_identifier(p: &Platform) -> String {
    format!("{}-db", p.name)
}

pub fn build(p: &Platform) -> Stack {
    let mut stack = Stack::new(
        StackName::Data,
        format!("{}: the RDS database, its parameter group, security group and log groups.", p.name),
    );
    let Some(db) = &p.database else {
        return stack;
    };

    let vpc_id = stack.import(StackName::Network, "VpcId", ParameterType::VpcId);
    let subnets = stack.import_list(StackName::Network, "DatabaseSubnetIds", ParameterType::SubnetIds);
    let data_key = stack.import(StackName::Keys, "DataKeyArn", ParameterType::String);
    let logs_key = stack.import(StackName::Keys, "LogsKeyArn", ParameterType::String);
    let cluster_sg = stack.import(StackName::Cluster, "ClusterSecurityGroupId", ParameterType::SecurityGroupId);

    let identifier = instance_identifier(p);
    let port = db.engine.port();
    let t = &mut stack.template;

    t.add(
        "DatabaseSubnetGroup",
        DbSubnetGroup {
            db_subnet_group_description: format!("{} database: isolated subnets, no route to the internet", p.name),
            subnet_ids: subnets,
        },
    );

    t.add(
        "DatabaseSecurityGroup",
        SecurityGroup {
            group_description: format!("{} database: {port}/tcp from the EKS cluster security group only", p.name),
            vpc_id,
            security_group_ingress: vec![IngressRule {
                description: "Database port from cluster nodes and pods".into(),
                ip_protocol: "tcp".into(),
                from_port: port,
                to_port: port,
                cidr_ip: None,
                source_security_group_id: Some(cluster_sg),
            }],
            // The database opens no connections; a rule matching nothing replaces the default allow-all.
            security_group_egress: vec![no_egress().into()],
        },
    );

    t.add(
        "DatabaseParameterGroup",
        DbParameterGroup {
            description: format!("{} database: TLS required, slow statements logged", p.name),
            family: parameter_group_family(db.engine, &db.version),
            parameters: parameters(db.engine, &db.version),
        },
    );

    let audit = audit_plugin_supported(db);
    if audit {
        t.add(
            "DatabaseOptionGroup",
            OptionGroup {
                engine_name: engine_name(db.engine).into(),
                major_engine_version: major_version(db.engine, &db.version),
                option_group_description: format!("{} database: audit log of connections, DDL and grants", p.name),
                option_configurations: vec![OptionConfiguration {
                    option_name: "MARIADB_AUDIT_PLUGIN".into(),
                    option_settings: vec![OptionSetting {
                        name: "SERVER_AUDIT_EVENTS".into(),
                        // Not QUERY/QUERY_DML: those would copy application data into the logs.
                        value: "CONNECT,QUERY_DDL,QUERY_DCL".into(),
                    }],
                }],
            },
        );
    }

    t.add(
        "DatabaseMonitoringRole",
        Role {
            description: Some(format!("Enhanced Monitoring of the {} database", p.name)),
            assume_role_policy_document: Some(PolicyDocument::new(vec![Statement {
                sid: None,
                effect: acme_cfn::resources::iam::Effect::Allow,
                principal: Some(Principal::service("monitoring.rds.amazonaws.com")),
                action: vec!["sts:AssumeRole".into()],
                resource: None,
                condition: Some(json!({ "StringEquals": { "aws:SourceAccount": { "Ref": "AWS::AccountId" } } })),
            }])),
            managed_policy_arns: vec![aws_managed("service-role/AmazonRDSEnhancedMonitoringRole")],
            ..Role::default()
        },
    );

    let exports = log_exports(db.engine, audit);
    let mut log_group_ids = vec![];
    for log in &exports {
        let id = format!("{}LogGroup", pascal(log));
        t.add(
            &id,
            LogGroup {
                log_group_name: Some(format!("/aws/rds/instance/{identifier}/{log}").into()),
                retention_in_days: LOG_RETENTION_DAYS,
                kms_key_id: logs_key.clone(),
            },
        )
        .retain();
        log_group_ids.push(id);
    }

    let performance_insights = performance_insights_supported(db.engine, &db.class);
    let instance = t.add(
        DATABASE,
        DbInstance {
            db_instance_identifier: Some(identifier.clone()),
            engine: engine_name(db.engine).into(),
            engine_version: Some(db.version.clone()),
            db_instance_class: db.class.clone(),
            allocated_storage: Some(db.storage_gb.to_string()),
            // RDS rejects a ceiling that is not above the allocated storage; then there is no autoscaling.
            max_allocated_storage: (db.max_storage_gb > db.storage_gb).then_some(db.max_storage_gb),
            storage_type: Some("gp3".into()),
            storage_encrypted: Some(true),
            kms_key_id: Some(data_key.clone()),
            db_name: Some(db.db_name.clone()),
            master_username: Some(MASTER_USERNAME.into()),
            manage_master_user_password: Some(true),
            master_user_secret: Some(MasterUserSecret { kms_key_id: data_key.clone() }),
            port: Some(port.to_string()),
            db_subnet_group_name: Some(Expr::r#ref("DatabaseSubnetGroup")),
            vpc_security_groups: vec![Expr::att("DatabaseSecurityGroup", "GroupId")],
            db_parameter_group_name: Some(Expr::r#ref("DatabaseParameterGroup")),
            option_group_name: audit.then(|| Expr::r#ref("DatabaseOptionGroup")),
            multi_az: Some(db.multi_az),
            publicly_accessible: Some(false),
            // Point-in-time recovery window. The spec requires >= 7 unless explicitly relaxed.
            backup_retention_period: Some(db.backup_retention_days),
            preferred_backup_window: Some(BACKUP_WINDOW.into()),
            preferred_maintenance_window: Some(MAINTENANCE_WINDOW.into()),
            auto_minor_version_upgrade: Some(true),
            // Lets a deliberate major version change in acme.yaml go through; RDS never upgrades
            // majors on its own.
            allow_major_version_upgrade: Some(true),
            deletion_protection: Some(db.deletion_protection),
            delete_automated_backups: Some(false),
            copy_tags_to_snapshot: Some(true),
            enable_iam_database_authentication: Some(true),
            enable_performance_insights: Some(performance_insights),
            performance_insights_kms_key_id: performance_insights.then(|| data_key.clone()),
            // 7 days is the free tier.
            performance_insights_retention_period: performance_insights.then_some(7),
            monitoring_interval: Some(60),
            monitoring_role_arn: Some(Expr::att("DatabaseMonitoringRole", "Arn")),
            enable_cloudwatch_logs_exports: exports.iter().map(|l| (*l).to_owned()).collect(),
        },
    );
    instance.snapshot();
    // RDS would otherwise create the export log groups itself, unencrypted and kept forever.
    for id in log_group_ids {
        instance.depends_on(id);
    }
    if let Some(rule) = bare_major_version_lint(db) {
        // RDS documents that a major version alone selects a current minor of that major,
        // which is what acme.yaml asks for (minors then move with AutoMinorVersionUpgrade).
        // cfn-lint's version list knows only full versions: it rejects a bare MySQL major
        // (E3691) and lists a bare PostgreSQL major as deprecated (W3691). Only that rule is
        // silenced, and only for a bare major; a full version is still checked.
        instance.metadata.insert("cfn-lint".into(), json!({ "config": { "ignore_checks": [rule] } }));
    }
    if !db.multi_az {
        instance.skip_checkov(
            "CKV_AWS_157",
            "Single-AZ is an explicit relaxation in acme.yaml (database.multi_az: false), for non-production platforms.",
        );
    }

    t.output("DatabaseInstanceId", "Identifier of the RDS instance.", Expr::r#ref(DATABASE));
    t.output(
        outputs::DATABASE_INSTANCE_ARN,
        "ARN of the RDS instance (the backup stack selects it).",
        Expr::sub(format!("arn:${{AWS::Partition}}:rds:${{AWS::Region}}:${{AWS::AccountId}}:db:${{{DATABASE}}}")),
    );
    t.output(outputs::DATABASE_ENDPOINT, "Host name of the RDS instance.", Expr::att(DATABASE, "Endpoint.Address"));
    t.output(outputs::DATABASE_PORT, "Port of the RDS instance.", Expr::att(DATABASE, "Endpoint.Port"));
    t.output(
        outputs::DATABASE_SECRET_ARN,
        "ARN of the RDS-managed Secrets Manager secret holding the master credentials.",
        Expr::att(DATABASE, "MasterUserSecret.SecretArn"),
    );
    t.output(
        "DatabaseSecurityGroupId",
        "Security group of the RDS instance.",
        Expr::att("DatabaseSecurityGroup", "GroupId"),
    );
    stack
}

/// The engine as RDS names it.
pub fn engine_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Postgres => "postgres",
        Engine::Mysql => "mysql",
    }
}

/// Major version as RDS names it: `17` from "17" or "17.4" (PostgreSQL 10 and later count the
/// first number only), `9.6` from "9.6.24", `8.0` from "8.0.39" or "8.0" (MySQL).
fn major_version(engine: Engine, version: &str) -> String {
    let mut parts = version.split('.');
    let first = parts.next().unwrap_or_default();
    let second = parts.next();
    let one_part = engine == Engine::Postgres && first.parse::<u32>().is_ok_and(|n| n >= 10);
    match second {
        Some(second) if !one_part => format!("{first}.{second}"),
        _ => first.to_owned(),
    }
}

/// Parameter group family: `postgres17`, `mysql8.4`.
pub fn parameter_group_family(engine: Engine, version: &str) -> String {
    format!("{}{}", engine_name(engine), major_version(engine, version))
}

/// TLS enforcement and the logging that feeds the exported logs.
fn parameters(engine: Engine, version: &str) -> BTreeMap<String, String> {
    let mut params: Vec<(&str, &str)> = match engine {
        Engine::Postgres => vec![
            ("rds.force_ssl", "1"),
            // Statements slower than 1 s, and lock waits past deadlock_timeout.
            ("log_min_duration_statement", "1000"),
            ("log_lock_waits", "1"),
        ],
        Engine::Mysql => vec![
            ("require_secure_transport", "1"),
            ("slow_query_log", "1"),
            ("long_query_time", "1"),
            // CloudWatch exports read the log files; the TABLE destination would export nothing.
            ("log_output", "FILE"),
        ],
    };
    // PostgreSQL 18 turned these booleans into lists of stages; up to 17 they are plain switches.
    let pg_major = major_version(engine, version).parse::<u32>().unwrap_or(u32::MAX);
    if engine == Engine::Postgres && pg_major <= 17 {
        params.extend([("log_connections", "1"), ("log_disconnections", "1")]);
    }
    params.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

/// Logs exported to CloudWatch Logs. MySQL's `general` log (every statement, with its data) is
/// left off; the audit plugin records connections, DDL and grants instead.
fn log_exports(engine: Engine, audit: bool) -> Vec<&'static str> {
    match engine {
        Engine::Postgres => vec!["postgresql", "upgrade", "iam-db-auth-error"],
        Engine::Mysql if audit => vec!["audit", "error", "slowquery", "iam-db-auth-error"],
        Engine::Mysql => vec!["error", "slowquery", "iam-db-auth-error"],
    }
}

/// The MariaDB audit plugin exists for RDS for MySQL 5.7, 8.0.28 and later, and 8.4.
fn audit_plugin_supported(db: &Database) -> bool {
    if db.engine != Engine::Mysql {
        return false;
    }
    let mut parts = db.version.split('.');
    match (parts.next(), parts.next(), parts.next()) {
        // A bare "8.0" lets RDS pick its default minor version, which is past 8.0.28 today.
        (Some("8"), Some("0"), Some(minor)) => {
            minor.split('-').next().and_then(|m| m.parse::<u32>().ok()).is_some_and(|m| m >= 28)
        }
        _ => true,
    }
}

/// The cfn-lint rule that misreads a version given as a bare major ("17", "8.4"), if it is one.
fn bare_major_version_lint(db: &Database) -> Option<&'static str> {
    let parts = db.version.split('.').count();
    match db.engine {
        Engine::Postgres if parts == 1 => Some("W3691"),
        Engine::Mysql if parts == 2 => Some("E3691"),
        _ => None,
    }
}

/// Performance Insights is not offered on the smallest burstable classes of RDS for MySQL.
fn performance_insights_supported(engine: Engine, class: &str) -> bool {
    const MYSQL_UNSUPPORTED: [&str; 6] =
        ["db.t2.micro", "db.t2.small", "db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"];
    !(engine == Engine::Mysql && MYSQL_UNSUPPORTED.contains(&class))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stacks::testing::{param, prop, resource};
    use serde_json::Value;

    fn build_with(f: impl FnOnce(&mut Database)) -> Stack {
        let mut p = acme_spec::fixture::acme();
        if let Some(db) = p.database.as_mut() {
            f(db);
        }
        build(&p)
    }

    fn mysql(version: &str) -> Stack {
        build_with(|db| {
            db.engine = Engine::Mysql;
            db.version = version.into();
        })
    }

    #[test]
    fn storage_secret_and_insights_are_encrypted_with_the_data_key() {
        let s = build(&acme_spec::fixture::acme());
        assert_eq!(prop(&s, DATABASE, "StorageEncrypted"), &json!(true));
        assert_eq!(prop(&s, DATABASE, "KmsKeyId"), &param("DataKeyArn"));
        assert_eq!(prop(&s, DATABASE, "MasterUserSecret.KmsKeyId"), &param("DataKeyArn"));
        assert_eq!(prop(&s, DATABASE, "EnablePerformanceInsights"), &json!(true));
        assert_eq!(prop(&s, DATABASE, "PerformanceInsightsKMSKeyId"), &param("DataKeyArn"));
        assert_eq!(prop(&s, DATABASE, "PerformanceInsightsRetentionPeriod"), &json!(7));
        assert_eq!(s.template.parameters["DataKeyArn"].parameter_type, ParameterType::String);
    }

    #[test]
    fn not_public_multi_az_in_isolated_subnets() {
        let s = build(&acme_spec::fixture::acme());
        assert_eq!(prop(&s, DATABASE, "PubliclyAccessible"), &json!(false));
        assert_eq!(prop(&s, DATABASE, "MultiAZ"), &json!(true));
        assert_eq!(prop(&s, "DatabaseSubnetGroup", "SubnetIds"), &param("DatabaseSubnetIds"));
        assert_eq!(s.template.parameters["DatabaseSubnetIds"].parameter_type, ParameterType::SubnetIds);
        assert_eq!(prop(&s, DATABASE, "DBSubnetGroupName"), &param("DatabaseSubnetGroup"));
        assert!(resource(&s, DATABASE).metadata.get("checkov").is_none(), "no checkov skip when Multi-AZ");

        let single = build_with(|db| db.multi_az = false);
        assert_eq!(prop(&single, DATABASE, "MultiAZ"), &json!(false));
        let skips = &resource(&single, DATABASE).metadata["checkov"]["skip"];
        assert_eq!(skips[0]["id"], json!("CKV_AWS_157"));
    }

    #[test]
    fn master_password_is_managed_by_rds_and_never_in_the_template() {
        let s = build(&acme_spec::fixture::acme());
        assert_eq!(prop(&s, DATABASE, "ManageMasterUserPassword"), &json!(true));
        fn keys(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => m.iter().for_each(|(k, v)| {
                    out.push(k.clone());
                    keys(v, out);
                }),
                Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
                _ => {}
            }
        }
        let mut all = vec![];
        keys(&s.template.to_value(), &mut all);
        assert!(!all.iter().any(|k| k == "MasterUserPassword"));
        let text = acme_cfn::yaml::to_string(&s.template.to_value());
        assert!(!text.contains("{{resolve:"), "no dynamic references either");
        assert_eq!(s.template.outputs["DatabaseSecretArn"].value, Expr::att(DATABASE, "MasterUserSecret.SecretArn"));
    }

    #[test]
    fn tls_is_required_per_engine() {
        let pg = build(&acme_spec::fixture::acme());
        // Parameter names hold dots, so index the map rather than use a property path.
        let params = prop(&pg, "DatabaseParameterGroup", "Parameters");
        assert_eq!(params["rds.force_ssl"], json!("1"));
        assert!(params.get("require_secure_transport").is_none());

        let my = mysql("8.4");
        let params = prop(&my, "DatabaseParameterGroup", "Parameters");
        assert_eq!(params["require_secure_transport"], json!("1"));
        assert_eq!(params["log_output"], json!("FILE"));
        assert!(params.get("rds.force_ssl").is_none());
        assert_eq!(prop(&my, DATABASE, "DBParameterGroupName"), &param("DatabaseParameterGroup"));
    }

    #[test]
    fn parameter_group_family_follows_engine_and_major_version() {
        let family = |engine, version| parameter_group_family(engine, version);
        assert_eq!(family(Engine::Postgres, "16"), "postgres16");
        assert_eq!(family(Engine::Postgres, "16.4"), "postgres16");
        assert_eq!(family(Engine::Postgres, "17"), "postgres17");
        assert_eq!(family(Engine::Postgres, "17.2"), "postgres17");
        assert_eq!(family(Engine::Postgres, "9.6.24"), "postgres9.6");
        assert_eq!(family(Engine::Mysql, "8.0"), "mysql8.0");
        assert_eq!(family(Engine::Mysql, "8.0.39"), "mysql8.0");
        assert_eq!(family(Engine::Mysql, "8.4"), "mysql8.4");
        assert_eq!(family(Engine::Mysql, "8.4.3"), "mysql8.4");
        assert_eq!(prop(&mysql("8.0.39"), "DatabaseParameterGroup", "Family"), &json!("mysql8.0"));
        assert_eq!(
            prop(&build_with(|db| db.version = "16.4".into()), "DatabaseParameterGroup", "Family"),
            &json!("postgres16")
        );
    }

    #[test]
    fn retention_deletion_protection_and_snapshot_policies() {
        let s = build(&acme_spec::fixture::acme());
        assert_eq!(prop(&s, DATABASE, "BackupRetentionPeriod"), &json!(14));
        assert_eq!(prop(&s, DATABASE, "DeletionProtection"), &json!(true));
        assert_eq!(prop(&s, DATABASE, "DeleteAutomatedBackups"), &json!(false));
        assert_eq!(prop(&s, DATABASE, "CopyTagsToSnapshot"), &json!(true));
        let db = resource(&s, DATABASE);
        assert_eq!(db.deletion_policy, Some(acme_cfn::Policy::Snapshot));
        assert_eq!(db.update_replace_policy, Some(acme_cfn::Policy::Snapshot));

        let relaxed = build_with(|db| {
            db.backup_retention_days = 3;
            db.deletion_protection = false;
        });
        assert_eq!(prop(&relaxed, DATABASE, "BackupRetentionPeriod"), &json!(3));
        assert_eq!(prop(&relaxed, DATABASE, "DeletionProtection"), &json!(false));
    }

    #[test]
    fn maintenance_and_backup_windows_do_not_overlap() {
        let minutes = |hhmm: &str| -> u32 {
            let (h, m) = hhmm.split_once(':').expect("hh:mi");
            h.parse::<u32>().expect("hour") * 60 + m.parse::<u32>().expect("minute")
        };
        let (b_start, b_end) = BACKUP_WINDOW.split_once('-').expect("window");
        let (m_start, m_end) = MAINTENANCE_WINDOW.split_once('-').expect("window");
        let strip_day = |s: &'static str| s.split_once(':').map(|(_, t)| t).expect("ddd:hh:mi");
        let (b0, b1) = (minutes(b_start), minutes(b_end));
        let (m0, m1) = (minutes(strip_day(m_start)), minutes(strip_day(m_end)));
        assert!(b1 - b0 >= 30 && m1 - m0 >= 30, "both windows are at least 30 minutes");
        assert!(b1 <= m0 || m1 <= b0, "backup {BACKUP_WINDOW} overlaps maintenance {MAINTENANCE_WINDOW}");
    }

    #[test]
    fn log_exports_per_engine_land_in_encrypted_retained_groups() {
        let pg = build(&acme_spec::fixture::acme());
        assert_eq!(
            prop(&pg, DATABASE, "EnableCloudwatchLogsExports"),
            &json!(["postgresql", "upgrade", "iam-db-auth-error"])
        );
        let my = mysql("8.0.39");
        assert_eq!(
            prop(&my, DATABASE, "EnableCloudwatchLogsExports"),
            &json!(["audit", "error", "slowquery", "iam-db-auth-error"])
        );
        assert_eq!(prop(&my, DATABASE, "OptionGroupName"), &param("DatabaseOptionGroup"));
        assert_eq!(prop(&my, "DatabaseOptionGroup", "MajorEngineVersion"), &json!("8.0"));

        for s in [&pg, &my] {
            let db = resource(s, DATABASE);
            let exports = db.property("EnableCloudwatchLogsExports").and_then(Value::as_array).expect("exports");
            for log in exports {
                let log = log.as_str().expect("log type");
                let id = format!("{}LogGroup", pascal(log));
                assert!(db.depends_on.contains(&id), "instance waits for {id}");
                let group = resource(s, &id);
                assert_eq!(group.property("LogGroupName"), Some(&json!(format!("/aws/rds/instance/acme-db/{log}"))));
                assert_eq!(group.property("KmsKeyId"), Some(&param("LogsKeyArn")));
                assert_eq!(group.property("RetentionInDays"), Some(&json!(365)));
                assert_eq!(group.deletion_policy, Some(acme_cfn::Policy::Retain));
            }
        }
    }

    #[test]
    fn old_mysql_without_the_audit_plugin_exports_no_audit_log() {
        let s = mysql("8.0.25");
        assert!(!s.template.resources.contains_key("DatabaseOptionGroup"));
        assert!(resource(&s, DATABASE).property("OptionGroupName").is_none());
        assert_eq!(
            prop(&s, DATABASE, "EnableCloudwatchLogsExports"),
            &json!(["error", "slowquery", "iam-db-auth-error"])
        );
        assert!(mysql("8.0").template.resources.contains_key("DatabaseOptionGroup"));
    }

    #[test]
    fn only_a_bare_major_version_silences_the_version_lint() {
        let ignored =
            |s: &Stack| resource(s, DATABASE).metadata.get("cfn-lint").map(|m| m["config"]["ignore_checks"].clone());
        assert_eq!(ignored(&build(&acme_spec::fixture::acme())), Some(json!(["W3691"])));
        assert_eq!(ignored(&mysql("8.4")), Some(json!(["E3691"])));
        assert_eq!(ignored(&mysql("8.0.42")), None);
        assert_eq!(ignored(&build_with(|db| db.version = "17.5".into())), None);
    }

    #[test]
    fn performance_insights_off_where_mysql_does_not_offer_it() {
        let s = build_with(|db| {
            db.engine = Engine::Mysql;
            db.version = "8.4".into();
            db.class = "db.t4g.micro".into();
        });
        assert_eq!(prop(&s, DATABASE, "EnablePerformanceInsights"), &json!(false));
        assert!(resource(&s, DATABASE).property("PerformanceInsightsKMSKeyId").is_none());
        assert!(resource(&s, DATABASE).property("PerformanceInsightsRetentionPeriod").is_none());
        let pg_small = build_with(|db| db.class = "db.t4g.micro".into());
        assert_eq!(prop(&pg_small, DATABASE, "EnablePerformanceInsights"), &json!(true));
    }

    #[test]
    fn only_the_cluster_reaches_the_database_port_and_nothing_leaves() {
        for (s, port) in [(build(&acme_spec::fixture::acme()), 5432), (mysql("8.4"), 3306)] {
            let ingress = prop(&s, "DatabaseSecurityGroup", "SecurityGroupIngress");
            assert_eq!(ingress.as_array().map(Vec::len), Some(1));
            assert_eq!(ingress[0]["SourceSecurityGroupId"], param("ClusterSecurityGroupId"));
            assert_eq!(ingress[0]["FromPort"], json!(port));
            assert_eq!(ingress[0]["ToPort"], json!(port));
            assert_eq!(ingress[0]["IpProtocol"], json!("tcp"));
            assert!(ingress[0].get("CidrIp").is_none());
            let egress = prop(&s, "DatabaseSecurityGroup", "SecurityGroupEgress");
            assert_eq!(
                egress,
                &json!([{ "Description": "No egress: matches nothing", "IpProtocol": "-1", "CidrIp": "127.0.0.1/32" }])
            );
            assert_eq!(prop(&s, DATABASE, "Port"), &json!(port.to_string()));
            assert_eq!(s.template.parameters["ClusterSecurityGroupId"].parameter_type, ParameterType::SecurityGroupId);
        }
    }

    #[test]
    fn enhanced_monitoring_role_is_scoped_to_rds_monitoring_in_this_account() {
        let s = build(&acme_spec::fixture::acme());
        assert_eq!(prop(&s, DATABASE, "MonitoringInterval"), &json!(60));
        assert_eq!(
            prop(&s, DATABASE, "MonitoringRoleArn"),
            &json!({ "Fn::GetAtt": ["DatabaseMonitoringRole", "Arn"] })
        );
        let trust = prop(&s, "DatabaseMonitoringRole", "AssumeRolePolicyDocument.Statement.0");
        assert_eq!(trust["Principal"], json!({ "Service": ["monitoring.rds.amazonaws.com"] }));
        assert_eq!(trust["Condition"]["StringEquals"]["aws:SourceAccount"], param("AWS::AccountId"));
        assert_eq!(
            prop(&s, "DatabaseMonitoringRole", "ManagedPolicyArns"),
            &json!([{ "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole" }])
        );
    }

    #[test]
    fn outputs_match_the_contract() {
        let s = build(&acme_spec::fixture::acme());
        let names: Vec<&str> = s.template.outputs.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "DatabaseInstanceId",
                "DatabaseInstanceArn",
                "DatabaseEndpoint",
                "DatabasePort",
                "DatabaseSecretArn",
                "DatabaseSecurityGroupId"
            ]
        );
        assert_eq!(
            s.template.outputs["DatabaseInstanceArn"].value,
            Expr::sub("arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:${Database}")
        );
        assert_eq!(prop(&s, DATABASE, "DBInstanceIdentifier"), &json!("acme-db"));
    }
}
