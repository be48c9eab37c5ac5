//! The `keys` stack: one customer-managed KMS key per purpose (data, logs, cluster secrets,
//! backups), each with yearly rotation, a 30-day deletion window, an alias
//! `alias/<platform>/<purpose>`, and a key policy that lets only the services that use the key
//! use it.
//!
//! How the key policies are built:
//! - **The account administers, nobody uses by default.** The account root may run the
//!   administrative actions ([`ADMIN_ACTIONS`]: policy, rotation, aliases, tags, disable,
//!   schedule deletion), so IAM policies can always manage a key and it can never become
//!   unmanageable. No administrative action encrypts or decrypts, and root gets no usage action
//!   without a condition.
//! - **Usage is granted per path.** Every usage statement says which service the key is used
//!   through: `kms:ViaService` plus `kms:CallerAccount` for calls a service forwards on a
//!   caller's behalf (RDS, Secrets Manager, S3, ECR, SNS, EKS, Backup), the service principal
//!   with its encryption context or `aws:SourceArn`/`aws:SourceAccount` for services that call
//!   KMS themselves (CloudWatch Logs, CloudTrail, CloudWatch alarms), or an exact role ARN in
//!   `aws:PrincipalArn` for the EKS control plane. Those statements name the account as
//!   principal, so the caller also needs an IAM allow: the key policy says *through what* a key
//!   may be used, IAM says *who*. No statement has a `*` principal.
//! - **Roles are named by pattern, not by principal.** KMS rejects a policy naming a role that
//!   does not exist yet, and the roles that use these keys are created by later stacks; they are
//!   matched in `aws:PrincipalArn` conditions through their fixed names ([`names`]).
//!
//! Who uses which key (kept true by the test that reads every other stack):
//!
//! | key | used by | through |
//! |---|---|---|
//! | data | RDS storage, snapshots (also AWS Backup's) and Performance Insights | `rds` |
//! | data | the RDS-managed master secret: RDS writes and rotates it, service roles read it | `secretsmanager` |
//! | data | service-owned S3 buckets, read and written by the service roles only (`<platform>-svc-*`) | `s3` |
//! | data | ECR repositories: images are application data. ECR creates grants for itself when a repository is created; pushes and pulls then use those grants, so neither the node role nor the CI role needs the key | `ecr` |
//! | logs | every log group (flow logs, RDS exports, WAF, Container Insights, EKS) | `logs.<region>` principal, context `aws:logs:arn` of this account |
//! | logs | the CloudTrail trail and its bucket | `cloudtrail` principal with `aws:SourceArn` of the trail; readers decrypt with the trail's context |
//! | logs | the alert topic: CloudWatch alarms publish to it | `cloudwatch` principal scoped to this account's alarms; `sns` |
//! | logs | log buckets read by operators | `s3` |
//! | cluster | EKS envelope encryption of Kubernetes secrets: the cluster's creator lets EKS create its grant, the cluster role (`<platform>-eks-cluster`) encrypts and decrypts | `eks`; the cluster role by ARN |
//! | backup | the AWS Backup vault | `backup` |
//!
//! AWS Backup keeps RDS snapshots under the database's own key (the data key, through `rds`);
//! the backup key encrypts what the vault itself holds, and is what a cross-region copy in the
//! other direction would use.

use crate::stacks::buckets::{deny_insecure_transport, deny_tls_below_1_2, lifecycle, private_bucket, sse_kms};
use crate::stacks::{names, observability};
use crate::{Stack, StackName};
use acme_cfn::Expr;
use acme_cfn::resources::iam::{PolicyDocument, Principal, Statement};
use acme_cfn::resources::kms::{Alias, Key};
use acme_cfn::resources::s3::BucketPolicy;
use acme_spec::Platform;
use serde_json::{Value, json};

/// Days a key stays recoverable after someone schedules its deletion (the maximum).
pub const PENDING_WINDOW_DAYS: u32 = 30;

/// Logical id of the staging bucket.
pub const STAGING_BUCKET: &str = "StagingBucket";
const STAGING_BUCKET_POLICY: &str = "StagingBucketPolicy";
/// A staged template is read when its change set is made; after this long it goes (a later
/// deploy stages it again).
pub const STAGED_TEMPLATE_DAYS: u32 = 30;

/// What the account may do to a key without any condition: manage it, never use it.
pub const ADMIN_ACTIONS: [&str; 22] = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
];

/// Everything a service needs to encrypt and decrypt for its caller and to create the grants
/// it keeps for itself (the actions of AWS managed keys such as `aws/rds`).
const SERVICE_USE: [&str; 6] =
    ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"];

/// What a key protects. Each purpose is one key, one alias and one output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Data,
    Logs,
    Cluster,
    Backup,
    Staging,
}

impl Purpose {
    pub const ALL: [Purpose; 5] = [Purpose::Data, Purpose::Logs, Purpose::Cluster, Purpose::Backup, Purpose::Staging];

    pub fn slug(self) -> &'static str {
        match self {
            Purpose::Data => "data",
            Purpose::Logs => "logs",
            Purpose::Cluster => "cluster",
            Purpose::Backup => "backup",
            Purpose::Staging => "staging",
        }
    }

    pub fn logical_id(self) -> String {
        format!("{}Key", acme_cfn::pascal(self.slug()))
    }

    /// The output other stacks import the key's ARN by.
    pub fn output(self) -> &'static str {
        match self {
            Purpose::Data => names::outputs::DATA_KEY_ARN,
            Purpose::Logs => names::outputs::LOGS_KEY_ARN,
            Purpose::Cluster => names::outputs::CLUSTER_KEY_ARN,
            Purpose::Backup => names::outputs::BACKUP_KEY_ARN,
            Purpose::Staging => names::outputs::STAGING_KEY_ARN,
        }
    }

    fn description(self) -> &'static str {
        match self {
            Purpose::Data => "application data: RDS, its managed secret, service buckets, ECR images",
            Purpose::Logs => "logs: CloudWatch Logs, CloudTrail, the alert topic",
            Purpose::Cluster => "EKS envelope encryption of Kubernetes secrets",
            Purpose::Backup => "the AWS Backup vault",
            Purpose::Staging => "the staging bucket of the templates acmectl sends through S3",
        }
    }
}

/// `alias/<platform>/<purpose>`.
pub fn alias_name(p: &Platform, purpose: Purpose) -> String {
    format!("alias/{}/{}", p.name, purpose.slug())
}

pub fn build(p: &Platform) -> Stack {
    let mut stack = Stack::new(
        StackName::Keys,
        format!(
            "{}: customer-managed KMS keys for data, logs, cluster secrets, backups and staged templates, and the \
             staging bucket.",
            p.name
        ),
    );
    let t = &mut stack.template;
    for purpose in Purpose::ALL {
        let id = purpose.logical_id();
        let mut statements = vec![administration()];
        statements.extend(usage(p, purpose));
        t.add(
            &id,
            Key {
                description: format!("{}: {}", p.name, purpose.description()),
                enable_key_rotation: true,
                rotation_period_in_days: None,
                key_policy: PolicyDocument::new(statements),
                pending_window_in_days: Some(PENDING_WINDOW_DAYS),
            },
        )
        .retain();
        t.add(format!("{id}Alias"), Alias { alias_name: alias_name(p, purpose), target_key_id: Expr::r#ref(&id) });
        t.output(
            purpose.output(),
            format!("ARN of the {} key ({}).", purpose.slug(), alias_name(p, purpose)),
            Expr::att(&id, "Arn"),
        );
    }
    staging_bucket(t, p);
    stack
}

fn account() -> Principal {
    Principal::aws(Expr::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root"))
}

fn account_id() -> Value {
    Expr::pseudo("AccountId").to_value()
}

/// `<service>.<region>.<domain>`, as `kms:ViaService` and regional service principals spell it.
fn regional(service: &str) -> Expr {
    Expr::sub(format!("{service}.${{AWS::Region}}.${{AWS::URLSuffix}}"))
}

fn administration() -> Statement {
    Statement::allow(&ADMIN_ACTIONS, vec!["*"]).sid("AccountAdministersTheKey").principal(account())
}

/// Principals of this account, allowed by IAM, using the key through `service`.
fn through(sid: &str, service: &str, actions: &[&str]) -> Statement {
    Statement::allow(actions, vec!["*"]).sid(sid).principal(account()).condition(json!({
        "StringEquals": { "kms:ViaService": regional(service).to_value(), "kms:CallerAccount": account_id() }
    }))
}

fn usage(p: &Platform, purpose: Purpose) -> Vec<Statement> {
    match purpose {
        Purpose::Data => vec![
            through("UseThroughRds", "rds", &[&SERVICE_USE[..], &["kms:ListGrants"]].concat()),
            through("UseThroughSecretsManager", "secretsmanager", &SERVICE_USE),
            Statement::allow(&["kms:Decrypt", "kms:GenerateDataKey*"], vec!["*"])
                .sid("ServiceRolesUseThroughS3")
                .principal(account())
                .condition(json!({
                    "StringEquals": { "kms:ViaService": regional("s3").to_value(), "kms:CallerAccount": account_id() },
                    "ArnLike": { "aws:PrincipalArn": Expr::sub(names::service_role_pattern(p)).to_value() }
                })),
            through("UseThroughEcr", "ecr", &[&SERVICE_USE[..], &["kms:RetireGrant"]].concat()),
        ],
        Purpose::Logs => {
            let trail = Expr::sub(format!(
                "arn:${{AWS::Partition}}:cloudtrail:${{AWS::Region}}:${{AWS::AccountId}}:trail/{}",
                observability::trail_name(p)
            ));
            let trail_context = Expr::sub("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*");
            vec![
                Statement::allow(
                    &["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                    vec!["*"],
                )
                .sid("CloudWatchLogsOfThisAccount")
                .principal(Principal::Service(vec![regional("logs")]))
                .condition(json!({
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn":
                            Expr::sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*").to_value()
                    }
                })),
                Statement::allow(&["kms:GenerateDataKey*"], vec!["*"])
                    .sid("CloudTrailEncryptsTrailLogs")
                    .principal(Principal::service("cloudtrail.amazonaws.com"))
                    .condition(json!({
                        "StringEquals": { "aws:SourceArn": trail.to_value() },
                        "StringLike": { "kms:EncryptionContext:aws:cloudtrail:arn": trail_context.to_value() }
                    })),
                Statement::allow(&["kms:DescribeKey"], vec!["*"])
                    .sid("CloudTrailDescribesTheKey")
                    .principal(Principal::service("cloudtrail.amazonaws.com"))
                    .condition(json!({ "StringEquals": { "aws:SourceArn": trail.to_value() } })),
                Statement::allow(&["kms:Decrypt", "kms:ReEncryptFrom"], vec!["*"])
                    .sid("AccountReadsTrailLogs")
                    .principal(account())
                    .condition(json!({
                        "StringEquals": { "kms:CallerAccount": account_id() },
                        "StringLike": { "kms:EncryptionContext:aws:cloudtrail:arn": trail_context.to_value() }
                    })),
                Statement::allow(&["kms:Decrypt", "kms:GenerateDataKey*"], vec!["*"])
                    .sid("CloudWatchAlarmsPublishToTheAlertTopic")
                    .principal(Principal::service("cloudwatch.amazonaws.com"))
                    .condition(json!({
                        "StringEquals": { "aws:SourceAccount": account_id() },
                        "ArnLike": {
                            "aws:SourceArn":
                                Expr::sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*").to_value()
                        }
                    })),
                through("UseThroughSns", "sns", &["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"]),
                through("UseThroughS3", "s3", &["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"]),
            ]
        }
        Purpose::Cluster => vec![
            // Creating or updating the cluster: EKS creates its grant with the caller's credentials.
            through("CreateClusterThroughEks", "eks", &["kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"]),
            // The control plane's KMS plugin calls KMS as the cluster role itself, not through a
            // service on someone's behalf, so it is scoped by the role's exact ARN.
            Statement::allow(&["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"], vec!["*"])
                .sid("ClusterRoleEncryptsSecrets")
                .principal(account())
                .condition(json!({
                    "ArnEquals": {
                        "aws:PrincipalArn": Expr::sub(names::role_arn(&names::cluster_role(p))).to_value()
                    }
                })),
        ],
        Purpose::Backup => {
            vec![through("UseThroughBackup", "backup", &[&SERVICE_USE[..], &["kms:RetireGrant"]].concat())]
        }
        // The deployer writes templates, CloudFormation reads them with the caller's rights.
        Purpose::Staging => {
            vec![through("UseThroughS3", "s3", &["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"])]
        }
    }
}

/// The staging bucket's name, fixed (like the service buckets') so that the CI role's policy
/// can name it before it exists: `<platform>-acmectl-staging-<account>-<region>`.
pub fn staging_bucket_name(p: &Platform) -> Expr {
    crate::stacks::services::bucket_name(p, "acmectl", "staging")
}

/// The staging bucket's ARN, and the pattern of the staged templates in it.
pub fn staging_arns(p: &Platform) -> (Expr, Expr) {
    let prefix = crate::stacks::services::bucket_name_prefix(p, "acmectl", "staging");
    let bucket = format!("arn:${{AWS::Partition}}:s3:::{prefix}-${{AWS::AccountId}}-${{AWS::Region}}");
    (Expr::sub(&bucket), Expr::sub(format!("{bucket}/{STAGED_PREFIX}*")))
}

/// Where staged templates go in the bucket.
pub const STAGED_PREFIX: &str = "templates/";

/// The staging bucket: templates over CloudFormation's inline limit go there, keyed by their
/// content hash, and are passed as `TemplateURL`. It lives in this stack, the first of the
/// platform (no inputs, always small enough to send inline), so a deploy can create it before
/// any template needs it. Retained: `destroy` removes it only when asked.
fn staging_bucket(t: &mut acme_cfn::Template, p: &Platform) {
    let rule = lifecycle("expire-staged-templates", Some(STAGED_TEMPLATE_DAYS), 1);
    let bucket = acme_cfn::resources::s3::Bucket {
        bucket_name: Some(staging_bucket_name(p)),
        ..private_bucket(sse_kms(Expr::att(Purpose::Staging.logical_id(), "Arn")), rule, None)
    };
    t.add(STAGING_BUCKET, bucket).retain().skip_checkov(
        "CKV_AWS_18",
        "The staging bucket holds only CloudFormation templates that acmectl writes under their content hash \
             and CloudFormation reads back; it is created first, before any log bucket exists to receive its \
             access logs, and every stack created from its objects is recorded by CloudTrail.",
    );
    let policy = vec![deny_insecure_transport(STAGING_BUCKET), deny_tls_below_1_2(STAGING_BUCKET)];
    t.add(
        STAGING_BUCKET_POLICY,
        BucketPolicy { bucket: Expr::r#ref(STAGING_BUCKET), policy_document: PolicyDocument::new(policy) },
    );
    t.output(
        names::outputs::STAGING_BUCKET_NAME,
        "The bucket acmectl stages templates in that are too large to send inline.",
        Expr::r#ref(STAGING_BUCKET),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stacks::testing::resource;
    use acme_cfn::Resource;
    use std::collections::BTreeSet;

    const USAGE: [&str; 8] = [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:CreateGrant",
        "kms:Sign",
    ];

    fn key(s: &Stack, purpose: Purpose) -> &Resource {
        resource(s, &purpose.logical_id())
    }

    fn statements(s: &Stack, purpose: Purpose) -> Vec<Value> {
        key(s, purpose).property("KeyPolicy.Statement").and_then(Value::as_array).cloned().expect("statements")
    }

    fn statement(s: &Stack, purpose: Purpose, sid: &str) -> Value {
        statements(s, purpose)
            .into_iter()
            .find(|st| st["Sid"] == json!(sid))
            .unwrap_or_else(|| panic!("{purpose:?} key has no statement {sid}"))
    }

    fn sub(s: &str) -> Value {
        json!({ "Fn::Sub": s })
    }

    /// Does a policy action pattern (`kms:GenerateDataKey*`) cover `action`?
    fn covers(pattern: &str, action: &str) -> bool {
        match pattern.strip_suffix('*') {
            Some(prefix) => action.starts_with(prefix),
            None => pattern == action,
        }
    }

    /// The first DNS label of each service a statement lets the key be used through: its
    /// service principals and its `kms:ViaService` values (`rds`, `logs`, `cloudtrail`, ...).
    fn paths(st: &Value) -> BTreeSet<String> {
        let label = |v: &Value| -> String {
            let s = v.get("Fn::Sub").unwrap_or(v).as_str().expect("string or Fn::Sub");
            s.split('.').next().expect("label").to_owned()
        };
        let mut out = BTreeSet::new();
        if let Some(services) = st["Principal"]["Service"].as_array() {
            out.extend(services.iter().map(label));
        }
        if let Some(via) = st["Condition"]["StringEquals"].get("kms:ViaService") {
            out.insert(label(via));
        }
        out
    }

    fn key_paths(s: &Stack, purpose: Purpose) -> BTreeSet<String> {
        statements(s, purpose).iter().flat_map(paths).collect()
    }

    #[test]
    fn the_staging_bucket_is_private_encrypted_with_its_key_tls_only_expiring_and_retained() {
        let p = acme_spec::fixture::acme();
        let s = build(&p);
        let b = resource(&s, STAGING_BUCKET);
        assert_eq!(
            b.property("BucketName"),
            Some(&json!({ "Fn::Sub": "acme-acmectl-staging-${AWS::AccountId}-${AWS::Region}" }))
        );
        let sse = &b.property("BucketEncryption.ServerSideEncryptionConfiguration").expect("encryption")[0];
        assert_eq!(sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"], "aws:kms");
        assert_eq!(
            sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"],
            json!({ "Fn::GetAtt": ["StagingKey", "Arn"] })
        );
        let block = b.property("PublicAccessBlockConfiguration").expect("public access block");
        for field in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"] {
            assert_eq!(block[field], true, "{field}");
        }
        let rule = &b.property("LifecycleConfiguration.Rules").expect("rules")[0];
        assert_eq!(rule["ExpirationInDays"], STAGED_TEMPLATE_DAYS);
        assert_eq!(b.deletion_policy, Some(acme_cfn::Policy::Retain), "destroy keeps it unless asked");
        let policy = resource(&s, STAGING_BUCKET_POLICY);
        let sids: Vec<&Value> = policy
            .property("PolicyDocument.Statement")
            .and_then(Value::as_array)
            .expect("statements")
            .iter()
            .map(|st| &st["Sid"])
            .collect();
        assert_eq!(sids, [&json!("DenyInsecureTransport"), &json!("DenyTlsBelow12")]);
        assert_eq!(key_paths(&s, Purpose::Staging), BTreeSet::from(["s3".to_owned()]), "used through S3 alone");
        assert!(s.template.outputs.contains_key(names::outputs::STAGING_BUCKET_NAME));
    }

    #[test]
    fn one_retained_rotating_key_per_purpose_with_alias_and_output() {
        let s = build(&acme_spec::fixture::acme());
        assert_eq!(s.template.resources_of_type("AWS::KMS::Key").count(), 5);
        for purpose in Purpose::ALL {
            let k = key(&s, purpose);
            assert_eq!(k.property("EnableKeyRotation"), Some(&json!(true)));
            assert_eq!(k.property("PendingWindowInDays"), Some(&json!(30)));
            assert_eq!(k.deletion_policy, Some(acme_cfn::Policy::Retain));
            assert_eq!(k.update_replace_policy, Some(acme_cfn::Policy::Retain));
            let alias = resource(&s, &format!("{}Alias", purpose.logical_id()));
            assert_eq!(alias.property("AliasName"), Some(&json!(format!("alias/acme/{}", purpose.slug()))));
            assert_eq!(alias.property("TargetKeyId"), Some(&json!({ "Ref": purpose.logical_id() })));
            assert_eq!(s.template.outputs[purpose.output()].value, Expr::att(purpose.logical_id(), "Arn"));
        }
        let outputs: Vec<&str> = s.template.outputs.keys().map(String::as_str).collect();
        assert_eq!(
            outputs,
            ["DataKeyArn", "LogsKeyArn", "ClusterKeyArn", "BackupKeyArn", "StagingKeyArn", "StagingBucketName"]
        );
        assert!(s.inputs.is_empty(), "the keys stack comes first and imports nothing");
    }

    #[test]
    fn the_account_administers_every_key_but_cannot_use_it_unconditionally() {
        let s = build(&acme_spec::fixture::acme());
        for purpose in Purpose::ALL {
            let admin = statement(&s, purpose, "AccountAdministersTheKey");
            assert_eq!(
                admin["Principal"],
                json!({ "AWS": [sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")] })
            );
            assert!(admin.get("Condition").is_none());
            let actions: Vec<&str> =
                admin["Action"].as_array().expect("actions").iter().filter_map(Value::as_str).collect();
            for needed in ["kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion", "kms:DescribeKey"] {
                assert!(actions.contains(&needed), "{purpose:?}: admin lacks {needed}");
            }
            for action in &actions {
                assert!(!action.contains('*'), "{purpose:?}: admin action {action} is a wildcard");
                assert!(!USAGE.iter().any(|u| covers(action, u)), "{purpose:?}: admin may {action}");
            }
        }
    }

    #[test]
    fn every_usage_grant_is_narrowed_and_no_principal_is_anyone() {
        let s = build(&acme_spec::fixture::acme());
        for purpose in Purpose::ALL {
            for st in statements(&s, purpose) {
                let sid = st["Sid"].as_str().expect("every statement has a Sid");
                assert_eq!(st["Effect"], json!("Allow"));
                assert_ne!(st["Principal"]["AWS"], json!("*"), "{purpose:?}/{sid}");
                assert_ne!(st["Principal"], json!("*"), "{purpose:?}/{sid}");
                let grants_use = st["Action"]
                    .as_array()
                    .expect("actions")
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|a| USAGE.iter().any(|u| covers(a, u)));
                if grants_use {
                    assert!(st["Condition"].is_object(), "{purpose:?}/{sid} grants usage without a condition");
                }
                // A forwarded call is only ever accepted from this account.
                if st["Condition"]["StringEquals"].get("kms:ViaService").is_some() {
                    assert_eq!(
                        st["Condition"]["StringEquals"]["kms:CallerAccount"],
                        json!({ "Ref": "AWS::AccountId" })
                    );
                }
            }
        }
    }

    #[test]
    fn each_key_is_usable_only_through_its_services() {
        let s = build(&acme_spec::fixture::acme());
        let set = |xs: &[&str]| xs.iter().map(|x| (*x).to_owned()).collect::<BTreeSet<_>>();
        assert_eq!(key_paths(&s, Purpose::Data), set(&["ecr", "rds", "s3", "secretsmanager"]));
        assert_eq!(key_paths(&s, Purpose::Logs), set(&["cloudtrail", "cloudwatch", "logs", "s3", "sns"]));
        assert_eq!(key_paths(&s, Purpose::Cluster), set(&["eks"]));
        assert_eq!(key_paths(&s, Purpose::Backup), set(&["backup"]));
        assert_eq!(
            statement(&s, Purpose::Data, "UseThroughRds")["Condition"]["StringEquals"]["kms:ViaService"],
            sub("rds.${AWS::Region}.${AWS::URLSuffix}")
        );
    }

    #[test]
    fn data_key_buckets_are_for_service_roles_only() {
        let s = build(&acme_spec::fixture::acme());
        let st = statement(&s, Purpose::Data, "ServiceRolesUseThroughS3");
        assert_eq!(
            st["Condition"]["ArnLike"]["aws:PrincipalArn"],
            sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/acme-svc-*")
        );
        assert_eq!(st["Action"], json!(["kms:Decrypt", "kms:GenerateDataKey*"]));
    }

    #[test]
    fn logs_key_serves_log_groups_of_this_account_and_the_platform_trail() {
        let s = build(&acme_spec::fixture::acme());
        let logs = statement(&s, Purpose::Logs, "CloudWatchLogsOfThisAccount");
        assert_eq!(logs["Principal"]["Service"], json!([sub("logs.${AWS::Region}.${AWS::URLSuffix}")]));
        assert_eq!(
            logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"],
            sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*")
        );
        let trail = sub("arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/acme-trail");
        for sid in ["CloudTrailEncryptsTrailLogs", "CloudTrailDescribesTheKey"] {
            let st = statement(&s, Purpose::Logs, sid);
            assert_eq!(st["Principal"]["Service"], json!(["cloudtrail.amazonaws.com"]));
            assert_eq!(st["Condition"]["StringEquals"]["aws:SourceArn"], trail, "{sid}");
        }
        let alarms = statement(&s, Purpose::Logs, "CloudWatchAlarmsPublishToTheAlertTopic");
        assert_eq!(alarms["Condition"]["StringEquals"]["aws:SourceAccount"], json!({ "Ref": "AWS::AccountId" }));
        assert_eq!(alarms["Action"], json!(["kms:Decrypt", "kms:GenerateDataKey*"]));
    }

    #[test]
    fn cluster_key_is_used_by_the_cluster_role_of_this_platform() {
        let mut p = acme_spec::fixture::acme();
        p.name = "shop".into();
        let s = build(&p);
        let st = statement(&s, Purpose::Cluster, "ClusterRoleEncryptsSecrets");
        assert_eq!(
            st["Condition"]["ArnEquals"]["aws:PrincipalArn"],
            sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/shop-eks-cluster")
        );
        assert_eq!(
            statement(&s, Purpose::Logs, "CloudTrailDescribesTheKey")["Condition"]["StringEquals"]["aws:SourceArn"],
            sub("arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/shop-trail")
        );
        assert_eq!(s.template.resources["ClusterKeyAlias"].property("AliasName"), Some(&json!("alias/shop/cluster")));
    }

    /// The service each KMS-key property of the other stacks makes use the key through.
    fn path_of(resource_type: &str, property: &str) -> &'static str {
        match (resource_type, property) {
            ("AWS::Logs::LogGroup", _) => "logs",
            ("AWS::CloudTrail::Trail", _) => "cloudtrail",
            ("AWS::SNS::Topic", _) => "sns",
            ("AWS::S3::Bucket", _) => "s3",
            ("AWS::RDS::DBInstance", "MasterUserSecret.KmsKeyId") => "secretsmanager",
            ("AWS::RDS::DBInstance", _) => "rds",
            ("AWS::SecretsManager::Secret", _) => "secretsmanager",
            ("AWS::ECR::Repository", _) => "ecr",
            ("AWS::EKS::Cluster", _) => "eks",
            ("AWS::Backup::BackupVault", _) => "backup",
            other => panic!("{other:?} uses a key; add its path to the key policy and to this table"),
        }
    }

    fn key_references(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(param)) = m.get("Ref") {
                    out.push((at.to_owned(), param.clone()));
                }
                for (k, inner) in m {
                    let path = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                    key_references(inner, &path, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| key_references(i, at, out)),
            _ => {}
        }
    }

    /// A role's grant on a key holds only if the key policy accepts the same call: through the
    /// service its `kms:ViaService` names, or from the role itself by its ARN. Returns the keys
    /// it uses.
    fn role_key_uses(keys: &Stack, stack: &str, id: &str, role: &Resource) -> Vec<&'static str> {
        let mut used = vec![];
        let policies = role.property("Policies").and_then(Value::as_array).cloned().unwrap_or_default();
        for statement in
            policies.iter().flat_map(|p| p["PolicyDocument"]["Statement"].as_array().cloned().unwrap_or_default())
        {
            let mut refs = vec![];
            key_references(&statement["Resource"], "", &mut refs);
            for (_, param) in refs {
                let Some(purpose) = Purpose::ALL.into_iter().find(|k| k.output() == param) else { continue };
                match statement["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Sub"].as_str() {
                    Some(via) => {
                        let service = via.split('.').next().unwrap_or(via);
                        assert!(
                            key_paths(keys, purpose).contains(service),
                            "{stack}/{id} uses the {} key through {service}, which its policy does not allow",
                            purpose.slug()
                        );
                    }
                    None => {
                        let name = role.property("RoleName").and_then(Value::as_str).unwrap_or_default();
                        let named = statements(keys, purpose).iter().any(|st| {
                            st["Condition"]["ArnEquals"]["aws:PrincipalArn"]["Fn::Sub"]
                                .as_str()
                                .is_some_and(|arn| arn.ends_with(&format!(":role/{name}")))
                        });
                        assert!(
                            named,
                            "{stack}/{id} uses the {} key directly, but its policy does not name the role",
                            purpose.slug()
                        );
                    }
                }
                used.push(purpose.slug());
            }
        }
        used
    }

    /// Every resource of every stack that names a key is one the key policy lets use it;
    /// an alert topic also needs CloudWatch alarms to be able to publish.
    #[test]
    fn every_key_consumer_in_the_platform_is_allowed_by_the_key_policy() {
        let p = acme_spec::fixture::acme();
        let keys = build(&p);
        let mut seen = BTreeSet::new();
        for stack in crate::synthesize(&p).stacks {
            for (id, r) in &stack.template.resources {
                if r.resource_type == "AWS::IAM::Role" {
                    seen.extend(role_key_uses(&keys, &stack.name.to_string(), id, r));
                    continue;
                }
                let mut refs = vec![];
                key_references(&r.properties, "", &mut refs);
                for (property, param) in refs {
                    let Some(purpose) = Purpose::ALL.into_iter().find(|k| k.output() == param) else { continue };
                    let path = path_of(r.resource_type, &property);
                    assert!(
                        key_paths(&keys, purpose).contains(path),
                        "{}/{id}.{property} uses the {} key through {path}, which its policy does not allow",
                        stack.name,
                        purpose.slug()
                    );
                    if r.resource_type == "AWS::SNS::Topic" {
                        assert!(key_paths(&keys, purpose).contains("cloudwatch"), "alarms cannot publish to {id}");
                    }
                    seen.insert(purpose.slug());
                }
            }
        }
        // The finished stacks use at least these; the test sees more as stacks land.
        for used in ["data", "logs", "cluster", "backup"] {
            assert!(seen.contains(used), "no stack uses the {used} key any more");
        }
    }
}
