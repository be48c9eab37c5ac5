//! `AWS::IAM::*` resource properties and typed policy documents.

use crate::{Expr, ExprList, ResourceProperties};
use serde::Serialize;
use serde_json::Value;

/// An IAM policy document.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    pub fn new(statement: Vec<Statement>) -> Self {
        PolicyDocument { version: "2012-10-17", statement }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub effect: Effect,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    pub action: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<ExprList>,
    /// Condition blocks: `{ "StringEquals": { "aws:SourceAccount": ... } }`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

impl Statement {
    /// An `Allow` of `actions` on `resources`.
    pub fn allow(actions: &[&str], resources: impl Into<ExprList>) -> Self {
        Statement {
            sid: None,
            effect: Effect::Allow,
            principal: None,
            action: actions.iter().map(|a| (*a).to_owned()).collect(),
            resource: Some(resources.into()),
            condition: None,
        }
    }

    /// A trust-policy statement: `principal` may perform `actions` (`sts:AssumeRole`, ...).
    /// Trust statements name no resource.
    pub fn trust(principal: Principal, actions: &[&str]) -> Self {
        Statement { resource: None, ..Statement::allow(actions, Vec::<Expr>::new()).principal(principal) }
    }

    pub fn deny(actions: &[&str], resources: impl Into<ExprList>) -> Self {
        Statement { effect: Effect::Deny, ..Statement::allow(actions, resources) }
    }

    pub fn sid(mut self, sid: impl Into<String>) -> Self {
        self.sid = Some(sid.into());
        self
    }

    pub fn principal(mut self, principal: Principal) -> Self {
        self.principal = Some(principal);
        self
    }

    pub fn condition(mut self, condition: Value) -> Self {
        self.condition = Some(condition);
        self
    }
}

/// A statement principal. Lists are kept as written, so a principal names exact ARNs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Principal {
    #[serde(rename = "AWS")]
    Aws(Vec<Expr>),
    /// Service principals are expressions, as some are regional (`logs.${AWS::Region}.amazonaws.com`).
    Service(Vec<Expr>),
    Federated(Expr),
    /// `"*"`, only ever paired with a condition that narrows it.
    #[serde(rename = "AWS")]
    Anyone(&'static str),
}

impl Principal {
    pub fn service(name: &str) -> Self {
        Principal::Service(vec![Expr::from(name)])
    }
    pub fn aws(arn: impl Into<Expr>) -> Self {
        Principal::Aws(vec![arn.into()])
    }
    pub fn anyone() -> Self {
        Principal::Anyone("*")
    }
}

/// An inline policy of a role.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    pub policy_name: String,
    pub policy_document: PolicyDocument,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_name: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assume_role_policy_document: Option<PolicyDocument>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub managed_policy_arns: Vec<Expr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<InlinePolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_session_duration: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<Expr>,
}

impl ResourceProperties for Role {
    const TYPE: &'static str = "AWS::IAM::Role";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub policy_document: PolicyDocument,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Expr>,
}

impl ResourceProperties for ManagedPolicy {
    const TYPE: &'static str = "AWS::IAM::ManagedPolicy";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OidcProvider {
    pub url: String,
    pub client_id_list: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub thumbprint_list: Vec<String>,
}

impl ResourceProperties for OidcProvider {
    const TYPE: &'static str = "AWS::IAM::OIDCProvider";
}

/// The managed-policy ARN for an AWS managed policy name, in any partition.
pub fn aws_managed(name: &str) -> Expr {
    Expr::sub(format!("arn:${{AWS::Partition}}:iam::aws:policy/{name}"))
}
