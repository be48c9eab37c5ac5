//! The `services` stack: per microservice, an IAM role holding only what acme.yaml says the
//! service uses, the EKS Pod Identity association that hands that role to its pods, and the
//! S3 buckets the service owns.
//!
//! - **Who gets a role**: only a service that uses something. A service without uses gets no
//!   role and no association, so its pods receive no AWS credentials at all. Adding a use later
//!   adds both; the pods pick the credentials up when they next start, which the deploy that
//!   brings the change does anyway.
//! - **Which pods**: the association names namespace `service.namespace` and service account
//!   `service.name`. The Kubernetes synthesis creates a ServiceAccount of exactly that name in
//!   that namespace and runs the service's pods as it.
//! - **Trust**: `pods.eks.amazonaws.com`, only on behalf of this account and this cluster
//!   (`aws:SourceAccount`, `aws:SourceArn`), as EKS documents for Pod Identity.
//! - **Database**: read and describe exactly the RDS-managed secret, and decrypt with the data
//!   key only through Secrets Manager and only for that secret.
//! - **Bucket**: a bucket per `uses: [bucket: <name>]`, KMS-encrypted with the data key (bucket
//!   key on), versioned, private, TLS only, owner-enforced, old versions expiring, server access
//!   logs to one platform access-log bucket here. The role may list it and read, write and
//!   delete its objects, and use the key only through S3 and only for that bucket.
//!
//! Quotas: a service with a role costs 2 resources and 1 output, each bucket 2 resources and
//! 1 output, and the access-log bucket 2 resources. Outputs bind first: roles plus buckets must
//! stay within 200, so 200 services that each use the database fit (400 resources, 200 outputs)
//! but 200 services with a bucket each do not; `Artifacts::quota_excess` reports that before
//! anything is written.

use crate::stacks::buckets::{deny_insecure_transport, deny_tls_below_1_2, lifecycle, private_bucket, sse_kms, sse_s3};
use crate::stacks::edge::stable_hash;
use crate::stacks::names::{self, outputs};
use crate::{Stack, StackName};
use acme_cfn::resources::eks::PodIdentityAssociation;
use acme_cfn::resources::iam::{InlinePolicy, PolicyDocument, Principal, Role, Statement};
use acme_cfn::resources::s3::{Bucket, BucketPolicy, LoggingConfiguration};
use acme_cfn::{Expr, ParameterType, ResourceProperties, pascal};
use acme_spec::{Platform, Service, Use};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;

pub const ACCESS_LOG_BUCKET: &str = "ServiceAccessLogBucket";
pub const ACCESS_LOG_BUCKET_POLICY: &str = "ServiceAccessLogBucketPolicy";
/// Stands in for an otherwise empty stack: CloudFormation rejects a template without resources.
pub const PLACEHOLDER: &str = "NoServiceResources";

/// Longest S3 bucket name.
pub const MAX_BUCKET_NAME: usize = 63;
/// `-${AWS::AccountId}` as it renders: a dash and twelve digits.
const ACCOUNT_SUFFIX: usize = 13;

/// Old object versions are kept this long, to undo an overwrite or a delete.
const NONCURRENT_VERSION_DAYS: u32 = 30;
/// Server access logs of the service buckets.
const ACCESS_LOG_DAYS: u32 = 365;

pub fn role(service: &str) -> String {
    format!("{}Role", pascal(service))
}

pub fn pod_identity_association(service: &str) -> String {
    format!("{}PodIdentityAssociation", pascal(service))
}

pub fn bucket(service: &str, bucket: &str) -> String {
    format!("{}{}Bucket", pascal(service), pascal(bucket))
}

fn bucket_policy(service: &str, bucket_name: &str) -> String {
    format!("{}Policy", bucket(service, bucket_name))
}

/// Whether the service reads the database secret: it says so and the platform has a database.
pub fn uses_database(p: &Platform, service: &Service) -> bool {
    p.database.is_some() && service.uses.contains(&Use::Database)
}

/// The buckets a service owns, sorted, without repeats.
pub fn buckets(service: &Service) -> Vec<&str> {
    let set: BTreeSet<&str> = service
        .uses
        .iter()
        .filter_map(|u| match u {
            Use::Bucket(name) => Some(name.as_str()),
            Use::Database => None,
        })
        .collect();
    set.into_iter().collect()
}

/// Whether the service gets a role: only when it uses something that exists.
pub fn has_role(p: &Platform, service: &Service) -> bool {
    uses_database(p, service) || !buckets(service).is_empty()
}

/// Everything before `-${AWS::AccountId}-${AWS::Region}` in a bucket's name:
/// `<platform>-<service>-<bucket>`, lowercased, other characters made `-`. When the whole name
/// would pass 63 characters in the platform's region, the tail is cut and replaced by a hash of
/// the full text, so two long names stay apart and the same input always gives the same name.
pub fn bucket_name_prefix(p: &Platform, service: &str, bucket: &str) -> String {
    let full: String = format!("{}-{service}-{bucket}", p.name)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let budget = MAX_BUCKET_NAME.saturating_sub(ACCOUNT_SUFFIX + 1 + p.region.len());
    if full.len() <= budget {
        return full;
    }
    let hash = format!("{:08x}", stable_hash(&full) & 0xffff_ffff);
    let keep = budget.saturating_sub(hash.len() + 1);
    format!("{}-{hash}", full[..keep].trim_end_matches('-'))
}

/// The bucket's physical name: globally unique through account and region, and fixed, so the
/// service can be configured with it before the stack exists.
pub fn bucket_name(p: &Platform, service: &str, bucket: &str) -> Expr {
    Expr::sub(format!("{}-${{AWS::AccountId}}-${{AWS::Region}}", bucket_name_prefix(p, service, bucket)))
}

/// A placeholder resource with no properties and no cost.
#[derive(Serialize)]
struct WaitConditionHandle {}

impl ResourceProperties for WaitConditionHandle {
    const TYPE: &'static str = "AWS::CloudFormation::WaitConditionHandle";
}

/// What a bucket policy here says: TLS 1.2 or later, or nothing.
fn tls_only(bucket: &str) -> Vec<Statement> {
    vec![deny_insecure_transport(bucket), deny_tls_below_1_2(bucket)]
}

/// The permissions of one service, statement by statement.
fn statements(p: &Platform, service: &Service, data_key: &Expr, secret: Option<&Expr>) -> Vec<Statement> {
    let mut out = vec![];
    if let (true, Some(secret)) = (uses_database(p, service), secret) {
        out.push(
            Statement::allow(&["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], vec![secret.clone()])
                .sid("ReadDatabaseSecret"),
        );
        out.push(Statement::allow(&["kms:Decrypt"], vec![data_key.clone()]).sid("DecryptDatabaseSecret").condition(
            json!({
                "StringEquals": {
                    "kms:ViaService": Expr::sub("secretsmanager.${AWS::Region}.amazonaws.com").to_value(),
                    "kms:EncryptionContext:SecretARN": secret.to_value()
                }
            }),
        ));
    }
    for name in buckets(service) {
        let id = bucket(&service.name, name);
        let sid = pascal(name);
        out.push(Statement::allow(&["s3:ListBucket"], vec![Expr::att(&id, "Arn")]).sid(format!("List{sid}")));
        out.push(
            Statement::allow(
                &["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                vec![Expr::sub(format!("${{{id}.Arn}}/*"))],
            )
            .sid(format!("ReadWrite{sid}")),
        );
        // With a bucket key, S3 asks KMS on behalf of the bucket: the context is its ARN.
        out.push(
            Statement::allow(&["kms:Decrypt", "kms:GenerateDataKey"], vec![data_key.clone()])
                .sid(format!("Encrypt{sid}"))
                .condition(json!({
                    "StringEquals": {
                        "kms:ViaService": Expr::sub("s3.${AWS::Region}.amazonaws.com").to_value(),
                        "kms:EncryptionContext:aws:s3:arn": Expr::att(&id, "Arn").to_value()
                    }
                })),
        );
    }
    out
}

pub fn build(p: &Platform) -> Stack {
    let mut stack = Stack::new(
        StackName::Services,
        format!("{}: per-service IAM roles through EKS Pod Identity, and service-owned buckets", p.name),
    );
    let with_role: Vec<&Service> = p.services.iter().filter(|s| has_role(p, s)).collect();
    if with_role.is_empty() {
        stack.template.add(PLACEHOLDER, WaitConditionHandle {});
        return stack;
    }
    let cluster_name = stack.import(StackName::Cluster, outputs::CLUSTER_NAME, ParameterType::String);
    let cluster_arn = stack.import(StackName::Cluster, outputs::CLUSTER_ARN, ParameterType::String);
    let data_key = stack.import(StackName::Keys, outputs::DATA_KEY_ARN, ParameterType::String);
    let secret = with_role
        .iter()
        .any(|s| uses_database(p, s))
        .then(|| stack.import(StackName::Data, outputs::DATABASE_SECRET_ARN, ParameterType::String));
    let t = &mut stack.template;

    let owned: Vec<(&Service, &str)> =
        with_role.iter().flat_map(|s| buckets(s).into_iter().map(move |b| (*s, b))).collect();
    if !owned.is_empty() {
        // S3 delivers server access logs only to buckets encrypted with SSE-S3.
        let rule = lifecycle("expire-logs", Some(ACCESS_LOG_DAYS), NONCURRENT_VERSION_DAYS);
        t.add(ACCESS_LOG_BUCKET, private_bucket(sse_s3(), rule, None))
            .retain()
            .skip_checkov(
                "CKV_AWS_18",
                "This bucket receives the S3 server access logs of the service buckets; logging its own accesses would need another log bucket for it, without end. Only the S3 logging service writes to it.",
            );
        let sources: Vec<serde_json::Value> =
            owned.iter().map(|(s, b)| Expr::att(bucket(&s.name, b), "Arn").to_value()).collect();
        let mut statements = tls_only(ACCESS_LOG_BUCKET);
        statements.push(
            Statement::allow(&["s3:PutObject"], vec![Expr::sub(format!("${{{ACCESS_LOG_BUCKET}.Arn}}/*"))])
                .sid("AllowS3ServerAccessLogs")
                .principal(Principal::service("logging.s3.amazonaws.com"))
                .condition(json!({
                    "ArnLike": { "aws:SourceArn": sources },
                    "StringEquals": { "aws:SourceAccount": Expr::pseudo("AccountId").to_value() }
                })),
        );
        t.add(
            ACCESS_LOG_BUCKET_POLICY,
            BucketPolicy { bucket: Expr::r#ref(ACCESS_LOG_BUCKET), policy_document: PolicyDocument::new(statements) },
        );
    }

    for service in with_role {
        for name in buckets(service) {
            let id = bucket(&service.name, name);
            let logging = LoggingConfiguration {
                destination_bucket_name: Some(Expr::r#ref(ACCESS_LOG_BUCKET)),
                log_file_prefix: Some(format!("{}/{name}/", service.name)),
            };
            // The service's current objects never expire: they are its data.
            let rule = lifecycle("expire-noncurrent-versions", None, NONCURRENT_VERSION_DAYS);
            let service_bucket = Bucket {
                bucket_name: Some(bucket_name(p, &service.name, name)),
                ..private_bucket(sse_kms(data_key.clone()), rule, Some(logging))
            };
            t.add(&id, service_bucket).retain();
            t.add(
                bucket_policy(&service.name, name),
                BucketPolicy { bucket: Expr::r#ref(&id), policy_document: PolicyDocument::new(tls_only(&id)) },
            );
            t.output(
                names::bucket_output(&service.name, name),
                format!("Bucket {name} of service {}", service.name),
                Expr::r#ref(&id),
            );
        }

        let role_id = role(&service.name);
        t.add(
            &role_id,
            Role {
                role_name: Some(names::service_role(p, &service.name).into()),
                description: Some(format!(
                    "Pods of service {} (namespace {}), through EKS Pod Identity",
                    service.name, service.namespace
                )),
                assume_role_policy_document: Some(PolicyDocument::new(vec![
                    Statement::trust(
                        Principal::service("pods.eks.amazonaws.com"),
                        &["sts:AssumeRole", "sts:TagSession"],
                    )
                    .condition(json!({
                        "StringEquals": { "aws:SourceAccount": Expr::pseudo("AccountId").to_value() },
                        "ArnEquals": { "aws:SourceArn": cluster_arn.to_value() }
                    })),
                ])),
                policies: vec![InlinePolicy {
                    policy_name: "uses".into(),
                    policy_document: PolicyDocument::new(statements(p, service, &data_key, secret.as_ref())),
                }],
                ..Role::default()
            },
        );
        t.add(
            pod_identity_association(&service.name),
            PodIdentityAssociation {
                cluster_name: cluster_name.clone(),
                namespace: service.namespace.clone(),
                service_account: service.name.clone(),
                role_arn: Expr::att(&role_id, "Arn"),
            },
        );
        t.output(
            names::service_role_output(&service.name),
            format!("Pod Identity role of service {}", service.name),
            Expr::att(&role_id, "Arn"),
        );
    }
    stack
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stacks::testing::{param, prop, resource};

    fn fixture() -> Stack {
        build(&acme_spec::fixture::acme())
    }

    /// The rendered permission policy of a service's role.
    fn policy_text(s: &Stack, service: &str) -> String {
        prop(s, &role(service), "Policies").to_string()
    }

    #[test]
    fn only_services_that_use_something_get_a_role_and_an_association() {
        let s = fixture();
        let roles: Vec<&String> = s.template.resources_of_type("AWS::IAM::Role").map(|(id, _)| id).collect();
        assert_eq!(roles, ["ApiRole", "AuthRole"]);
        let associations: Vec<&String> =
            s.template.resources_of_type("AWS::EKS::PodIdentityAssociation").map(|(id, _)| id).collect();
        assert_eq!(associations, ["ApiPodIdentityAssociation", "AuthPodIdentityAssociation"]);
        assert!(!s.template.outputs.contains_key(&names::service_role_output("web")));
        assert!(!s.template.outputs.contains_key(&names::service_role_output("chat")));
    }

    #[test]
    fn association_names_the_service_account_in_the_services_namespace() {
        let mut p = acme_spec::fixture::acme();
        p.services[1].namespace = "backend".into();
        let s = build(&p);
        let id = pod_identity_association("api");
        assert_eq!(prop(&s, &id, "Namespace"), "backend");
        assert_eq!(prop(&s, &id, "ServiceAccount"), "api");
        assert_eq!(prop(&s, &id, "ClusterName"), &param("ClusterName"));
        assert_eq!(prop(&s, &id, "RoleArn"), &json!({ "Fn::GetAtt": ["ApiRole", "Arn"] }));
    }

    #[test]
    fn roles_trust_pod_identity_of_this_cluster_in_this_account_only() {
        let s = fixture();
        for service in ["api", "auth"] {
            assert_eq!(prop(&s, &role(service), "RoleName"), format!("acme-svc-{service}").as_str());
            assert_eq!(
                prop(&s, &role(service), "AssumeRolePolicyDocument.Statement"),
                &json!([{
                    "Effect": "Allow",
                    "Principal": { "Service": ["pods.eks.amazonaws.com"] },
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                    "Condition": {
                        "StringEquals": { "aws:SourceAccount": { "Ref": "AWS::AccountId" } },
                        "ArnEquals": { "aws:SourceArn": { "Ref": "ClusterArn" } }
                    }
                }])
            );
            assert!(resource(&s, &role(service)).property("ManagedPolicyArns").is_none());
        }
    }

    #[test]
    fn database_users_read_exactly_the_secret_and_decrypt_only_through_secrets_manager() {
        let s = fixture();
        assert_eq!(
            prop(&s, &role("auth"), "Policies.0.PolicyDocument.Statement"),
            &json!([
                {
                    "Sid": "ReadDatabaseSecret",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    "Resource": [{ "Ref": "DatabaseSecretArn" }]
                },
                {
                    "Sid": "DecryptDatabaseSecret",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt"],
                    "Resource": [{ "Ref": "DataKeyArn" }],
                    "Condition": { "StringEquals": {
                        "kms:ViaService": { "Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com" },
                        "kms:EncryptionContext:SecretARN": { "Ref": "DatabaseSecretArn" }
                    } }
                }
            ])
        );
    }

    #[test]
    fn bucket_owner_gets_object_access_to_its_bucket_and_the_key_only_through_s3() {
        let s = fixture();
        let statements = prop(&s, &role("api"), "Policies.0.PolicyDocument.Statement");
        let by_sid = |sid: &str| {
            statements
                .as_array()
                .into_iter()
                .flatten()
                .find(|st| st["Sid"] == sid)
                .unwrap_or_else(|| panic!("no {sid}"))
        };
        assert_eq!(by_sid("ListUploads")["Resource"], json!([{ "Fn::GetAtt": ["ApiUploadsBucket", "Arn"] }]));
        assert_eq!(by_sid("ListUploads")["Action"], json!(["s3:ListBucket"]));
        assert_eq!(by_sid("ReadWriteUploads")["Resource"], json!([{ "Fn::Sub": "${ApiUploadsBucket.Arn}/*" }]));
        assert_eq!(
            by_sid("ReadWriteUploads")["Action"],
            json!(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"])
        );
        let kms = by_sid("EncryptUploads");
        assert_eq!(kms["Resource"], json!([param("DataKeyArn")]));
        assert_eq!(
            kms["Condition"]["StringEquals"],
            json!({
                "kms:ViaService": { "Fn::Sub": "s3.${AWS::Region}.amazonaws.com" },
                "kms:EncryptionContext:aws:s3:arn": { "Fn::GetAtt": ["ApiUploadsBucket", "Arn"] }
            })
        );
        // api also reads the database secret: two statements for it, three for its bucket.
        assert_eq!(statements.as_array().map(Vec::len), Some(5));
    }

    #[test]
    fn no_policy_grants_another_services_bucket_or_the_secret_to_a_non_user() {
        let mut p = acme_spec::fixture::acme();
        p.services[2].uses = vec![Use::Bucket("avatars".into())]; // auth: a bucket, no database
        p.services[3].uses = vec![Use::Bucket("uploads".into()), Use::Database]; // chat
        let s = build(&p);
        let all_buckets: Vec<String> =
            p.services.iter().flat_map(|svc| buckets(svc).into_iter().map(|b| bucket(&svc.name, b))).collect();
        assert_eq!(all_buckets, ["ApiUploadsBucket", "AuthAvatarsBucket", "ChatUploadsBucket"]);
        for svc in p.services.iter().filter(|svc| has_role(&p, svc)) {
            let text = policy_text(&s, &svc.name);
            for id in &all_buckets {
                let own = buckets(svc).into_iter().any(|b| &bucket(&svc.name, b) == id);
                assert_eq!(text.contains(id.as_str()), own, "{} and {id}", svc.name);
            }
            assert_eq!(text.contains("DatabaseSecretArn"), uses_database(&p, svc), "{}", svc.name);
        }
    }

    #[test]
    fn without_a_database_nothing_imports_or_grants_the_secret() {
        let mut p = acme_spec::fixture::acme();
        p.database = None;
        let s = build(&p);
        assert!(!s.template.parameters.contains_key("DatabaseSecretArn"));
        assert!(!s.template.resources.contains_key(&role("auth")), "auth used only the database");
        assert!(!policy_text(&s, "api").contains("secretsmanager"));
    }

    #[test]
    fn service_buckets_are_hardened_and_retained() {
        let s = fixture();
        let id = bucket("api", "uploads");
        let b = resource(&s, &id);
        assert_eq!(b.deletion_policy, Some(acme_cfn::Policy::Retain));
        assert_eq!(b.update_replace_policy, Some(acme_cfn::Policy::Retain));
        assert_eq!(
            prop(&s, &id, "BucketEncryption.ServerSideEncryptionConfiguration"),
            &json!([{
                "ServerSideEncryptionByDefault": { "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": { "Ref": "DataKeyArn" } },
                "BucketKeyEnabled": true
            }])
        );
        assert_eq!(
            prop(&s, &id, "PublicAccessBlockConfiguration"),
            &json!({ "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true })
        );
        assert_eq!(prop(&s, &id, "VersioningConfiguration.Status"), "Enabled");
        assert_eq!(prop(&s, &id, "OwnershipControls.Rules.0.ObjectOwnership"), "BucketOwnerEnforced");
        let rule = prop(&s, &id, "LifecycleConfiguration.Rules.0");
        assert_eq!(rule["NoncurrentVersionExpiration"]["NoncurrentDays"], json!(30));
        assert!(rule.get("ExpirationInDays").is_none(), "a service's current objects never expire");
        assert_eq!(
            prop(&s, &id, "LoggingConfiguration"),
            &json!({ "DestinationBucketName": { "Ref": ACCESS_LOG_BUCKET }, "LogFilePrefix": "api/uploads/" })
        );

        let policy = prop(&s, &bucket_policy("api", "uploads"), "PolicyDocument.Statement");
        assert_eq!(policy[0]["Effect"], "Deny");
        assert_eq!(policy[0]["Condition"], json!({ "Bool": { "aws:SecureTransport": "false" } }));
        assert_eq!(policy[1]["Condition"], json!({ "NumericLessThan": { "s3:TlsVersion": "1.2" } }));
        assert_eq!(policy.as_array().map(Vec::len), Some(2), "the bucket policy allows nothing");
        assert_eq!(s.template.outputs[&names::bucket_output("api", "uploads")].value, Expr::r#ref(&id));
    }

    #[test]
    fn access_logs_land_in_one_retained_bucket_only_s3_logging_may_write() {
        let s = fixture();
        let log = resource(&s, ACCESS_LOG_BUCKET);
        assert_eq!(log.deletion_policy, Some(acme_cfn::Policy::Retain));
        assert_eq!(
            prop(
                &s,
                ACCESS_LOG_BUCKET,
                "BucketEncryption.ServerSideEncryptionConfiguration.0.ServerSideEncryptionByDefault.SSEAlgorithm"
            ),
            "AES256"
        );
        let allow = prop(&s, ACCESS_LOG_BUCKET_POLICY, "PolicyDocument.Statement.2");
        assert_eq!(allow["Principal"], json!({ "Service": ["logging.s3.amazonaws.com"] }));
        assert_eq!(allow["Action"], json!(["s3:PutObject"]));
        assert_eq!(
            allow["Condition"]["ArnLike"]["aws:SourceArn"],
            json!([{ "Fn::GetAtt": ["ApiUploadsBucket", "Arn"] }])
        );

        let mut p = acme_spec::fixture::acme();
        p.services[1].uses = vec![Use::Database];
        let s = build(&p);
        assert!(!s.template.resources.contains_key(ACCESS_LOG_BUCKET), "no log bucket without service buckets");
        assert!(s.template.resources.contains_key(&role("api")));
    }

    #[test]
    fn a_platform_where_no_service_uses_anything_keeps_a_deployable_stack() {
        let mut p = acme_spec::fixture::acme();
        for s in &mut p.services {
            s.uses.clear();
        }
        let s = build(&p);
        let types: Vec<&str> = s.template.resources.values().map(|r| r.resource_type).collect();
        assert_eq!(types, ["AWS::CloudFormation::WaitConditionHandle"]);
        assert!(s.template.parameters.is_empty() && s.template.outputs.is_empty());
    }

    /// The name as AWS renders it in `region`, for an account id of twelve digits.
    fn rendered(p: &Platform, service: &str, bucket: &str) -> String {
        match bucket_name(p, service, bucket) {
            Expr::Sub(s) => s.replace("${AWS::AccountId}", "111122223333").replace("${AWS::Region}", &p.region),
            other => panic!("bucket name is a Sub: {other:?}"),
        }
    }

    #[test]
    fn bucket_names_are_valid_unique_and_at_most_63_characters() {
        let mut p = acme_spec::fixture::acme();
        assert_eq!(rendered(&p, "api", "uploads"), "acme-api-uploads-111122223333-us-east-1");
        for region in ["us-east-1", "ap-southeast-5", "us-isof-south-1"] {
            p.region = region.into();
            let long = "a".repeat(40);
            let a = rendered(&p, &format!("{long}-one"), "media");
            let b = rendered(&p, &format!("{long}-two"), "media");
            for name in [&a, &b] {
                assert!(name.len() <= MAX_BUCKET_NAME, "{name} is {} characters", name.len());
                assert!(name.ends_with(&format!("-111122223333-{region}")), "{name}");
                assert!(name.starts_with("acme-aaaa"), "{name}");
                assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{name}");
                assert!(!name.contains("--"), "{name}");
            }
            assert_ne!(a, b, "names cut to the same head stay apart");
            assert_eq!(a, rendered(&p, &format!("{long}-one"), "media"), "deterministic");
        }
        // A name that fits is kept whole; one character more is cut and hashed.
        p.region = "us-east-1".into();
        let budget = MAX_BUCKET_NAME - "-111122223333-us-east-1".len();
        let fits = "b".repeat(budget - "acme-x-".len());
        assert_eq!(bucket_name_prefix(&p, "x", &fits).len(), budget);
        assert_eq!(bucket_name_prefix(&p, "x", &fits), format!("acme-x-{fits}"));
        let over = format!("{fits}b");
        let cut = bucket_name_prefix(&p, "x", &over);
        assert_eq!(cut.len(), budget);
        let (head, hash) = cut.split_at(budget - 9);
        assert!(format!("acme-x-{over}").starts_with(head), "{cut} keeps the head of the full name");
        assert!(hash.starts_with('-') && hash[1..].chars().all(|c| c.is_ascii_hexdigit()), "{cut} ends in a hash");
        assert_eq!(bucket_name_prefix(&p, "x", "My_Bucket"), "acme-x-my-bucket");
    }

    /// `n` services modelled on the fixture's `auth` service, each using `uses`.
    fn many_services(n: usize, uses: Vec<Use>) -> Platform {
        let mut p = acme_spec::fixture::acme();
        let template = p.services[2].clone();
        p.services = (0..n)
            .map(|i| Service {
                name: format!("svc{i}"),
                namespace: format!("svc{i}"),
                uses: uses.clone(),
                // Unrouted: a route each would exceed the load balancer's rule quota.
                routes: vec![],
                ..template.clone()
            })
            .collect();
        p
    }

    #[test]
    fn two_hundred_services_with_a_role_each_fit_the_quotas() {
        let p = many_services(200, vec![Use::Database]);
        let t = build(&p).template;
        assert_eq!((t.resources.len(), t.outputs.len(), t.parameters.len()), (400, 200, 4));
        assert_eq!(crate::synthesize(&p).quota_excess(), Vec::<String>::new());
    }

    #[test]
    fn over_the_output_quota_is_reported_before_cloudformation_rejects_it() {
        // 200 services with a bucket each: 802 resources and 400 outputs.
        let p = many_services(200, vec![Use::Bucket("files".into())]);
        let excess = |p: &Platform| {
            crate::synthesize(p).quota_excess().into_iter().filter(|e| e.starts_with("services")).collect::<Vec<_>>()
        };
        assert_eq!(
            excess(&p),
            [
                "services stack: 802 resources, over the quota of 500",
                "services stack: 400 outputs, over the quota of 200"
            ]
        );
        // The most that fits: 100 services with a bucket each (100 roles + 100 buckets = 200 outputs).
        assert!(excess(&many_services(100, vec![Use::Bucket("files".into())])).is_empty());
        assert_eq!(excess(&many_services(101, vec![Use::Bucket("files".into())])).len(), 1);
    }
}
