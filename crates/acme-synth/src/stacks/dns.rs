//! The `dns` stack: the public hosted zone (created here, or an existing one named by id),
//! one ACM certificate per public host validated by DNS in that zone, and the optional
//! private hosted zone for internal names. The alias records that point the hosts at the
//! load balancer live in the edge stack, which needs these certificates first.
//!
//! **Delegation.** ACM validates a certificate only once public resolvers find its validation
//! record, so a zone created here must be delegated (its name servers set at the registrar or
//! in the parent zone) before the certificates can be issued; CloudFormation waits for
//! issuance meanwhile. On a first deploy the zone exists, with its name servers, minutes before
//! the certificates: the deploy should show them then (`HostedZoneNameServers` holds them too).
//! An existing zone is normally delegated already.
//!
//! **One certificate per host** keeps each certificate small and lets a host come or go
//! without reissuing the others. Each edge shard's listener takes its first host's certificate
//! as its default and every other one as a listener certificate; an ALB holds 25 besides the
//! default, so the shard plan (`stacks::shards`) puts at most 26 hosts on one load balancer.
//! ACM's own quota (2,500 certificates per Region by default) is far above the hosts of a
//! platform.
//!
//! **Query logging** of the public zone is on when the platform lives in us-east-1: Route 53
//! writes public query logs only to log groups in us-east-1, and a stack can create resources
//! only in its own Region. Elsewhere there is no query log (a log group in us-east-1 would need
//! a second stack there). **DNSSEC** is off: signing needs a key-signing key in us-east-1 and a
//! DS record at the parent (a step outside CloudFormation), and a signed zone whose key is
//! later disabled or deleted stops resolving for every validating resolver.

use crate::stacks::names::{self, outputs};
use crate::{Stack, StackName};
use acme_cfn::resources::acm::{Certificate, DomainValidationOption};
use acme_cfn::resources::iam::{PolicyDocument, Principal, Statement};
use acme_cfn::resources::logs::{LogGroup, ResourcePolicy};
use acme_cfn::resources::route53::{HostedZone, HostedZoneConfig, QueryLoggingConfig, Vpc};
use acme_cfn::{Expr, ExprList, ParameterType, pascal};
use acme_spec::{Platform, ZoneSource};
use serde_json::json;

pub const PUBLIC_ZONE: &str = "PublicHostedZone";
pub const PRIVATE_ZONE: &str = "PrivateHostedZone";
pub const QUERY_LOG_GROUP: &str = "QueryLogGroup";
pub const QUERY_LOG_POLICY: &str = "QueryLogResourcePolicy";

/// The only Region whose log groups Route 53 delivers public DNS query logs to.
pub const QUERY_LOG_REGION: &str = "us-east-1";
const QUERY_LOG_RETENTION_DAYS: u32 = 365;

/// Logical id of a host's certificate.
pub fn certificate_id(host: &str) -> String {
    format!("Certificate{}", pascal(host))
}

/// Route 53's query logs of the created public zone, when the platform lives where they go.
fn query_logging(p: &Platform) -> bool {
    p.dns.zone == ZoneSource::Create && p.region == QUERY_LOG_REGION
}

/// `/aws/route53/<domain>`, the prefix Route 53 recommends for query log groups.
fn query_log_group_name(p: &Platform) -> String {
    format!("/aws/route53/{}", p.domain)
}

/// The query log group's ARN as Route 53 documents it (`Fn::Sub` text): the group's `Arn`
/// attribute ends in `:*`, which names its streams rather than the group.
fn query_log_group_arn(p: &Platform) -> String {
    format!("arn:${{AWS::Partition}}:logs:{QUERY_LOG_REGION}:${{AWS::AccountId}}:log-group:{}", query_log_group_name(p))
}

pub fn build(p: &Platform) -> Stack {
    let mut stack = Stack::new(
        StackName::Dns,
        format!("{}: public hosted zone, ACM certificates validated in it, private hosted zone", p.name),
    );
    let vpc =
        p.dns.private_zone.is_some().then(|| stack.import(StackName::Network, outputs::VPC_ID, ParameterType::VpcId));
    let logs_key =
        query_logging(p).then(|| stack.import(StackName::Keys, outputs::LOGS_KEY_ARN, ParameterType::String));
    let t = &mut stack.template;

    if let Some(logs_key) = logs_key {
        t.add(
            QUERY_LOG_GROUP,
            LogGroup {
                log_group_name: Some(query_log_group_name(p).into()),
                retention_in_days: QUERY_LOG_RETENTION_DAYS,
                kms_key_id: logs_key,
            },
        )
        .retain();
        // Scoped to this log group, to Route 53 and to hosted zones of this account. It cannot
        // name the zone itself: the zone is created after the policy (Route 53 checks it).
        t.add(
            QUERY_LOG_POLICY,
            ResourcePolicy {
                policy_name: format!("{}-route53-query-logs", p.name),
                policy_document: PolicyDocument::new(vec![
                    Statement::allow(
                        &["logs:CreateLogStream", "logs:PutLogEvents"],
                        vec![Expr::sub(format!("{}:*", query_log_group_arn(p)))],
                    )
                    .sid("Route53QueryLogs")
                    .principal(Principal::service("route53.amazonaws.com"))
                    .condition(json!({
                        "StringEquals": { "aws:SourceAccount": Expr::pseudo("AccountId") },
                        "ArnLike": { "aws:SourceArn": Expr::sub("arn:${AWS::Partition}:route53:::hostedzone/*") },
                    })),
                ]),
            },
        )
        .depends_on(QUERY_LOG_GROUP);
    }

    let zone = match &p.dns.zone {
        ZoneSource::Create => {
            let logging = query_logging(p);
            let resource = t
                .add(
                    PUBLIC_ZONE,
                    HostedZone {
                        name: p.domain.clone(),
                        hosted_zone_config: Some(HostedZoneConfig {
                            comment: format!("{}: public names of the platform", p.name),
                        }),
                        vpcs: vec![],
                        query_logging_config: logging.then(|| QueryLoggingConfig {
                            cloud_watch_logs_log_group_arn: Expr::sub(query_log_group_arn(p)),
                        }),
                    },
                )
                .retain();
            if logging {
                resource.depends_on(QUERY_LOG_GROUP).depends_on(QUERY_LOG_POLICY);
            }
            Expr::r#ref(PUBLIC_ZONE)
        }
        ZoneSource::Existing { id } => Expr::Lit(id.clone()),
    };
    t.output(outputs::HOSTED_ZONE_ID, format!("Public hosted zone of {}", p.domain), zone.clone());
    if p.dns.zone == ZoneSource::Create {
        t.output(
            "HostedZoneNameServers",
            format!("Name servers of the new {} zone: delegate the domain to them", p.domain),
            Expr::join_list(",", ExprList::att(PUBLIC_ZONE, "NameServers")),
        );
    }

    for host in p.hosts() {
        let id = certificate_id(host);
        t.add(
            &id,
            Certificate {
                domain_name: host.to_owned(),
                subject_alternative_names: vec![],
                validation_method: Some("DNS".into()),
                // CloudFormation writes the validation CNAME into the zone itself.
                domain_validation_options: vec![DomainValidationOption {
                    domain_name: host.to_owned(),
                    hosted_zone_id: Some(zone.clone()),
                    validation_domain: None,
                }],
                // Pinned, since a change replaces the certificate. RSA for the widest client reach.
                key_algorithm: Some("RSA_2048".into()),
                // Public logging lets the domain owner spot certificates issued behind their back.
                certificate_transparency_logging_preference: Some("ENABLED".into()),
                tags: vec![],
            },
        );
        t.output(names::certificate_output(host), format!("ACM certificate of {host}"), Expr::r#ref(id));
    }

    if let (Some(name), Some(vpc)) = (&p.dns.private_zone, vpc) {
        t.add(
            PRIVATE_ZONE,
            HostedZone {
                name: name.clone(),
                hosted_zone_config: Some(HostedZoneConfig {
                    comment: format!("{}: internal names, resolvable only inside the VPC", p.name),
                }),
                vpcs: vec![Vpc { vpc_id: vpc, vpc_region: Expr::pseudo("Region") }],
                query_logging_config: None,
            },
        )
        .retain();
        t.output(outputs::PRIVATE_HOSTED_ZONE_ID, format!("Private hosted zone {name}"), Expr::r#ref(PRIVATE_ZONE));
    }
    stack
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stacks::testing::{prop, resource};
    use acme_cfn::{Policy, Resource};
    use acme_spec::{Route, fixture};
    use serde_json::Value;

    fn certificates(s: &Stack) -> Vec<&Resource> {
        s.template.resources_of_type("AWS::CertificateManager::Certificate").map(|(_, r)| r).collect()
    }

    fn existing_zone() -> Platform {
        let mut p = fixture::acme();
        p.dns.zone = ZoneSource::Existing { id: "Z0123456789ABCDEFGHIJ".into() };
        p
    }

    /// A platform routing `n` distinct hosts.
    fn with_hosts(n: usize) -> Platform {
        let mut p = fixture::acme();
        let template = p.services[0].clone();
        p.services = (0..n)
            .map(|i| acme_spec::Service {
                name: format!("svc{i}"),
                routes: vec![Route { host: format!("h{i}.acme.example.com"), path: None, port: 8080 }],
                ..template.clone()
            })
            .collect();
        p
    }

    #[test]
    fn one_certificate_per_host_validated_by_dns_in_the_created_zone() {
        let p = fixture::acme();
        let s = build(&p);
        let certs = certificates(&s);
        assert_eq!(certs.len(), p.hosts().len());
        for host in p.hosts() {
            let id = certificate_id(host);
            assert_eq!(prop(&s, &id, "DomainName"), host);
            assert!(resource(&s, &id).property("SubjectAlternativeNames").is_none(), "one name per certificate");
            assert_eq!(prop(&s, &id, "ValidationMethod"), "DNS");
            assert_eq!(prop(&s, &id, "DomainValidationOptions.0.DomainName"), host);
            assert_eq!(prop(&s, &id, "DomainValidationOptions.0.HostedZoneId"), &json!({ "Ref": PUBLIC_ZONE }));
            assert_eq!(prop(&s, &id, "CertificateTransparencyLoggingPreference"), "ENABLED");
            assert_eq!(s.template.outputs[&names::certificate_output(host)].value, Expr::r#ref(&id));
        }
    }

    #[test]
    fn created_zone_is_retained_and_publishes_its_name_servers() {
        let s = build(&fixture::acme());
        let zone = resource(&s, PUBLIC_ZONE);
        assert_eq!(zone.resource_type, "AWS::Route53::HostedZone");
        assert_eq!(prop(&s, PUBLIC_ZONE, "Name"), "acme.example.com");
        assert!(zone.property("VPCs").is_none(), "the public zone is public");
        assert_eq!((zone.deletion_policy, zone.update_replace_policy), (Some(Policy::Retain), Some(Policy::Retain)));
        assert_eq!(s.template.outputs["HostedZoneId"].value, Expr::r#ref(PUBLIC_ZONE));
        assert_eq!(
            s.template.outputs["HostedZoneNameServers"].value.to_value(),
            json!({ "Fn::Join": [",", { "Fn::GetAtt": [PUBLIC_ZONE, "NameServers"] }] })
        );
    }

    #[test]
    fn an_existing_zone_is_used_by_id_and_no_zone_is_created() {
        let s = build(&existing_zone());
        let zones: Vec<_> = s.template.resources_of_type("AWS::Route53::HostedZone").map(|(id, _)| id).collect();
        assert_eq!(zones, [PRIVATE_ZONE], "only the private zone is created");
        assert_eq!(s.template.outputs["HostedZoneId"].value, Expr::Lit("Z0123456789ABCDEFGHIJ".into()));
        assert!(!s.template.outputs.contains_key("HostedZoneNameServers"));
        for cert in certificates(&s) {
            assert_eq!(cert.property("DomainValidationOptions.0.HostedZoneId"), Some(&json!("Z0123456789ABCDEFGHIJ")));
        }
        assert!(!s.template.resources.contains_key(QUERY_LOG_GROUP), "the zone is not ours to configure");
    }

    #[test]
    fn private_zone_only_when_asked_and_attached_to_the_vpc() {
        let s = build(&fixture::acme());
        assert_eq!(prop(&s, PRIVATE_ZONE, "Name"), "internal.acme.example.com");
        assert_eq!(
            prop(&s, PRIVATE_ZONE, "VPCs"),
            &json!([{ "VPCId": { "Ref": "VpcId" }, "VPCRegion": { "Ref": "AWS::Region" } }])
        );
        assert_eq!(resource(&s, PRIVATE_ZONE).deletion_policy, Some(Policy::Retain));
        assert_eq!(s.template.outputs["PrivateHostedZoneId"].value, Expr::r#ref(PRIVATE_ZONE));
        assert_eq!(s.template.parameters["VpcId"].parameter_type, ParameterType::VpcId);

        let mut p = fixture::acme();
        p.dns.private_zone = None;
        let s = build(&p);
        assert!(!s.template.resources.contains_key(PRIVATE_ZONE));
        assert!(!s.template.outputs.contains_key("PrivateHostedZoneId"));
        assert!(!s.template.parameters.contains_key("VpcId"), "no VPC import without a private zone");
    }

    #[test]
    fn query_logs_go_to_an_encrypted_us_east_1_group_only_route53_may_write() {
        let s = build(&fixture::acme());
        assert_eq!(
            prop(&s, PUBLIC_ZONE, "QueryLoggingConfig.CloudWatchLogsLogGroupArn"),
            &json!({ "Fn::Sub": "arn:${AWS::Partition}:logs:us-east-1:${AWS::AccountId}:log-group:/aws/route53/acme.example.com" })
        );
        assert_eq!(resource(&s, PUBLIC_ZONE).depends_on, [QUERY_LOG_GROUP, QUERY_LOG_POLICY]);
        assert_eq!(prop(&s, QUERY_LOG_GROUP, "LogGroupName"), "/aws/route53/acme.example.com");
        assert_eq!(prop(&s, QUERY_LOG_GROUP, "KmsKeyId"), &json!({ "Ref": "LogsKeyArn" }));
        assert_eq!(resource(&s, QUERY_LOG_GROUP).deletion_policy, Some(Policy::Retain));
        let statement = prop(&s, QUERY_LOG_POLICY, "PolicyDocument.Statement.0");
        assert_eq!(statement["Principal"], json!({ "Service": ["route53.amazonaws.com"] }));
        assert_eq!(statement["Action"], json!(["logs:CreateLogStream", "logs:PutLogEvents"]));
        assert_eq!(
            statement["Resource"],
            json!([{ "Fn::Sub": "arn:${AWS::Partition}:logs:us-east-1:${AWS::AccountId}:log-group:/aws/route53/acme.example.com:*" }])
        );
        assert_eq!(statement["Condition"]["StringEquals"]["aws:SourceAccount"], json!({ "Ref": "AWS::AccountId" }));

        let mut elsewhere = fixture::acme();
        elsewhere.region = "eu-west-1".into();
        let s = build(&elsewhere);
        assert!(resource(&s, PUBLIC_ZONE).property("QueryLoggingConfig").is_none());
        assert!(!s.template.resources.contains_key(QUERY_LOG_GROUP));
        assert!(!s.template.parameters.contains_key("LogsKeyArn"));
    }

    #[test]
    fn many_hosts_keep_one_certificate_each_within_template_quotas() {
        let p = with_hosts(100);
        let s = build(&p);
        assert_eq!(certificates(&s).len(), 100);
        assert!(certificates(&s).iter().all(|c| c.property("SubjectAlternativeNames").is_none()));
        assert!(s.template.outputs.len() <= 200, "{} outputs", s.template.outputs.len());
        assert!(s.template.resources.len() <= 500);
    }

    #[test]
    fn hosts_shared_by_services_get_a_single_certificate() {
        // web and api share www: three hosts, three certificates.
        let s = build(&fixture::acme());
        let names: Vec<&str> =
            certificates(&s).iter().filter_map(|c| c.property("DomainName").and_then(Value::as_str)).collect();
        assert_eq!(names, ["auth.acme.example.com", "chat.acme.example.com", "www.acme.example.com"]);
    }
}
