//! Names shared between stacks: physical names that one stack creates and another must
//! know before that stack exists, and the output names stacks import by.

use crate::StackName;
use acme_spec::Platform;

/// CloudFormation stack name in the account, `<platform>-<stack>`.
pub fn stack(platform: &str, stack: StackName) -> String {
    format!("{platform}-{stack}")
}

/// Name of the role CI assumes; fixed so repository and key policies can name it.
pub fn ci_role(p: &Platform) -> String {
    format!("{}-ci", p.name)
}

/// Name of the CloudFormation service role CI's change sets run with (`ci` stack): what the
/// platform's stacks may do, held by CloudFormation rather than by CI.
pub fn cfn_exec_role(p: &Platform) -> String {
    format!("{}-cfn-exec", p.name)
}

/// Name of the role EKS Auto Mode nodes run as; repository policies allow it to pull.
pub fn node_role(p: &Platform) -> String {
    format!("{}-eks-node", p.name)
}

pub fn cluster(p: &Platform) -> String {
    p.name.clone()
}

/// ECR repository of a service: `<platform>/<service>`.
pub fn repository(p: &Platform, service: &str) -> String {
    format!("{}/{service}", p.name)
}

/// Logical id of a service's target group in the edge stack (one per routed service port).
pub fn target_group(service: &acme_spec::Service, port: &acme_spec::ServicePort) -> String {
    let svc = acme_cfn::pascal(&service.name);
    if port.port == service.main_port() {
        format!("{svc}TargetGroup")
    } else {
        format!("{svc}{}TargetGroup", acme_cfn::pascal(&port.name))
    }
}

/// Edge output carrying that target group's ARN (read by TargetGroupBinding and alarms).
pub fn target_group_output(service: &acme_spec::Service, port: &acme_spec::ServicePort) -> String {
    format!("{}Arn", target_group(service, port))
}

/// Output `base` of edge shard `shard`: the first shard's outputs keep their names
/// (`LoadBalancerArn`), the others carry the shard's number (`Edge2LoadBalancerArn`), since
/// output names are unique across a platform.
pub fn edge_output(shard: u16, base: &str) -> String {
    if shard == 0 { base.to_owned() } else { format!("Edge{}{base}", shard + 1) }
}

/// DNS output carrying the ARN of the certificate for one host.
pub fn certificate_output(host: &str) -> String {
    format!("Certificate{}Arn", acme_cfn::pascal(host))
}

/// Name of the role the EKS control plane runs as.
pub fn cluster_role(p: &Platform) -> String {
    format!("{}-eks-cluster", p.name)
}

/// Name of a microservice's pod-identity role, `<platform>-svc-<service>`. Fixed so key
/// policies can scope usage to the platform's service roles (`<platform>-svc-*`) before the
/// roles exist.
pub fn service_role(p: &Platform, service: &str) -> String {
    format!("{}-svc-{service}", p.name)
}

/// Kubernetes group of the CI role's access entry. The access policy it also holds
/// (`AmazonEKSEditPolicy` on the service namespaces) cannot create namespaces nor write
/// `TargetGroupBinding`s or `ApplicationNetworkPolicy`s; the Kubernetes synthesis binds this
/// group to the ClusterRole `acmectl-deployer` that can (namespaces: create, get, patch; the two
/// Auto Mode kinds: apply and prune), cluster-wide so a new namespace needs no admin
/// (`kubernetes::platform`). An admin (`cluster.admin_role_arns`) applies that binding once.
pub const DEPLOYER_GROUP: &str = "acmectl-deployers";

/// ARN of the role `name` (or a pattern, `name` ending in `*`) of the deploying account, as
/// `Fn::Sub` text: a policy may have to name a role that a later stack creates.
pub fn role_arn(name: &str) -> String {
    format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{name}")
}

/// ARN pattern matching every service role of the platform, for `aws:PrincipalArn` conditions.
pub fn service_role_pattern(p: &Platform) -> String {
    role_arn(&format!("{}-svc-*", p.name))
}

/// Registry output carrying the repository URI of a service.
pub fn repository_output(service: &str) -> String {
    format!("{}RepositoryUri", acme_cfn::pascal(service))
}

/// Services output carrying the ARN of a service's pod-identity role.
pub fn service_role_output(service: &str) -> String {
    format!("{}RoleArn", acme_cfn::pascal(service))
}

/// Services output carrying the name of a service-owned bucket.
pub fn bucket_output(service: &str, bucket: &str) -> String {
    format!("{}{}BucketName", acme_cfn::pascal(service), acme_cfn::pascal(bucket))
}

/// Outputs shared between stacks. A consumer imports them by these names
/// (`Stack::import`), so a rename here is caught by the contract tests.
pub mod outputs {
    // keys
    pub const DATA_KEY_ARN: &str = "DataKeyArn";
    pub const LOGS_KEY_ARN: &str = "LogsKeyArn";
    pub const CLUSTER_KEY_ARN: &str = "ClusterKeyArn";
    pub const BACKUP_KEY_ARN: &str = "BackupKeyArn";
    pub const STAGING_KEY_ARN: &str = "StagingKeyArn";
    pub const STAGING_BUCKET_NAME: &str = "StagingBucketName";
    // network
    pub const VPC_ID: &str = "VpcId";
    pub const VPC_CIDR: &str = "VpcCidr";
    pub const PUBLIC_SUBNET_IDS: &str = "PublicSubnetIds";
    pub const PRIVATE_SUBNET_IDS: &str = "PrivateSubnetIds";
    pub const DATABASE_SUBNET_IDS: &str = "DatabaseSubnetIds";
    // dns
    pub const HOSTED_ZONE_ID: &str = "HostedZoneId";
    pub const PRIVATE_HOSTED_ZONE_ID: &str = "PrivateHostedZoneId";
    // ci
    pub const CI_ROLE_ARN: &str = "CiRoleArn";
    pub const CFN_EXEC_ROLE_ARN: &str = "CfnExecRoleArn";
    // cluster
    pub const CLUSTER_NAME: &str = "ClusterName";
    pub const CLUSTER_ARN: &str = "ClusterArn";
    pub const CLUSTER_ENDPOINT: &str = "ClusterEndpoint";
    pub const CLUSTER_CERTIFICATE_AUTHORITY: &str = "ClusterCertificateAuthorityData";
    pub const CLUSTER_SECURITY_GROUP_ID: &str = "ClusterSecurityGroupId";
    pub const NODE_ROLE_ARN: &str = "NodeRoleArn";
    pub const CLUSTER_OIDC_ISSUER_URL: &str = "ClusterOidcIssuerUrl";
    // data
    pub const DATABASE_SECRET_ARN: &str = "DatabaseSecretArn";
    pub const DATABASE_INSTANCE_ARN: &str = "DatabaseInstanceArn";
    pub const DATABASE_ENDPOINT: &str = "DatabaseEndpoint";
    pub const DATABASE_PORT: &str = "DatabasePort";
}
