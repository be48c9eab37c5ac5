use crate::{Condition, Expr};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The properties of one CloudFormation resource type, spelled as AWS spells them.
pub trait ResourceProperties: Serialize {
    /// The CloudFormation type name, e.g. `AWS::EC2::VPC`.
    const TYPE: &'static str;
}

/// `DeletionPolicy` / `UpdateReplacePolicy` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Policy {
    Retain,
    Snapshot,
    Delete,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    pub resource_type: &'static str,
    pub properties: Value,
    pub depends_on: Vec<String>,
    pub deletion_policy: Option<Policy>,
    pub update_replace_policy: Option<Policy>,
    pub metadata: Map<String, Value>,
    /// The template condition under which the resource exists.
    pub condition: Option<String>,
}

impl Resource {
    /// Keep the resource when it is removed from the template or replaced.
    pub fn retain(&mut self) -> &mut Self {
        self.deletion_policy = Some(Policy::Retain);
        self.update_replace_policy = Some(Policy::Retain);
        self
    }

    /// Take a final snapshot on delete or replacement (RDS and other snapshot-capable types).
    pub fn snapshot(&mut self) -> &mut Self {
        self.deletion_policy = Some(Policy::Snapshot);
        self.update_replace_policy = Some(Policy::Snapshot);
        self
    }

    /// Create the resource only while the template condition `name` holds.
    pub fn condition(&mut self, name: impl Into<String>) -> &mut Self {
        self.condition = Some(name.into());
        self
    }

    pub fn depends_on(&mut self, logical_id: impl Into<String>) -> &mut Self {
        self.depends_on.push(logical_id.into());
        self
    }

    /// Record an inline checkov suppression. `reason` must convince a security reviewer.
    pub fn skip_checkov(&mut self, check_id: &str, reason: &str) -> &mut Self {
        let checkov = self.metadata.entry("checkov").or_insert_with(|| json!({ "skip": [] }));
        if let Some(skips) = checkov.get_mut("skip").and_then(Value::as_array_mut) {
            skips.push(json!({ "id": check_id, "comment": reason }));
        }
        self
    }

    /// Property value at a JSON-pointer-like path of property names, for tests and checks.
    pub fn property(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(&self.properties, |v, key| match v {
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => v.get(key),
        })
    }

    fn to_value(&self) -> Value {
        let mut v = Map::new();
        v.insert("Type".into(), json!(self.resource_type));
        if let Some(condition) = &self.condition {
            v.insert("Condition".into(), json!(condition));
        }
        if !self.depends_on.is_empty() {
            v.insert("DependsOn".into(), json!(self.depends_on));
        }
        if let Some(p) = self.deletion_policy {
            v.insert("DeletionPolicy".into(), json!(p));
        }
        if let Some(p) = self.update_replace_policy {
            v.insert("UpdateReplacePolicy".into(), json!(p));
        }
        if !self.metadata.is_empty() {
            v.insert("Metadata".into(), Value::Object(self.metadata.clone()));
        }
        if self.properties.as_object().is_some_and(|m| !m.is_empty()) {
            v.insert("Properties".into(), self.properties.clone());
        }
        Value::Object(v)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParameterType {
    String,
    Number,
    CommaDelimitedList,
    VpcId,
    SubnetIds,
    SecurityGroupId,
}

impl ParameterType {
    pub fn as_str(&self) -> &'static str {
        match self {
            ParameterType::String => "String",
            ParameterType::Number => "Number",
            ParameterType::CommaDelimitedList => "CommaDelimitedList",
            ParameterType::VpcId => "AWS::EC2::VPC::Id",
            ParameterType::SubnetIds => "List<AWS::EC2::Subnet::Id>",
            ParameterType::SecurityGroupId => "AWS::EC2::SecurityGroup::Id",
        }
    }

    /// Whether a `Ref` to this parameter yields a list.
    pub fn is_list(&self) -> bool {
        matches!(self, ParameterType::CommaDelimitedList | ParameterType::SubnetIds)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    pub parameter_type: ParameterType,
    pub description: String,
    pub default: Option<String>,
    pub allowed_values: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub description: String,
    pub value: Expr,
    /// The template condition under which the output exists.
    pub condition: Option<String>,
}

/// One CloudFormation template. Resources, parameters and outputs keep insertion order,
/// so the same calls always render the same bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Template {
    pub description: String,
    pub parameters: IndexMap<String, Parameter>,
    pub conditions: IndexMap<String, Condition>,
    pub resources: IndexMap<String, Resource>,
    pub outputs: IndexMap<String, Output>,
}

impl Template {
    pub fn new(description: impl Into<String>) -> Self {
        Template { description: description.into(), ..Default::default() }
    }

    /// Add a resource. Logical ids are derived from validated, unique names, so a repeat
    /// is a bug in synthesis, not bad input.
    pub fn add<P: ResourceProperties>(&mut self, logical_id: impl Into<String>, properties: P) -> &mut Resource {
        let logical_id = logical_id.into();
        let properties = serde_json::to_value(&properties)
            .unwrap_or_else(|e| unreachable!("{} properties always serialize: {e}", P::TYPE));
        assert!(!self.resources.contains_key(&logical_id), "duplicate logical id {logical_id}");
        let resource = Resource {
            resource_type: P::TYPE,
            properties,
            depends_on: vec![],
            deletion_policy: None,
            update_replace_policy: None,
            metadata: Map::new(),
            condition: None,
        };
        self.resources.entry(logical_id).or_insert(resource)
    }

    /// Declare a condition; a repeat of the same name and meaning is a no-op.
    pub fn add_condition(&mut self, name: impl Into<String>, condition: Condition) -> String {
        let name = name.into();
        let previous = self.conditions.insert(name.clone(), condition.clone());
        assert!(previous.is_none_or(|p| p == condition), "condition {name} declared twice differently");
        name
    }

    /// A condition that holds when every one of `operands` does, under `name`; nested
    /// `Fn::And`s past [`crate::MAX_OPERANDS`]. One operand is returned as it is.
    pub fn all_of(&mut self, name: &str, operands: &[String]) -> String {
        self.combine(name, operands, Condition::And)
    }

    fn combine(&mut self, name: &str, operands: &[String], op: fn(Vec<String>) -> Condition) -> String {
        match operands {
            [] => unreachable!("{name}: a condition of no operands"),
            [one] => one.clone(),
            _ if operands.len() <= crate::MAX_OPERANDS => self.add_condition(name, op(operands.to_vec())),
            _ => {
                let parts: Vec<String> = operands
                    .chunks(crate::MAX_OPERANDS)
                    .enumerate()
                    .map(|(i, chunk)| self.combine(&format!("{name}Part{}", i + 1), chunk, op))
                    .collect();
                self.combine(name, &parts, op)
            }
        }
    }

    pub fn output(&mut self, name: impl Into<String>, description: impl Into<String>, value: Expr) {
        self.outputs.insert(name.into(), Output { description: description.into(), value, condition: None });
    }

    /// An output that exists only while `condition` holds, like the resource it names.
    pub fn conditional_output(
        &mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        value: Expr,
        condition: &str,
    ) {
        let output = Output { description: description.into(), value, condition: Some(condition.to_owned()) };
        self.outputs.insert(name.into(), output);
    }

    /// A condition that holds when one of `operands` does, under `name`; nested `Fn::Or`s
    /// past [`crate::MAX_OPERANDS`]. One operand is returned as it is.
    pub fn any_of(&mut self, name: &str, operands: &[String]) -> String {
        self.combine(name, operands, Condition::Or)
    }

    pub fn resources_of_type<'a>(
        &'a self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Resource)> + 'a {
        self.resources.iter().filter(move |(_, r)| r.resource_type == resource_type)
    }

    pub fn to_value(&self) -> Value {
        let mut v = Map::new();
        v.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
        v.insert("Description".into(), json!(self.description));
        if !self.parameters.is_empty() {
            let params = self.parameters.iter().map(|(name, p)| {
                let mut pv = Map::new();
                pv.insert("Type".into(), json!(p.parameter_type.as_str()));
                pv.insert("Description".into(), json!(p.description));
                if let Some(d) = &p.default {
                    pv.insert("Default".into(), json!(d));
                }
                if !p.allowed_values.is_empty() {
                    pv.insert("AllowedValues".into(), json!(p.allowed_values));
                }
                (name.clone(), Value::Object(pv))
            });
            v.insert("Parameters".into(), Value::Object(params.collect()));
        }
        if !self.conditions.is_empty() {
            let conditions = self.conditions.iter().map(|(name, c)| (name.clone(), c.to_value()));
            v.insert("Conditions".into(), Value::Object(conditions.collect()));
        }
        let resources = self.resources.iter().map(|(id, r)| (id.clone(), r.to_value()));
        v.insert("Resources".into(), Value::Object(resources.collect()));
        if !self.outputs.is_empty() {
            let outputs = self.outputs.iter().map(|(name, o)| {
                let mut ov = Map::new();
                if let Some(condition) = &o.condition {
                    ov.insert("Condition".into(), json!(condition));
                }
                ov.insert("Description".into(), json!(o.description));
                ov.insert("Value".into(), o.value.to_value());
                (name.clone(), Value::Object(ov))
            });
            v.insert("Outputs".into(), Value::Object(outputs.collect()));
        }
        Value::Object(v)
    }
}

/// CloudFormation's documented per-template quotas.
pub mod quotas {
    pub const RESOURCES: usize = 500;
    pub const PARAMETERS: usize = 200;
    pub const OUTPUTS: usize = 200;
    /// Largest template body CloudFormation reads from S3.
    pub const TEMPLATE_BYTES: usize = 1_000_000;
    /// Largest template body CloudFormation takes inline (`TemplateBody`).
    pub const INLINE_TEMPLATE_BYTES: usize = 51_200;
}

/// A template too large to send inline, as YAML and as compact JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLargeInline {
    pub yaml_bytes: usize,
    pub json_bytes: usize,
}

impl Template {
    /// Each quota the template exceeds, as `what: count over the quota of N`. `rendered_bytes`
    /// is the size of the rendered template.
    pub fn quota_excess(&self, rendered_bytes: usize) -> Vec<String> {
        [
            ("resources", self.resources.len(), quotas::RESOURCES),
            ("parameters", self.parameters.len(), quotas::PARAMETERS),
            ("outputs", self.outputs.len(), quotas::OUTPUTS),
            ("bytes", rendered_bytes, quotas::TEMPLATE_BYTES),
        ]
        .into_iter()
        .filter(|(_, count, quota)| count > quota)
        .map(|(what, count, quota)| format!("{count} {what}, over the quota of {quota}"))
        .collect()
    }

    /// The body to send inline: the YAML that `synth` writes, or, when that is over
    /// [`quotas::INLINE_TEMPLATE_BYTES`], the same template as compact JSON (no indentation,
    /// about a quarter smaller). The choice depends on the template alone, so a redeploy sends
    /// the same text and CloudFormation sees no change.
    pub fn inline_body(&self) -> Result<String, TooLargeInline> {
        let value = self.to_value();
        let yaml = crate::yaml::to_string(&value);
        Self::inline_body_of(&value, yaml)
    }

    /// [`Template::inline_body`] of a template already rendered: its `value` and `yaml`.
    pub fn inline_body_of(value: &Value, yaml: String) -> Result<String, TooLargeInline> {
        if yaml.len() <= quotas::INLINE_TEMPLATE_BYTES {
            return Ok(yaml);
        }
        let json = value.to_string();
        if json.len() <= quotas::INLINE_TEMPLATE_BYTES {
            return Ok(json);
        }
        Err(TooLargeInline { yaml_bytes: yaml.len(), json_bytes: json.len() })
    }
}

/// `my-service` → `MyService`: a name made safe for logical ids.
pub fn pascal(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut cs = p.chars();
            cs.next().map(|c| c.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
        })
        .collect()
}
