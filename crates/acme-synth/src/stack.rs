use acme_cfn::{Expr, ExprList, Parameter, ParameterType, Template};
use serde::Serialize;
use std::fmt;

/// The stacks of a platform, split by lifecycle and blast radius.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StackName {
    /// Customer-managed KMS keys, one per purpose.
    Keys,
    /// VPC, subnets, NAT gateways, flow logs, endpoints.
    Network,
    /// Public (and private) hosted zones and the ACM certificates validated in them.
    Dns,
    /// The role CI assumes (and GitHub's OIDC provider).
    Ci,
    /// The EKS cluster, its roles and access entries.
    Cluster,
    /// ECR repositories.
    Registry,
    /// The RDS database.
    Data,
    /// One Application Load Balancer with its listeners, target groups and the DNS records
    /// of its hosts: shard 0 is `edge` (and holds what the shards share: security group,
    /// access-log bucket, WAF), shard `n` is `edge-<n+1>` (see `stacks::shards`).
    Edge(u16),
    /// Per-microservice IAM roles, pod identity associations and owned buckets.
    Services,
    /// CloudTrail, alarms, the alert topic, the dashboard and Container Insights.
    Observability,
    /// AWS Backup vault and plan.
    Backup,
}

impl StackName {
    /// The first edge shard, the only one of a platform that fits one load balancer.
    pub const EDGE: StackName = StackName::Edge(0);

    /// One stack of each kind, the edge as its first shard.
    pub const ALL: [StackName; 11] = [
        StackName::Keys,
        StackName::Network,
        StackName::Dns,
        StackName::Ci,
        StackName::Cluster,
        StackName::Registry,
        StackName::Data,
        StackName::EDGE,
        StackName::Services,
        StackName::Observability,
        StackName::Backup,
    ];

    /// The kind of stack, without a shard's number: `edge` for every edge shard.
    pub fn kind(self) -> &'static str {
        match self {
            StackName::Keys => "keys",
            StackName::Network => "network",
            StackName::Dns => "dns",
            StackName::Ci => "ci",
            StackName::Cluster => "cluster",
            StackName::Registry => "registry",
            StackName::Data => "data",
            StackName::Edge(_) => "edge",
            StackName::Services => "services",
            StackName::Observability => "observability",
            StackName::Backup => "backup",
        }
    }

    /// The name as synthesis writes it (`edge`, `edge-2`), back to the stack.
    pub fn parse(name: &str) -> Option<StackName> {
        if let Some(n) = name.strip_prefix("edge-") {
            // `edge-1` is spelled `edge`; a leading zero would give one shard two names.
            let n: u16 = n.parse::<u16>().ok().filter(|v| *v >= 2 && v.to_string() == n)?;
            return Some(StackName::Edge(n - 1));
        }
        StackName::ALL.into_iter().find(|s| s.kind() == name)
    }

    /// The edge shard's index, for an edge stack.
    pub fn edge_shard(self) -> Option<u16> {
        match self {
            StackName::Edge(n) => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for StackName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StackName::Edge(n) if *n > 0 => write!(f, "edge-{}", n + 1),
            _ => f.write_str(self.kind()),
        }
    }
}

impl Serialize for StackName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A parameter of one stack that acmectl fills from an upstream stack's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub parameter: String,
    pub from: StackName,
    pub output: String,
}

/// One synthesized stack: its template and the upstream outputs it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Stack {
    pub name: StackName,
    pub template: Template,
    pub inputs: Vec<Input>,
    /// Parameters that hold state the stack keeps (see [`Stack::kept_parameter`]).
    pub kept: Vec<String>,
}

impl Stack {
    pub fn new(name: StackName, description: impl Into<String>) -> Self {
        Stack { name, template: Template::new(description), inputs: vec![], kept: vec![] }
    }

    /// Take `output` of stack `from` as a parameter of the same name; returns a `Ref` to it.
    /// Output names are unique across a platform, so the parameter name says where it comes from.
    pub fn import(&mut self, from: StackName, output: &str, parameter_type: ParameterType) -> Expr {
        self.declare_input(from, output, parameter_type);
        Expr::r#ref(output)
    }

    /// Like [`Stack::import`], for list-typed parameters (`List<AWS::EC2::Subnet::Id>`, ...).
    pub fn import_list(&mut self, from: StackName, output: &str, parameter_type: ParameterType) -> ExprList {
        debug_assert!(parameter_type.is_list(), "{output} is imported as a list");
        self.declare_input(from, output, parameter_type);
        ExprList::Ref(output.to_owned())
    }

    fn declare_input(&mut self, from: StackName, output: &str, parameter_type: ParameterType) {
        if self.template.parameters.contains_key(output) {
            return;
        }
        self.template.parameters.insert(
            output.to_owned(),
            Parameter {
                parameter_type,
                description: format!("Output {output} of the {from} stack, passed by acmectl."),
                default: None,
                allowed_values: vec![],
            },
        );
        self.inputs.push(Input { parameter: output.to_owned(), from, output: output.to_owned() });
    }

    /// A parameter that holds state of the stack itself, not an upstream output: a deploy
    /// passes the value the stack has in the account (`default` when it is created), and only
    /// a command that means to change it passes another (`migrate finalize`). Returns a `Ref`.
    pub fn kept_parameter(&mut self, name: &str, description: String, default: &str, allowed: &[&str]) -> Expr {
        self.template.parameters.insert(
            name.to_owned(),
            Parameter {
                parameter_type: ParameterType::String,
                description,
                default: Some(default.to_owned()),
                allowed_values: allowed.iter().map(|v| (*v).to_owned()).collect(),
            },
        );
        if !self.kept.iter().any(|k| k == name) {
            self.kept.push(name.to_owned());
        }
        Expr::r#ref(name)
    }

    /// Stacks this one reads from, without repeats, in first-use order.
    pub fn depends_on(&self) -> Vec<StackName> {
        let mut deps: Vec<StackName> = vec![];
        for input in &self.inputs {
            if !deps.contains(&input.from) {
                deps.push(input.from);
            }
        }
        deps
    }
}
