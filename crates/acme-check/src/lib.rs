//! `acmectl check`: the proposal's security measures as named rules over the synthesized
//! artifacts, plus the user's own AWS CloudFormation Guard rules.
//!
//! Pure like synthesis: [`check`] takes the platform and its artifacts (overrides already
//! applied) and returns a [`Report`]. Each [`Finding`] names its rule, the proposal
//! requirement it enforces, where it is, what is wrong and how to fix it in acme.yaml. Rules
//! live one area per module under [`rules`]; adding one is adding a [`Rule`] to its module's
//! list. Reports render as text, JSON ([`render`]) and SARIF 2.1.0 ([`sarif`]).

pub mod guard;
pub mod render;
pub mod requirement;
pub mod rules;
pub mod sarif;

pub use requirement::Requirement;

use acme_cfn::Resource;
use acme_spec::validate::{nearest, nearest_names};
use acme_spec::{Issue, Platform};
use acme_synth::{Artifacts, StackName};
use serde::Serialize;
use std::fmt;

/// One named rule. Its id is stable: people accept findings by it and CI keys on it.
pub struct Rule {
    /// `ACME-<AREA>-<NNN>`.
    pub id: &'static str,
    /// The proposal's words this rule enforces.
    pub requirement: Requirement,
    /// What holds when the rule passes, e.g. "The database has a standby in a second zone".
    pub title: &'static str,
    /// Why it matters and what acmectl does by default; SARIF shows it as the rule's help.
    pub help: &'static str,
    /// Every place the artifacts break the rule.
    pub evaluate: fn(&Context) -> Vec<Violation>,
}

impl Rule {
    /// Findings of this rule over `ctx`.
    pub fn evaluate(&self, ctx: &Context) -> Vec<Finding> {
        (self.evaluate)(ctx)
            .into_iter()
            .map(|v| Finding {
                rule: self.id.to_owned(),
                requirement: self.requirement.to_string(),
                location: v.location,
                property: v.property,
                message: v.message,
                fix: v.fix,
                cause: None,
            })
            .collect()
    }
}

/// What rules look at: the platform as written and everything synthesized from it.
pub struct Context<'a> {
    pub platform: &'a Platform,
    pub artifacts: &'a Artifacts,
    /// The synthesized Kubernetes objects, as JSON.
    pub kubernetes: Vec<KubeObject>,
}

/// A synthesized Kubernetes object as rules see it: its identity and its JSON form.
#[derive(Clone, Debug)]
pub struct KubeObject {
    pub kind: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
    pub value: serde_json::Value,
}

impl KubeObject {
    pub fn location(&self) -> Location {
        Location::Kubernetes { kind: self.kind.clone(), namespace: self.namespace.clone(), name: self.name.clone() }
    }

    /// A field of the object by JSON pointer (`/spec/template/spec`).
    pub fn at(&self, pointer: &str) -> Option<&serde_json::Value> {
        self.value.pointer(pointer)
    }
}

impl<'a> Context<'a> {
    pub fn new(platform: &'a Platform, artifacts: &'a Artifacts) -> Self {
        Context { platform, artifacts, kubernetes: kubernetes_objects(artifacts) }
    }

    /// Objects of one kind.
    pub fn objects<'s>(&'s self, kind: &'s str) -> impl Iterator<Item = &'s KubeObject> + 's {
        self.kubernetes.iter().filter(move |o| o.kind == kind)
    }

    /// Every CloudFormation resource of `resource_type`, with its stack and logical id.
    pub fn resources(
        &self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = (StackName, &'a str, &'a Resource)> + use<'a> {
        let artifacts: &'a Artifacts = self.artifacts;
        artifacts
            .stacks
            .iter()
            .flat_map(move |s| s.template.resources_of_type(resource_type).map(move |(id, r)| (s.name, id.as_str(), r)))
    }
}

/// Every Kubernetes object synthesis produced, rendered to JSON once for all rules.
fn kubernetes_objects(artifacts: &Artifacts) -> Vec<KubeObject> {
    artifacts
        .kubernetes
        .objects()
        .map(|o| KubeObject {
            kind: o.kind().to_owned(),
            namespace: o.namespace().unwrap_or_default().to_owned(),
            name: o.name().to_owned(),
            value: o.to_value(),
        })
        .collect()
}

/// Where a finding is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Location {
    /// A resource of a synthesized stack.
    Cloudformation { stack: StackName, resource: String },
    /// A synthesized Kubernetes object.
    Kubernetes { kind: String, namespace: String, name: String },
}

impl Location {
    pub fn resource(stack: StackName, resource: &str) -> Location {
        Location::Cloudformation { stack, resource: resource.to_owned() }
    }

    /// What `check.accept[].resource` matches: the logical id, or `Kind/namespace/name`.
    pub fn resource_key(&self) -> String {
        match self {
            Location::Cloudformation { resource, .. } => resource.clone(),
            Location::Kubernetes { kind, namespace, name } => format!("{kind}/{namespace}/{name}"),
        }
    }

    pub fn stack(&self) -> Option<StackName> {
        match self {
            Location::Cloudformation { stack, .. } => Some(*stack),
            Location::Kubernetes { .. } => None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Cloudformation { stack, resource } => write!(f, "{stack}/{resource}"),
            Location::Kubernetes { kind, namespace, name } => write!(f, "{kind} {namespace}/{name}"),
        }
    }
}

/// How to fix a finding in acme.yaml.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// The acme.yaml field that relaxes the default (`database.multi_az`), or the override
    /// (`overrides[2]`) that causes the finding; `None` when neither does.
    pub field: Option<String>,
    /// What to do, e.g. "set `database.multi_az: true` (the default)".
    pub text: String,
}

/// A rule's verdict on one place, before the rule's id and requirement are attached.
#[derive(Clone, Debug)]
pub struct Violation {
    pub location: Location,
    /// The offending property, `Properties.MultiAZ`, when there is one.
    pub property: Option<String>,
    pub message: String,
    pub fix: Fix,
}

impl Violation {
    /// A violation of `property` of a resource, fixed by an override's removal unless
    /// [`Violation::field`] names the acme.yaml field that relaxed it.
    pub fn at(stack: StackName, resource: &str, property: &str, message: impl Into<String>) -> Violation {
        Violation {
            location: Location::resource(stack, resource),
            property: (!property.is_empty()).then(|| property.to_owned()),
            message: message.into(),
            fix: Fix {
                field: None,
                text: format!(
                    "acmectl synthesizes `{}` securely by default; remove the override that changes it",
                    if property.is_empty() { "this resource" } else { property }
                ),
            },
        }
    }

    /// The finding is caused by `field` of acme.yaml; `text` says what to set.
    pub fn field(mut self, field: &str, text: impl Into<String>) -> Violation {
        self.fix = Fix { field: Some(field.to_owned()), text: text.into() };
        self
    }

    /// A fix that is neither a field nor an override's removal.
    pub fn fix(mut self, text: impl Into<String>) -> Violation {
        self.fix.text = text.into();
        self
    }
}

/// One broken rule at one place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Rule id: `ACME-DB-006`, or `GUARD-<file>-<rule>` for a Guard rule.
    pub rule: String,
    /// The proposal requirement (or the Guard rule file) it enforces.
    pub requirement: String,
    pub location: Location,
    /// The offending property of the resource, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// What is wrong.
    pub message: String,
    pub fix: Fix,
    /// The override (`overrides[i]`) that causes the finding, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// A finding accepted in acme.yaml, with the reason given there.
#[derive(Clone, Debug, Serialize)]
pub struct Accepted {
    pub finding: Finding,
    /// Field of the accept entry: `check.accept[0]`.
    pub by: String,
    pub reason: String,
}

/// What a rule is, for reports (SARIF lists every rule evaluated).
#[derive(Clone, Debug, Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub requirement: String,
    pub title: String,
    pub help: String,
}

impl From<&Rule> for RuleInfo {
    fn from(r: &Rule) -> RuleInfo {
        RuleInfo {
            id: r.id.to_owned(),
            requirement: r.requirement.to_string(),
            title: r.title.to_owned(),
            help: r.help.to_owned(),
        }
    }
}

/// The outcome of a check.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Findings that stand: any of them stops `synth` and `deploy`.
    pub findings: Vec<Finding>,
    /// Findings accepted in acme.yaml, with their reasons.
    pub accepted: Vec<Accepted>,
    /// Accept entries (`check.accept[i]`) that matched no finding: stale, or scoped wrong.
    pub unused_accepts: Vec<String>,
    /// Every rule evaluated, built-in and Guard.
    pub rules: Vec<RuleInfo>,
}

impl Report {
    /// No finding stands.
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Evaluates every built-in rule, then `extra` findings (from Guard rules, see [`guard`]),
/// attributes each finding to the override that causes it, and sets aside what acme.yaml
/// accepts. An accept naming a rule or stack that does not exist is an [`Issue`] at its field.
pub fn check(platform: &Platform, artifacts: &Artifacts, extra: Extra) -> Result<Report, Vec<Issue>> {
    let ctx = Context::new(platform, artifacts);
    let builtin = rules::all();
    let mut findings: Vec<Finding> = builtin.iter().flat_map(|r| r.evaluate(&ctx)).collect();
    findings.extend(extra.findings);
    let mut infos: Vec<RuleInfo> = builtin.iter().map(|r| RuleInfo::from(*r)).collect();
    infos.extend(extra.rules);
    for f in &mut findings {
        attribute(platform, f);
    }
    accept(platform, artifacts, findings, infos)
}

/// Findings and rules from outside the built-in set (Guard).
#[derive(Debug, Default)]
pub struct Extra {
    pub findings: Vec<Finding>,
    pub rules: Vec<RuleInfo>,
}

/// A finding on a property an override patched is the override's doing: point at it.
fn attribute(platform: &Platform, f: &mut Finding) {
    let (Location::Cloudformation { stack, resource }, Some(property)) = (&f.location, &f.property) else { return };
    let overlaps = |a: &str, b: &str| {
        a == b
            || [".", "["].iter().any(|sep| a.starts_with(&format!("{b}{sep}")) || b.starts_with(&format!("{a}{sep}")))
    };
    // The last override to touch the property decides its value.
    let cause =
        platform.overrides.iter().enumerate().rev().find(|(_, o)| {
            o.stack == stack.to_string() && &o.resource == resource && overlaps(&o.path_text(), property)
        });
    if let Some((i, o)) = cause {
        let field = format!("overrides[{i}]");
        let what = match &o.action {
            acme_spec::OverrideAction::Set(v) => format!("sets `{}` to {v}", o.path_text()),
            acme_spec::OverrideAction::Remove => format!("removes `{}`", o.path_text()),
        };
        f.fix = Fix { field: Some(field.clone()), text: format!("remove {field}: it {what}") };
        f.cause = Some(field);
    }
}

fn accept(
    platform: &Platform,
    artifacts: &Artifacts,
    findings: Vec<Finding>,
    rules: Vec<RuleInfo>,
) -> Result<Report, Vec<Issue>> {
    let mut issues = vec![];
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let names: Vec<String> = artifacts.stacks.iter().map(|s| s.name.to_string()).collect();
    let stacks: Vec<&str> = names.iter().map(String::as_str).collect();
    for (i, a) in platform.check.accept.iter().enumerate() {
        if !ids.contains(&a.rule.as_str()) {
            let help = match nearest(&a.rule, ids.iter().copied()) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!("nearest rules: {}", nearest_names(&a.rule, ids.iter().copied(), 5).join(", ")),
            };
            issues.push(Issue {
                field: format!("check.accept[{i}].rule"),
                message: format!("there is no rule `{}`", a.rule),
                help,
            });
        }
        if let Some(stack) = a.stack.as_deref().filter(|s| !stacks.contains(s)) {
            let help = match nearest(stack, stacks.iter().copied()) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!("stacks: {}", stacks.join(", ")),
            };
            issues.push(Issue {
                field: format!("check.accept[{i}].stack"),
                message: format!("there is no stack `{stack}`"),
                help,
            });
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    let mut used = vec![false; platform.check.accept.len()];
    let mut standing = vec![];
    let mut accepted = vec![];
    for finding in findings {
        let by = platform.check.accept.iter().position(|a| {
            a.rule == finding.rule
                && a.stack.as_deref().is_none_or(|s| finding.location.stack().is_some_and(|fs| fs.to_string() == s))
                && a.resource.as_deref().is_none_or(|r| finding.location.resource_key() == r)
        });
        match by {
            Some(i) => {
                used[i] = true;
                let reason = platform.check.accept[i].reason.clone();
                accepted.push(Accepted { finding, by: format!("check.accept[{i}]"), reason });
            }
            None => standing.push(finding),
        }
    }
    let unused_accepts =
        used.iter().enumerate().filter(|(_, u)| !**u).map(|(i, _)| format!("check.accept[{i}]")).collect();
    Ok(Report { findings: standing, accepted, unused_accepts, rules })
}
