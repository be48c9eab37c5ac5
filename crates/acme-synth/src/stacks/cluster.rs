//! The `cluster` stack: the EKS cluster in Auto Mode, its control-plane and node roles, its
//! control-plane log group, and the access entries that let people and CI reach the
//! Kubernetes API.
//!
//! - **Auto Mode** (compute, load balancing and block storage together, as EKS requires): AWS
//!   runs and patches the nodes, the VPC CNI with network policy, and Pod Identity. The built-in
//!   `general-purpose` and `system` node pools place nodes in the private subnets given here.
//! - **API endpoint**: private always; public only when `cluster.public_access_cidrs` lists
//!   who may reach it. From inside the VPC the private endpoint takes HTTPS through a security
//!   group of its own (the group EKS creates admits only the cluster itself), so CI runners or
//!   a bastion in the VPC can deploy without a public endpoint.
//! - **Authentication mode `API`**: access entries only, no `aws-auth` ConfigMap. The creator of
//!   the stack gets no implicit admin entry: admins are exactly `cluster.admin_role_arns`.
//! - **Service range** set explicitly (`Network::service_cidr`), the one EKS would pick, so the
//!   Kubernetes synthesis knows the cluster DNS address its network policies must allow.
//! - **metrics-server** add-on: the metrics API the services' HorizontalPodAutoscalers scale on.
//! - **Secrets** are envelope-encrypted with the cluster key of the keys stack. The principal
//!   that deploys this stack needs `kms:DescribeKey` and `kms:CreateGrant` on that key (EKS
//!   documents that `kms:GrantIsForAWSResource` must not guard that grant).
//!
//! Why no `Retain` on the cluster: it holds no state that is not rebuilt from `acme.yaml`.
//! Workloads are re-applied by `acmectl deploy`, credentials live in Secrets Manager, and the
//! only data (EBS volumes) outlives the cluster by its storage class. A retained cluster that
//! left the stack would keep running, billed and unmanaged, and would block a new one of the same
//! name. What protects it instead: EKS deletion protection (a stack delete fails until it is
//! switched off), and its fixed name, which makes CloudFormation refuse any replacement, so an
//! accidental replacing change fails rather than rebuilding the cluster. The deploy guard stops
//! such a change set before it runs.

use crate::stacks::edge::stable_hash;
use crate::stacks::names::{self, outputs};
use crate::stacks::no_egress;
use crate::{Stack, StackName};
use acme_cfn::resources::ec2::{IngressRule, SecurityGroup};
use acme_cfn::resources::eks::{
    AccessConfig, AccessEntry, AccessPolicy, AccessScope, Addon, BlockStorage, Cluster, ClusterLogging, ComputeConfig,
    ElasticLoadBalancing, EncryptionConfig, KubernetesNetworkConfig, Logging, LoggingTypeConfig, Provider,
    ResourcesVpcConfig, StorageConfig, UpgradePolicy, ZonalShiftConfig,
};
use acme_cfn::resources::iam::{InlinePolicy, PolicyDocument, Principal, Role, Statement, aws_managed};
use acme_cfn::resources::logs::LogGroup;
use acme_cfn::{Expr, ParameterType};
use acme_spec::Platform;
use std::collections::BTreeSet;

pub const CLUSTER: &str = "Cluster";
pub const CLUSTER_ROLE: &str = "ClusterRole";
pub const NODE_ROLE: &str = "NodeRole";
pub const LOG_GROUP: &str = "ControlPlaneLogGroup";
pub const ENDPOINT_SECURITY_GROUP: &str = "ApiEndpointSecurityGroup";
pub const CI_ACCESS_ENTRY: &str = "CiAccessEntry";
pub const METRICS_SERVER_ADDON: &str = "MetricsServerAddon";

/// Every control-plane log type EKS can export.
pub const LOG_TYPES: [&str; 5] = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

/// The audit log is evidence; keep a year of it, as the database logs.
const LOG_RETENTION_DAYS: u32 = 365;

/// Auto Mode's built-in node pools: workloads, and the cluster's own critical add-ons.
const NODE_POOLS: [&str; 2] = ["general-purpose", "system"];

/// AWS managed policies of the cluster role that Auto Mode documents ("Amazon EKS Auto Mode
/// cluster IAM role"): the cluster itself and its compute, block storage, load balancing and
/// networking capabilities.
pub const CLUSTER_ROLE_POLICIES: [&str; 5] = [
    "AmazonEKSClusterPolicy",
    "AmazonEKSComputePolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy",
];

/// AWS managed policies of the Auto Mode node role: join the cluster, pull images. Workloads
/// get their AWS permissions through Pod Identity, never from the node.
pub const NODE_ROLE_POLICIES: [&str; 2] = ["AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly"];

/// Name of the log group EKS writes control-plane logs to; it must exist before the cluster,
/// or EKS creates it unencrypted and without retention.
pub fn log_group_name(p: &Platform) -> String {
    format!("/aws/eks/{}/cluster", names::cluster(p))
}

/// ARN of an EKS access policy (not an IAM policy).
fn access_policy(name: &str) -> Expr {
    Expr::sub(format!("arn:${{AWS::Partition}}:eks::aws:cluster-access-policy/{name}"))
}

/// Namespaces of the platform's services, sorted, without repeats: the CI role's scope.
pub fn service_namespaces(p: &Platform) -> Vec<String> {
    let set: BTreeSet<&str> = p.services.iter().map(|s| s.namespace.as_str()).collect();
    set.into_iter().map(str::to_owned).collect()
}

/// Logical id of an admin's access entry, derived from the ARN so reordering the list in
/// acme.yaml replaces nothing.
pub fn admin_access_entry(arn: &str) -> String {
    format!("AdminAccessEntry{:016X}", stable_hash(arn))
}

pub fn build(p: &Platform) -> Stack {
    let mut stack = Stack::new(
        StackName::Cluster,
        format!("{}: EKS cluster in Auto Mode, its roles, control-plane logs and access entries", p.name),
    );
    let vpc = stack.import(StackName::Network, outputs::VPC_ID, ParameterType::VpcId);
    let vpc_cidr = stack.import(StackName::Network, outputs::VPC_CIDR, ParameterType::String);
    let subnets = stack.import_list(StackName::Network, outputs::PRIVATE_SUBNET_IDS, ParameterType::SubnetIds);
    let cluster_key = stack.import(StackName::Keys, outputs::CLUSTER_KEY_ARN, ParameterType::String);
    let logs_key = stack.import(StackName::Keys, outputs::LOGS_KEY_ARN, ParameterType::String);
    let ci_role = stack.import(StackName::Ci, outputs::CI_ROLE_ARN, ParameterType::String);
    let t = &mut stack.template;

    t.add(
        CLUSTER_ROLE,
        Role {
            role_name: Some(names::cluster_role(p).into()),
            description: Some(format!("EKS control plane of {} (Auto Mode)", names::cluster(p))),
            // As AWS documents it for Auto Mode: TagSession lets EKS tag what it creates.
            assume_role_policy_document: Some(PolicyDocument::new(vec![Statement::trust(
                Principal::service("eks.amazonaws.com"),
                &["sts:AssumeRole", "sts:TagSession"],
            )])),
            managed_policy_arns: CLUSTER_ROLE_POLICIES.iter().map(|n| aws_managed(n)).collect(),
            // The key policy delegates to IAM for this role (it cannot name a role that does not
            // exist yet), so the role's own policy must allow the same use, on this key only.
            policies: vec![InlinePolicy {
                policy_name: "EncryptSecrets".into(),
                policy_document: PolicyDocument::new(vec![
                    Statement::allow(
                        &["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                        vec![cluster_key.clone()],
                    )
                    .sid("EncryptSecretsWithTheClusterKey"),
                ]),
            }],
            ..Role::default()
        },
    );
    // EKS creates the node role's access entry itself (type EC2, access policy
    // AmazonEKSAutoNodePolicy) when it creates an Auto Mode cluster with the built-in node
    // pools; a second one here would fail as a duplicate. Only a node class with a role of its
    // own needs an entry written out.
    t.add(
        NODE_ROLE,
        Role {
            role_name: Some(names::node_role(p).into()),
            description: Some(format!("EKS Auto Mode nodes of {}", names::cluster(p))),
            assume_role_policy_document: Some(PolicyDocument::new(vec![Statement::trust(
                Principal::service("ec2.amazonaws.com"),
                &["sts:AssumeRole"],
            )])),
            managed_policy_arns: NODE_ROLE_POLICIES.iter().map(|n| aws_managed(n)).collect(),
            ..Role::default()
        },
    );

    t.add(
        LOG_GROUP,
        LogGroup {
            log_group_name: Some(log_group_name(p).into()),
            retention_in_days: LOG_RETENTION_DAYS,
            kms_key_id: logs_key,
        },
    )
    // Audit logs are evidence and outlive the cluster, as the database's logs do.
    .retain();

    t.add(
        ENDPOINT_SECURITY_GROUP,
        SecurityGroup {
            group_description: format!("{} EKS API private endpoint: HTTPS from inside the VPC", p.name),
            vpc_id: vpc,
            security_group_ingress: vec![IngressRule {
                description: "Kubernetes API from inside the VPC (CI runners, bastions)".into(),
                ip_protocol: "tcp".into(),
                from_port: 443,
                to_port: 443,
                cidr_ip: Some(vpc_cidr),
                source_security_group_id: None,
            }],
            // The control plane reaches nodes and pods through the cluster group EKS manages.
            security_group_egress: vec![no_egress().into()],
        },
    );

    let public_cidrs: Vec<String> = p.cluster.public_access_cidrs.iter().map(ToString::to_string).collect();
    t.add(
        CLUSTER,
        Cluster {
            name: Some(names::cluster(p)),
            version: Some(p.cluster.version.clone()),
            role_arn: Expr::att(CLUSTER_ROLE, "Arn"),
            resources_vpc_config: ResourcesVpcConfig {
                subnet_ids: subnets,
                security_group_ids: vec![Expr::att(ENDPOINT_SECURITY_GROUP, "GroupId")],
                endpoint_private_access: Some(true),
                endpoint_public_access: Some(!public_cidrs.is_empty()),
                public_access_cidrs: public_cidrs,
            },
            access_config: Some(AccessConfig {
                authentication_mode: Some("API".into()),
                bootstrap_cluster_creator_admin_permissions: Some(false),
            }),
            bootstrap_self_managed_addons: Some(false),
            compute_config: Some(ComputeConfig {
                enabled: Some(true),
                node_pools: NODE_POOLS.iter().map(|n| (*n).to_owned()).collect(),
                node_role_arn: Some(Expr::att(NODE_ROLE, "Arn")),
            }),
            kubernetes_network_config: Some(KubernetesNetworkConfig {
                elastic_load_balancing: Some(ElasticLoadBalancing { enabled: true }),
                ip_family: None,
                // Fixed here rather than left to EKS, so the cluster DNS address (the range's
                // tenth) is known to the network policies before the cluster exists. Set once:
                // EKS cannot change it on a live cluster.
                service_ipv4_cidr: Some(p.network.service_cidr().to_string()),
            }),
            storage_config: Some(StorageConfig { block_storage: Some(BlockStorage { enabled: true }) }),
            encryption_config: vec![EncryptionConfig {
                provider: Provider { key_arn: cluster_key },
                resources: vec!["secrets".into()],
            }],
            logging: Some(Logging {
                cluster_logging: ClusterLogging {
                    enabled_types: LOG_TYPES.iter().map(|l| LoggingTypeConfig { log_type: (*l).to_owned() }).collect(),
                },
            }),
            // Standard support only, no extended-support surcharge. When standard support of
            // the pinned version ends, EKS upgrades the cluster itself; acme.yaml must then
            // name the new version, as a lower one is a downgrade EKS refuses.
            upgrade_policy: Some(UpgradePolicy { support_type: "STANDARD".into() }),
            // Lets Application Recovery Controller move traffic away from an impaired zone.
            zonal_shift_config: Some(ZonalShiftConfig { enabled: true }),
            deletion_protection: Some(true),
        },
    )
    .depends_on(LOG_GROUP);

    let cluster_name = Expr::r#ref(CLUSTER);
    let admins: BTreeSet<&str> = p.cluster.admin_role_arns.iter().map(String::as_str).collect();
    for arn in admins {
        t.add(
            admin_access_entry(arn),
            AccessEntry {
                cluster_name: cluster_name.clone(),
                principal_arn: arn.into(),
                entry_type: Some("STANDARD".into()),
                username: None,
                kubernetes_groups: vec![],
                access_policies: vec![AccessPolicy {
                    policy_arn: access_policy("AmazonEKSClusterAdminPolicy"),
                    access_scope: AccessScope { scope_type: "cluster".into(), namespaces: vec![] },
                }],
            },
        );
    }

    // CI deploys workloads, not the cluster: edit rights in the service namespaces (Deployments,
    // Services, ServiceAccounts, NetworkPolicies, HPAs, PDBs), and the deployer group for what no
    // access policy short of cluster admin covers: Namespace objects and TargetGroupBindings.
    let namespaces = service_namespaces(p);
    let edit = (!namespaces.is_empty()).then(|| AccessPolicy {
        policy_arn: access_policy("AmazonEKSEditPolicy"),
        access_scope: AccessScope { scope_type: "namespace".into(), namespaces },
    });
    t.add(
        CI_ACCESS_ENTRY,
        AccessEntry {
            cluster_name: cluster_name.clone(),
            principal_arn: ci_role,
            entry_type: Some("STANDARD".into()),
            username: None,
            kubernetes_groups: vec![names::DEPLOYER_GROUP.into()],
            access_policies: edit.into_iter().collect(),
        },
    );

    // The services' HorizontalPodAutoscalers scale on CPU, read from the metrics API, which
    // Auto Mode does not serve by itself. Without this add-on they hold `replicas.min` and never
    // scale. EKS community add-on; no AWS permissions.
    t.add(
        METRICS_SERVER_ADDON,
        Addon {
            addon_name: "metrics-server".into(),
            cluster_name: cluster_name.clone(),
            addon_version: None,
            resolve_conflicts: Some("OVERWRITE".into()),
            configuration_values: None,
            pod_identity_associations: vec![],
        },
    );

    t.output(outputs::CLUSTER_NAME, "Name of the EKS cluster", cluster_name);
    t.output(outputs::CLUSTER_ARN, "ARN of the EKS cluster", Expr::att(CLUSTER, "Arn"));
    t.output(outputs::CLUSTER_ENDPOINT, "Kubernetes API endpoint", Expr::att(CLUSTER, "Endpoint"));
    t.output(
        outputs::CLUSTER_CERTIFICATE_AUTHORITY,
        "Base64 certificate authority of the Kubernetes API",
        Expr::att(CLUSTER, "CertificateAuthorityData"),
    );
    t.output(
        outputs::CLUSTER_SECURITY_GROUP_ID,
        "Security group EKS created for the control plane, nodes and pods",
        Expr::att(CLUSTER, "ClusterSecurityGroupId"),
    );
    t.output(outputs::NODE_ROLE_ARN, "Role of the Auto Mode nodes", Expr::att(NODE_ROLE, "Arn"));
    t.output(
        outputs::CLUSTER_OIDC_ISSUER_URL,
        "OpenID Connect issuer of the cluster's service account tokens",
        Expr::att(CLUSTER, "OpenIdConnectIssuerUrl"),
    );
    stack
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stacks::testing::{param, prop, resource};
    use acme_cfn::Resource;
    use serde_json::{Value, json};

    fn fixture() -> Stack {
        build(&acme_spec::fixture::acme())
    }

    #[test]
    fn endpoint_is_private_only_by_default() {
        let s = fixture();
        assert_eq!(prop(&s, CLUSTER, "ResourcesVpcConfig.EndpointPrivateAccess"), &json!(true));
        assert_eq!(prop(&s, CLUSTER, "ResourcesVpcConfig.EndpointPublicAccess"), &json!(false));
        assert!(resource(&s, CLUSTER).property("ResourcesVpcConfig.PublicAccessCidrs").is_none());
        assert_eq!(prop(&s, CLUSTER, "ResourcesVpcConfig.SubnetIds"), &param("PrivateSubnetIds"));
    }

    #[test]
    fn public_endpoint_only_for_the_listed_cidrs() {
        let mut p = acme_spec::fixture::acme();
        p.cluster.public_access_cidrs =
            vec!["203.0.113.0/24".parse().expect("cidr"), "198.51.100.7/32".parse().expect("cidr")];
        let s = build(&p);
        assert_eq!(prop(&s, CLUSTER, "ResourcesVpcConfig.EndpointPublicAccess"), &json!(true));
        assert_eq!(prop(&s, CLUSTER, "ResourcesVpcConfig.EndpointPrivateAccess"), &json!(true));
        assert_eq!(
            prop(&s, CLUSTER, "ResourcesVpcConfig.PublicAccessCidrs"),
            &json!(["203.0.113.0/24", "198.51.100.7/32"])
        );
    }

    #[test]
    fn private_endpoint_takes_https_from_the_vpc_only() {
        let s = fixture();
        assert_eq!(
            prop(&s, CLUSTER, "ResourcesVpcConfig.SecurityGroupIds"),
            &json!([{ "Fn::GetAtt": [ENDPOINT_SECURITY_GROUP, "GroupId"] }])
        );
        let ingress = prop(&s, ENDPOINT_SECURITY_GROUP, "SecurityGroupIngress");
        assert_eq!(ingress.as_array().map(Vec::len), Some(1));
        assert_eq!(ingress[0]["CidrIp"], param("VpcCidr"));
        assert_eq!((&ingress[0]["FromPort"], &ingress[0]["ToPort"]), (&json!(443), &json!(443)));
        assert_eq!(prop(&s, ENDPOINT_SECURITY_GROUP, "SecurityGroupEgress.0.CidrIp"), "127.0.0.1/32");
    }

    #[test]
    fn secrets_are_envelope_encrypted_with_the_cluster_key() {
        let s = fixture();
        assert_eq!(
            prop(&s, CLUSTER, "EncryptionConfig"),
            &json!([{ "Provider": { "KeyArn": { "Ref": "ClusterKeyArn" } }, "Resources": ["secrets"] }])
        );
    }

    #[test]
    fn every_control_plane_log_goes_to_an_encrypted_group_made_first() {
        let s = fixture();
        assert_eq!(
            prop(&s, CLUSTER, "Logging.ClusterLogging.EnabledTypes"),
            &json!([
                { "Type": "api" },
                { "Type": "audit" },
                { "Type": "authenticator" },
                { "Type": "controllerManager" },
                { "Type": "scheduler" }
            ])
        );
        assert_eq!(prop(&s, LOG_GROUP, "LogGroupName"), "/aws/eks/acme/cluster");
        assert_eq!(prop(&s, LOG_GROUP, "KmsKeyId"), &param("LogsKeyArn"));
        assert_eq!(prop(&s, LOG_GROUP, "RetentionInDays"), &json!(365));
        assert_eq!(resource(&s, LOG_GROUP).deletion_policy, Some(acme_cfn::Policy::Retain));
        assert!(resource(&s, CLUSTER).depends_on.contains(&LOG_GROUP.to_owned()));
        assert_eq!(prop(&s, CLUSTER, "Name"), "acme");
    }

    #[test]
    fn auto_mode_is_on_with_all_three_capabilities() {
        let s = fixture();
        assert_eq!(
            prop(&s, CLUSTER, "ComputeConfig"),
            &json!({
                "Enabled": true,
                "NodePools": ["general-purpose", "system"],
                "NodeRoleArn": { "Fn::GetAtt": [NODE_ROLE, "Arn"] }
            })
        );
        assert_eq!(prop(&s, CLUSTER, "KubernetesNetworkConfig.ElasticLoadBalancing.Enabled"), &json!(true));
        assert_eq!(prop(&s, CLUSTER, "StorageConfig.BlockStorage.Enabled"), &json!(true));
        assert_eq!(prop(&s, CLUSTER, "BootstrapSelfManagedAddons"), &json!(false));
    }

    #[test]
    fn metrics_server_serves_the_autoscalers() {
        let s = fixture();
        assert_eq!(prop(&s, METRICS_SERVER_ADDON, "AddonName"), "metrics-server");
        assert_eq!(prop(&s, METRICS_SERVER_ADDON, "ClusterName"), &json!({ "Ref": CLUSTER }));
        assert!(resource(&s, METRICS_SERVER_ADDON).property("PodIdentityAssociations").is_none());
    }

    #[test]
    fn service_range_is_explicit_and_clear_of_the_vpc() {
        assert_eq!(prop(&fixture(), CLUSTER, "KubernetesNetworkConfig.ServiceIpv4Cidr"), "172.20.0.0/16");
        let mut p = acme_spec::fixture::acme();
        p.network.cidr = "172.20.0.0/16".parse().expect("cidr");
        assert_eq!(prop(&build(&p), CLUSTER, "KubernetesNetworkConfig.ServiceIpv4Cidr"), "10.100.0.0/16");
    }

    #[test]
    fn version_upgrade_policy_zonal_shift_and_deletion_protection() {
        let mut p = acme_spec::fixture::acme();
        p.cluster.version = "1.33".into();
        let s = build(&p);
        assert_eq!(prop(&s, CLUSTER, "Version"), "1.33");
        assert_eq!(prop(&s, CLUSTER, "UpgradePolicy.SupportType"), "STANDARD");
        assert_eq!(prop(&s, CLUSTER, "ZonalShiftConfig.Enabled"), &json!(true));
        assert_eq!(prop(&s, CLUSTER, "DeletionProtection"), &json!(true));
    }

    #[test]
    fn authentication_by_access_entries_only_and_no_implicit_creator_admin() {
        let s = fixture();
        assert_eq!(
            prop(&s, CLUSTER, "AccessConfig"),
            &json!({ "AuthenticationMode": "API", "BootstrapClusterCreatorAdminPermissions": false })
        );
    }

    #[test]
    fn roles_trust_only_their_service_and_hold_the_documented_policies() {
        let s = fixture();
        let managed = |names: &[&str]| -> Value {
            names.iter().map(|n| json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:iam::aws:policy/{n}") })).collect()
        };
        assert_eq!(prop(&s, CLUSTER_ROLE, "RoleName"), "acme-eks-cluster");
        assert_eq!(
            prop(&s, CLUSTER_ROLE, "AssumeRolePolicyDocument.Statement"),
            &json!([{ "Effect": "Allow", "Principal": { "Service": ["eks.amazonaws.com"] }, "Action": ["sts:AssumeRole", "sts:TagSession"] }])
        );
        assert_eq!(prop(&s, CLUSTER_ROLE, "ManagedPolicyArns"), &managed(&CLUSTER_ROLE_POLICIES));
        assert_eq!(
            prop(&s, CLUSTER_ROLE, "Policies.0.PolicyDocument.Statement"),
            &json!([{
                "Sid": "EncryptSecretsWithTheClusterKey",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                "Resource": [param("ClusterKeyArn")]
            }])
        );

        assert_eq!(prop(&s, NODE_ROLE, "RoleName"), "acme-eks-node");
        assert_eq!(
            prop(&s, NODE_ROLE, "AssumeRolePolicyDocument.Statement"),
            &json!([{ "Effect": "Allow", "Principal": { "Service": ["ec2.amazonaws.com"] }, "Action": ["sts:AssumeRole"] }])
        );
        assert_eq!(prop(&s, NODE_ROLE, "ManagedPolicyArns"), &managed(&NODE_ROLE_POLICIES));
        assert!(resource(&s, NODE_ROLE).property("Policies").is_none());
    }

    fn access_entries(s: &Stack) -> Vec<(&String, &Resource)> {
        s.template.resources_of_type("AWS::EKS::AccessEntry").collect()
    }

    #[test]
    fn each_admin_role_gets_cluster_admin_with_ids_stable_under_reordering() {
        let mut p = acme_spec::fixture::acme();
        p.cluster.admin_role_arns = vec![
            "arn:aws:iam::111122223333:role/platform-admin".into(),
            "arn:aws:iam::111122223333:role/break-glass".into(),
        ];
        let s = build(&p);
        for arn in &p.cluster.admin_role_arns {
            let id = admin_access_entry(arn);
            assert_eq!(prop(&s, &id, "PrincipalArn"), arn.as_str());
            assert_eq!(prop(&s, &id, "ClusterName"), &json!({ "Ref": CLUSTER }));
            assert_eq!(
                prop(&s, &id, "AccessPolicies"),
                &json!([{
                    "PolicyArn": { "Fn::Sub": "arn:${AWS::Partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" },
                    "AccessScope": { "Type": "cluster" }
                }])
            );
        }
        let ids = |s: &Stack| access_entries(s).into_iter().map(|(id, _)| id.clone()).collect::<BTreeSet<_>>();
        let mut reordered = p.clone();
        reordered.cluster.admin_role_arns.reverse();
        assert_eq!(ids(&build(&reordered)), ids(&s));
        // Admins plus CI, and no entry for the node role: EKS creates that one itself.
        assert_eq!(access_entries(&s).len(), 3);
        assert!(
            access_entries(&s)
                .iter()
                .all(|(_, r)| r.property("PrincipalArn") != Some(&json!({ "Fn::GetAtt": [NODE_ROLE, "Arn"] })))
        );
    }

    #[test]
    fn ci_edits_only_the_service_namespaces_and_joins_the_deployer_group() {
        let mut p = acme_spec::fixture::acme();
        p.services[1].namespace = "shared".into();
        p.services[2].namespace = "shared".into();
        let s = build(&p);
        assert_eq!(prop(&s, CI_ACCESS_ENTRY, "PrincipalArn"), &param("CiRoleArn"));
        assert_eq!(prop(&s, CI_ACCESS_ENTRY, "KubernetesGroups"), &json!([names::DEPLOYER_GROUP]));
        assert_eq!(
            prop(&s, CI_ACCESS_ENTRY, "AccessPolicies"),
            &json!([{
                "PolicyArn": { "Fn::Sub": "arn:${AWS::Partition}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy" },
                "AccessScope": { "Type": "namespace", "Namespaces": ["chat", "shared", "web"] }
            }])
        );
        let policies =
            serde_json::to_string(resource(&s, CI_ACCESS_ENTRY).property("AccessPolicies").expect("policies"));
        assert!(!policies.expect("json").contains("Admin"), "CI is no cluster admin");

        p.services.clear();
        let s = build(&p);
        assert!(resource(&s, CI_ACCESS_ENTRY).property("AccessPolicies").is_none(), "no empty namespace scope");
    }

    #[test]
    fn outputs_of_the_contract() {
        let s = fixture();
        let names: Vec<&str> = s.template.outputs.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "ClusterName",
                "ClusterArn",
                "ClusterEndpoint",
                "ClusterCertificateAuthorityData",
                "ClusterSecurityGroupId",
                "NodeRoleArn",
                "ClusterOidcIssuerUrl"
            ]
        );
        assert_eq!(s.template.outputs["ClusterSecurityGroupId"].value, Expr::att(CLUSTER, "ClusterSecurityGroupId"));
        let imported: Vec<(&str, StackName)> = s.inputs.iter().map(|i| (i.output.as_str(), i.from)).collect();
        assert!(imported.contains(&("ClusterKeyArn", StackName::Keys)));
        assert!(imported.contains(&("CiRoleArn", StackName::Ci)));
    }
}
