//! The `network` stack: a VPC across `network.zones` availability zones, with public, private
//! and isolated database subnets in every zone, one NAT gateway per zone, flow logs into a log
//! group encrypted with the logs key, a gateway endpoint for S3 and interface endpoints for the
//! AWS APIs the nodes and pods call.
//!
//! Traffic paths:
//! - **public** subnets route `0.0.0.0/0` to the internet gateway. They hold the ALB (tagged
//!   `kubernetes.io/role/elb`) and the NAT gateways; nothing gets a public address on launch.
//! - **private** subnets (tagged `kubernetes.io/role/internal-elb`) hold the EKS nodes and, with
//!   the VPC CNI, every pod's address. Each zone's route table sends `0.0.0.0/0` to the NAT
//!   gateway in the same zone, so losing a zone never cuts the others off, and no traffic pays
//!   for crossing zones. S3 is reached through the gateway endpoint, the APIs in
//!   [`INTERFACE_ENDPOINTS`] through interface endpoints with private DNS.
//! - **database** subnets have a route table with the local route only: no internet in either
//!   direction, and no endpoint either, since RDS needs none.
//!
//! The VPC's default security group keeps the rules AWS gives it (members of the group may
//! reach each other, and all egress). CloudFormation has no native way to strip them: CDK's
//! `restrictDefaultSecurityGroup` does it with a custom-resource Lambda, which acmectl does not
//! use (DESIGN.md, decision 1). Nothing acmectl creates is placed in that group: endpoints,
//! database, load balancer and cluster each get their own. Its id is the output
//! `DefaultSecurityGroupId`, so the deploy can revoke its rules through the EC2 API.

use crate::stacks::names::outputs;
use crate::stacks::no_egress;
use crate::{Stack, StackName};
use acme_cfn::resources::Tag;
use acme_cfn::resources::ec2::{
    Eip, FlowLog, IngressRule, InternetGateway, NatGateway, Route, RouteTable, SecurityGroup, Subnet,
    SubnetRouteTableAssociation, Vpc, VpcEndpoint, VpcGatewayAttachment,
};
use acme_cfn::resources::iam::{InlinePolicy, PolicyDocument, Principal, Role, Statement};
use acme_cfn::resources::logs::LogGroup;
use acme_cfn::{Expr, ExprList, ParameterType};
use acme_spec::{Platform, Tier};
use serde_json::json;

pub const VPC: &str = "Vpc";
pub const INTERNET_GATEWAY: &str = "InternetGateway";
pub const GATEWAY_ATTACHMENT: &str = "InternetGatewayAttachment";
pub const PUBLIC_ROUTE_TABLE: &str = "PublicRouteTable";
pub const DATABASE_ROUTE_TABLE: &str = "DatabaseRouteTable";
pub const FLOW_LOG_GROUP: &str = "FlowLogGroup";
pub const FLOW_LOG_ROLE: &str = "FlowLogRole";
pub const FLOW_LOG: &str = "FlowLog";
pub const ENDPOINT_SECURITY_GROUP: &str = "EndpointSecurityGroup";
pub const S3_ENDPOINT: &str = "S3Endpoint";

/// Logical id of the tier's subnet in zone `zone` (0-based): `PublicSubnet1`.
pub fn subnet_id(tier: Tier, zone: u8) -> String {
    format!("{}Subnet{}", acme_cfn::pascal(tier.slug()), zone + 1)
}

/// Logical id of the private route table of zone `zone` (0-based): `PrivateRouteTable1`.
fn private_route_table_id(zone: u8) -> String {
    format!("PrivateRouteTable{}", zone + 1)
}

fn tier_output(tier: Tier) -> &'static str {
    match tier {
        Tier::Public => outputs::PUBLIC_SUBNET_IDS,
        Tier::Private => outputs::PRIVATE_SUBNET_IDS,
        Tier::Database => outputs::DATABASE_SUBNET_IDS,
    }
}

/// Interface endpoints in the private subnets, with why the nodes or pods need each. Each one
/// costs an hourly fee per zone and the NAT gateways would carry these calls too, so the list
/// keeps to what nodes and pods call all the time (pulls, credentials, logs) or what carries
/// secrets; the EKS private-cluster guide lists the same ones.
pub const INTERFACE_ENDPOINTS: [(&str, &str); 7] = [
    ("ecr.api", "image manifests and registry auth for every pull"),
    ("ecr.dkr", "the Docker registry API of ECR; layers then come through the S3 gateway"),
    ("sts", "role credentials for CI tooling and SDKs in pods"),
    ("logs", "Container Insights and Fluent Bit ship logs to CloudWatch Logs"),
    ("eks-auth", "EKS Pod Identity: every service's role credentials"),
    ("ec2", "node and network-interface calls of the VPC CNI and node agents"),
    ("secretsmanager", "services read the database secret"),
];

/// Logical id of an interface endpoint: `EcrApiEndpoint`.
pub fn endpoint_id(service: &str) -> String {
    format!("{}Endpoint", acme_cfn::pascal(service))
}

fn name_tag(p: &Platform, suffix: &str) -> Tag {
    Tag::new("Name", format!("{}-{suffix}", p.name))
}

fn zone_of(zone: u8) -> Expr {
    Expr::select(u32::from(zone), ExprList::GetAzs)
}

fn associate(t: &mut acme_cfn::Template, subnet: &str, route_table: &str) {
    t.add(
        format!("{subnet}RouteTableAssociation"),
        SubnetRouteTableAssociation { route_table_id: Expr::r#ref(route_table), subnet_id: Expr::r#ref(subnet) },
    );
}

pub fn build(p: &Platform) -> Stack {
    let mut stack = Stack::new(
        StackName::Network,
        format!(
            "{}: VPC over {} zones, public/private/database subnets, NAT per zone, flow logs, endpoints.",
            p.name, p.network.zones
        ),
    );
    let logs_key = stack.import(StackName::Keys, outputs::LOGS_KEY_ARN, ParameterType::String);
    let layout = p.network.subnets();
    let vpc_cidr = p.network.cidr.trunc().to_string();
    let vpc = Expr::r#ref(VPC);
    let t = &mut stack.template;

    t.add(
        VPC,
        Vpc {
            cidr_block: vpc_cidr.clone(),
            enable_dns_support: true,
            enable_dns_hostnames: true,
            tags: vec![name_tag(p, "vpc")],
        },
    );
    t.add(INTERNET_GATEWAY, InternetGateway { tags: vec![name_tag(p, "igw")] });
    t.add(
        GATEWAY_ATTACHMENT,
        VpcGatewayAttachment { vpc_id: vpc.clone(), internet_gateway_id: Some(Expr::r#ref(INTERNET_GATEWAY)) },
    );

    // Subnets.
    for z in &layout {
        for tier in Tier::ALL {
            let mut tags = vec![name_tag(p, &format!("{}-{}", tier.slug(), z.zone + 1))];
            match tier {
                Tier::Public => tags.push(Tag::new("kubernetes.io/role/elb", "1")),
                Tier::Private => tags.push(Tag::new("kubernetes.io/role/internal-elb", "1")),
                Tier::Database => {}
            }
            t.add(
                subnet_id(tier, z.zone),
                Subnet {
                    vpc_id: vpc.clone(),
                    cidr_block: z.cidr(tier).to_string(),
                    availability_zone: zone_of(z.zone),
                    map_public_ip_on_launch: Some(false),
                    tags,
                },
            );
        }
    }

    // Public tier: one route table to the internet gateway.
    t.add(PUBLIC_ROUTE_TABLE, RouteTable { vpc_id: vpc.clone(), tags: vec![name_tag(p, "public")] });
    t.add(
        "PublicDefaultRoute",
        Route {
            route_table_id: Expr::r#ref(PUBLIC_ROUTE_TABLE),
            destination_cidr_block: "0.0.0.0/0".into(),
            gateway_id: Some(Expr::r#ref(INTERNET_GATEWAY)),
            nat_gateway_id: None,
        },
    )
    .depends_on(GATEWAY_ATTACHMENT);

    // Private tier: a NAT gateway and a route table per zone.
    for z in &layout {
        let n = z.zone + 1;
        let eip = format!("NatEip{n}");
        let nat = format!("NatGateway{n}");
        let table = private_route_table_id(z.zone);
        t.add(&eip, Eip { domain: "vpc".into(), tags: vec![name_tag(p, &format!("nat-{n}"))] })
            .depends_on(GATEWAY_ATTACHMENT);
        t.add(
            &nat,
            NatGateway {
                allocation_id: Expr::att(&eip, "AllocationId"),
                subnet_id: Expr::r#ref(subnet_id(Tier::Public, z.zone)),
                tags: vec![name_tag(p, &format!("nat-{n}"))],
            },
        );
        t.add(&table, RouteTable { vpc_id: vpc.clone(), tags: vec![name_tag(p, &format!("private-{n}"))] });
        t.add(
            format!("PrivateDefaultRoute{n}"),
            Route {
                route_table_id: Expr::r#ref(&table),
                destination_cidr_block: "0.0.0.0/0".into(),
                gateway_id: None,
                nat_gateway_id: Some(Expr::r#ref(&nat)),
            },
        );
    }

    // Database tier: the local route only.
    t.add(DATABASE_ROUTE_TABLE, RouteTable { vpc_id: vpc.clone(), tags: vec![name_tag(p, "database")] });

    for z in &layout {
        associate(t, &subnet_id(Tier::Public, z.zone), PUBLIC_ROUTE_TABLE);
        associate(t, &subnet_id(Tier::Private, z.zone), &private_route_table_id(z.zone));
        associate(t, &subnet_id(Tier::Database, z.zone), DATABASE_ROUTE_TABLE);
    }

    // Flow logs of all traffic, into a group encrypted with the logs key and kept a year.
    t.add(FLOW_LOG_GROUP, LogGroup { log_group_name: None, retention_in_days: 365, kms_key_id: logs_key }).retain();
    t.add(
        FLOW_LOG_ROLE,
        Role {
            description: Some(format!("VPC flow logs of {} write to their log group", p.name)),
            assume_role_policy_document: Some(PolicyDocument::new(vec![Statement {
                resource: None,
                ..Statement::allow(&["sts:AssumeRole"], Vec::<Expr>::new())
                    .principal(Principal::service("vpc-flow-logs.amazonaws.com"))
                    .condition(json!({
                        "StringEquals": { "aws:SourceAccount": Expr::pseudo("AccountId").to_value() },
                        "ArnLike": {
                            "aws:SourceArn": Expr::sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc-flow-log/*").to_value()
                        }
                    }))
            }])),
            policies: vec![InlinePolicy {
                policy_name: "write-flow-logs".into(),
                policy_document: PolicyDocument::new(vec![Statement::allow(
                    &["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    vec![Expr::att(FLOW_LOG_GROUP, "Arn")],
                )]),
            }],
            ..Role::default()
        },
    );
    t.add(
        FLOW_LOG,
        FlowLog {
            resource_id: vpc.clone(),
            resource_type: "VPC".into(),
            traffic_type: "ALL".into(),
            log_destination_type: "cloud-watch-logs".into(),
            log_group_name: Some(Expr::r#ref(FLOW_LOG_GROUP)),
            deliver_logs_permission_arn: Some(Expr::att(FLOW_LOG_ROLE, "Arn")),
            max_aggregation_interval: None,
            tags: vec![name_tag(p, "flow-log")],
        },
    );

    // Endpoints.
    t.add(
        S3_ENDPOINT,
        VpcEndpoint {
            vpc_id: vpc.clone(),
            service_name: Expr::sub("com.amazonaws.${AWS::Region}.s3"),
            vpc_endpoint_type: "Gateway".into(),
            private_dns_enabled: None,
            route_table_ids: layout.iter().map(|z| Expr::r#ref(private_route_table_id(z.zone))).collect(),
            subnet_ids: vec![],
            security_group_ids: vec![],
            policy_document: None,
        },
    );
    t.add(
        ENDPOINT_SECURITY_GROUP,
        SecurityGroup {
            group_description: format!("{} VPC interface endpoints: HTTPS from inside the VPC only", p.name),
            vpc_id: vpc.clone(),
            security_group_ingress: vec![IngressRule {
                description: "HTTPS from the VPC".into(),
                ip_protocol: "tcp".into(),
                from_port: 443,
                to_port: 443,
                cidr_ip: Some(vpc_cidr.clone().into()),
                source_security_group_id: None,
            }],
            // Endpoints only answer; a rule matching nothing replaces the default allow-all.
            security_group_egress: vec![no_egress().into()],
        },
    );
    for (service, _why) in INTERFACE_ENDPOINTS {
        t.add(
            endpoint_id(service),
            VpcEndpoint {
                vpc_id: vpc.clone(),
                service_name: Expr::sub(format!("com.amazonaws.${{AWS::Region}}.{service}")),
                vpc_endpoint_type: "Interface".into(),
                private_dns_enabled: Some(true),
                route_table_ids: vec![],
                subnet_ids: layout.iter().map(|z| Expr::r#ref(subnet_id(Tier::Private, z.zone))).collect(),
                security_group_ids: vec![Expr::att(ENDPOINT_SECURITY_GROUP, "GroupId")],
                policy_document: None,
            },
        );
    }

    // Outputs.
    t.output(outputs::VPC_ID, "Id of the VPC.", vpc.clone());
    t.output(outputs::VPC_CIDR, "IPv4 CIDR of the VPC.", Expr::att(VPC, "CidrBlock"));
    for tier in Tier::ALL {
        t.output(
            tier_output(tier),
            format!("The {} subnets, one per zone, comma-separated.", tier.slug()),
            Expr::join(",", layout.iter().map(|z| Expr::r#ref(subnet_id(tier, z.zone))).collect()),
        );
    }
    for z in &layout {
        for tier in Tier::ALL {
            let id = subnet_id(tier, z.zone);
            t.output(
                format!("{id}Id"),
                format!("The {} subnet of zone {} ({}).", tier.slug(), z.zone + 1, z.cidr(tier)),
                Expr::r#ref(&id),
            );
        }
    }
    t.output(
        "AvailabilityZones",
        "The zones in use, in zone order, comma-separated.",
        Expr::join(
            ",",
            layout.iter().map(|z| Expr::att(subnet_id(Tier::Public, z.zone), "AvailabilityZone")).collect(),
        ),
    );
    t.output(
        "NatPublicIps",
        "Public addresses of the NAT gateways, comma-separated: what third parties allow-list for outbound calls.",
        Expr::join(",", layout.iter().map(|z| Expr::r#ref(format!("NatEip{}", z.zone + 1))).collect()),
    );
    t.output(
        "EndpointSecurityGroupId",
        "Security group of the interface endpoints.",
        Expr::att(ENDPOINT_SECURITY_GROUP, "GroupId"),
    );
    t.output(
        "DefaultSecurityGroupId",
        "The VPC's default security group, whose rules the deploy revokes (CloudFormation cannot).",
        Expr::att(VPC, "DefaultSecurityGroup"),
    );
    t.output("FlowLogGroupName", "Log group receiving the VPC flow logs.", Expr::r#ref(FLOW_LOG_GROUP));
    stack
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stacks::testing::{prop, resource};
    use acme_cfn::Resource;
    use serde_json::Value;

    fn with_zones(zones: u8) -> Platform {
        let mut p = acme_spec::fixture::acme();
        p.network.zones = zones;
        p
    }

    fn r(id: &str) -> Value {
        json!({ "Ref": id })
    }

    #[test]
    fn every_zone_gets_three_tagged_subnets_in_its_own_az() {
        for zones in [2, 3, 6] {
            let s = build(&with_zones(zones));
            assert_eq!(s.template.resources_of_type("AWS::EC2::Subnet").count(), 3 * usize::from(zones));
            for z in with_zones(zones).network.subnets() {
                for tier in Tier::ALL {
                    let id = subnet_id(tier, z.zone);
                    assert_eq!(prop(&s, &id, "CidrBlock"), &json!(z.cidr(tier).to_string()));
                    assert_eq!(prop(&s, &id, "VpcId"), &r(VPC));
                    assert_eq!(
                        prop(&s, &id, "AvailabilityZone"),
                        &json!({ "Fn::Select": [z.zone, { "Fn::GetAZs": "" }] })
                    );
                    assert_eq!(prop(&s, &id, "MapPublicIpOnLaunch"), &json!(false));
                    let tags = prop(&s, &id, "Tags").as_array().expect("tags");
                    let has = |k: &str| tags.iter().any(|t| t["Key"] == json!(k) && t["Value"] == json!("1"));
                    assert_eq!(has("kubernetes.io/role/elb"), tier == Tier::Public, "{id}");
                    assert_eq!(has("kubernetes.io/role/internal-elb"), tier == Tier::Private, "{id}");
                }
            }
        }
        assert_eq!(prop(&build(&with_zones(3)), VPC, "CidrBlock"), &json!("10.20.0.0/16"));
    }

    /// The route table a subnet is associated with.
    fn route_table_of(s: &Stack, subnet: &str) -> String {
        let tables: Vec<&Value> = s
            .template
            .resources_of_type("AWS::EC2::SubnetRouteTableAssociation")
            .filter(|(_, a)| a.property("SubnetId") == Some(&r(subnet)))
            .filter_map(|(_, a)| a.property("RouteTableId"))
            .collect();
        assert_eq!(tables.len(), 1, "{subnet} has {} route tables", tables.len());
        tables[0]["Ref"].as_str().expect("Ref").to_owned()
    }

    fn routes_of<'a>(s: &'a Stack, table: &str) -> Vec<&'a Resource> {
        s.template
            .resources_of_type("AWS::EC2::Route")
            .filter(|(_, route)| route.property("RouteTableId") == Some(&r(table)))
            .map(|(_, route)| route)
            .collect()
    }

    #[test]
    fn each_zone_leaves_through_its_own_nat_gateway() {
        for zones in [2, 6] {
            let s = build(&with_zones(zones));
            assert_eq!(s.template.resources_of_type("AWS::EC2::NatGateway").count(), usize::from(zones));
            for zone in 0..zones {
                let n = zone + 1;
                let nat = format!("NatGateway{n}");
                assert_eq!(prop(&s, &nat, "SubnetId"), &r(&subnet_id(Tier::Public, zone)));
                assert_eq!(
                    prop(&s, &nat, "AllocationId"),
                    &json!({ "Fn::GetAtt": [format!("NatEip{n}"), "AllocationId"] })
                );
                assert_eq!(prop(&s, &format!("NatEip{n}"), "Domain"), &json!("vpc"));
                let table = route_table_of(&s, &subnet_id(Tier::Private, zone));
                let routes = routes_of(&s, &table);
                assert_eq!(routes.len(), 1);
                assert_eq!(routes[0].property("DestinationCidrBlock"), Some(&json!("0.0.0.0/0")));
                assert_eq!(routes[0].property("NatGatewayId"), Some(&r(&nat)), "zone {n} must use its own NAT");
                assert!(routes[0].property("GatewayId").is_none());
            }
        }
    }

    #[test]
    fn public_subnets_route_to_the_internet_gateway() {
        let s = build(&with_zones(3));
        for zone in 0..3 {
            assert_eq!(route_table_of(&s, &subnet_id(Tier::Public, zone)), PUBLIC_ROUTE_TABLE);
        }
        let routes = routes_of(&s, PUBLIC_ROUTE_TABLE);
        assert_eq!(routes.len(), 1);
        assert_eq!(routes[0].property("GatewayId"), Some(&r(INTERNET_GATEWAY)));
        assert!(routes[0].depends_on.contains(&GATEWAY_ATTACHMENT.to_owned()));
        assert_eq!(prop(&s, GATEWAY_ATTACHMENT, "VpcId"), &r(VPC));
        assert!(resource(&s, "NatEip1").depends_on.contains(&GATEWAY_ATTACHMENT.to_owned()));
    }

    #[test]
    fn database_subnets_have_no_route_out() {
        let s = build(&with_zones(3));
        for zone in 0..3 {
            assert_eq!(route_table_of(&s, &subnet_id(Tier::Database, zone)), DATABASE_ROUTE_TABLE);
        }
        assert!(routes_of(&s, DATABASE_ROUTE_TABLE).is_empty());
        let gateway_tables = prop(&s, S3_ENDPOINT, "RouteTableIds");
        assert!(!gateway_tables.as_array().expect("tables").contains(&r(DATABASE_ROUTE_TABLE)));
    }

    #[test]
    fn flow_logs_of_all_traffic_go_to_an_encrypted_retained_group() {
        let s = build(&with_zones(3));
        assert_eq!(prop(&s, FLOW_LOG, "ResourceId"), &r(VPC));
        assert_eq!(prop(&s, FLOW_LOG, "ResourceType"), &json!("VPC"));
        assert_eq!(prop(&s, FLOW_LOG, "TrafficType"), &json!("ALL"));
        assert_eq!(prop(&s, FLOW_LOG, "LogDestinationType"), &json!("cloud-watch-logs"));
        assert_eq!(prop(&s, FLOW_LOG, "LogGroupName"), &r(FLOW_LOG_GROUP));
        assert_eq!(prop(&s, FLOW_LOG, "DeliverLogsPermissionArn"), &json!({ "Fn::GetAtt": [FLOW_LOG_ROLE, "Arn"] }));
        assert_eq!(prop(&s, FLOW_LOG_GROUP, "KmsKeyId"), &r("LogsKeyArn"));
        assert_eq!(prop(&s, FLOW_LOG_GROUP, "RetentionInDays"), &json!(365));
        assert_eq!(resource(&s, FLOW_LOG_GROUP).deletion_policy, Some(acme_cfn::Policy::Retain));
        assert_eq!(s.template.parameters["LogsKeyArn"].parameter_type, ParameterType::String);
        assert_eq!(s.inputs.len(), 1);

        let trust = prop(&s, FLOW_LOG_ROLE, "AssumeRolePolicyDocument.Statement.0");
        assert_eq!(trust["Principal"], json!({ "Service": ["vpc-flow-logs.amazonaws.com"] }));
        assert_eq!(trust["Condition"]["StringEquals"]["aws:SourceAccount"], r("AWS::AccountId"));
        let policy = prop(&s, FLOW_LOG_ROLE, "Policies.0.PolicyDocument.Statement");
        assert_eq!(policy.as_array().map(Vec::len), Some(1));
        assert_eq!(policy[0]["Resource"], json!([{ "Fn::GetAtt": [FLOW_LOG_GROUP, "Arn"] }]));
        assert!(!policy[0]["Action"].as_array().expect("actions").contains(&json!("logs:CreateLogGroup")));
    }

    #[test]
    fn endpoints_for_s3_and_the_node_apis() {
        let s = build(&with_zones(3));
        assert_eq!(prop(&s, S3_ENDPOINT, "VpcEndpointType"), &json!("Gateway"));
        assert_eq!(prop(&s, S3_ENDPOINT, "ServiceName"), &json!({ "Fn::Sub": "com.amazonaws.${AWS::Region}.s3" }));
        assert_eq!(
            prop(&s, S3_ENDPOINT, "RouteTableIds"),
            &json!([r("PrivateRouteTable1"), r("PrivateRouteTable2"), r("PrivateRouteTable3")])
        );
        let services: Vec<&str> = INTERFACE_ENDPOINTS.iter().map(|(svc, _)| *svc).collect();
        for needed in ["ecr.api", "ecr.dkr", "sts", "logs", "eks-auth"] {
            assert!(services.contains(&needed), "no endpoint for {needed}");
        }
        assert_eq!(s.template.resources_of_type("AWS::EC2::VPCEndpoint").count(), 1 + INTERFACE_ENDPOINTS.len());
        for service in services {
            let id = endpoint_id(service);
            assert_eq!(prop(&s, &id, "VpcEndpointType"), &json!("Interface"));
            assert_eq!(prop(&s, &id, "PrivateDnsEnabled"), &json!(true));
            assert_eq!(
                prop(&s, &id, "ServiceName"),
                &json!({ "Fn::Sub": format!("com.amazonaws.${{AWS::Region}}.{service}") })
            );
            assert_eq!(
                prop(&s, &id, "SubnetIds"),
                &json!([r("PrivateSubnet1"), r("PrivateSubnet2"), r("PrivateSubnet3")])
            );
            assert_eq!(
                prop(&s, &id, "SecurityGroupIds"),
                &json!([{ "Fn::GetAtt": [ENDPOINT_SECURITY_GROUP, "GroupId"] }])
            );
        }
        assert_eq!(endpoint_id("ecr.api"), "EcrApiEndpoint");
    }

    #[test]
    fn endpoint_security_group_admits_https_from_the_vpc_only() {
        let mut p = with_zones(2);
        p.network.cidr = "172.20.0.0/18".parse().expect("CIDR");
        let s = build(&p);
        let ingress = prop(&s, ENDPOINT_SECURITY_GROUP, "SecurityGroupIngress");
        assert_eq!(ingress.as_array().map(Vec::len), Some(1));
        assert_eq!(ingress[0]["CidrIp"], json!("172.20.0.0/18"));
        assert_eq!((&ingress[0]["FromPort"], &ingress[0]["ToPort"]), (&json!(443), &json!(443)));
        assert_eq!(ingress[0]["IpProtocol"], json!("tcp"));
        let egress = prop(&s, ENDPOINT_SECURITY_GROUP, "SecurityGroupEgress");
        assert_eq!(egress[0]["CidrIp"], json!("127.0.0.1/32"));
    }

    #[test]
    fn outputs_join_subnets_for_list_parameters() {
        let s = build(&with_zones(2));
        let out = &s.template.outputs;
        for (name, tier) in
            [("PublicSubnetIds", "Public"), ("PrivateSubnetIds", "Private"), ("DatabaseSubnetIds", "Database")]
        {
            assert_eq!(
                out[name].value,
                Expr::join(",", vec![Expr::r#ref(format!("{tier}Subnet1")), Expr::r#ref(format!("{tier}Subnet2"))])
            );
            assert_eq!(out[&format!("{tier}Subnet2Id")].value, Expr::r#ref(format!("{tier}Subnet2")));
        }
        assert_eq!(out["VpcId"].value, Expr::r#ref(VPC));
        assert_eq!(out["VpcCidr"].value, Expr::att(VPC, "CidrBlock"));
        assert_eq!(out["NatPublicIps"].value, Expr::join(",", vec![Expr::r#ref("NatEip1"), Expr::r#ref("NatEip2")]));
        assert_eq!(out["DefaultSecurityGroupId"].value, Expr::att(VPC, "DefaultSecurityGroup"));
        assert!(!out.contains_key("PublicSubnet3Id"));
        let six = build(&with_zones(6));
        assert!(six.template.outputs.contains_key("DatabaseSubnet6Id"));
        assert!(six.template.resources.len() <= 500 && six.template.outputs.len() <= 200);
    }
}
