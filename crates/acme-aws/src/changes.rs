//! What a change set would do to each resource, and why a resource would be replaced.
//!
//! CloudFormation says it in `DescribeChangeSet`: per resource an action, whether the change
//! replaces it (`Replacement`), and per changed property whether that property requires
//! recreation (`Details[].Target`). That answer is the one acmectl trusts. An account that
//! leaves `Replacement` out (emulators do) gets a second opinion for the stateful types only:
//! the properties that changed between the deployed template and the new one, checked against
//! [`IMMUTABLE`], the properties CloudFormation documents as "Update requires: Replacement".

use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt;

/// One resource change of a change set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `Add`, `Modify`, `Remove`, `Import` or `Dynamic`.
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// The resource's id in the account, for `Modify` and `Remove`.
    pub physical_id: Option<String>,
    /// For `Modify`: `True`, `False` or `Conditional` (replaced if a dynamic value changed).
    /// `None` when the account did not say.
    pub replacement: Option<String>,
    /// What changed, property by property.
    pub causes: Vec<Cause>,
    /// The resource holds data (see [`crate::guard`]): replacing or removing it needs
    /// `--allow-replace`.
    pub holds_data: bool,
}

/// One changed part of a resource (`Details[]` of a resource change).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    /// `Properties`, `Tags`, `Metadata`, ...
    pub attribute: String,
    /// The property, for `Properties`.
    pub property: Option<String>,
    /// `Always`, `Conditionally` or `Never`.
    pub requires_recreation: Option<String>,
    /// What made it change: `ParameterReference`, `ResourceReference`, `DirectModification`, ...
    pub source: Option<String>,
    /// The parameter or resource behind a reference change (`DataKeyArn`).
    pub causing_entity: Option<String>,
    /// Who decided `requires_recreation`: the account, or acmectl's table.
    pub judged_by: Judge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judge {
    Account,
    /// [`IMMUTABLE`], used when the account did not report replacements.
    Acmectl,
}

impl Change {
    /// Whether the change may delete the resource: a removal, or a replacement that may
    /// happen. What the data-loss guard looks at for stateful resources.
    pub fn may_destroy(&self) -> bool {
        self.action == "Remove" || matches!(self.replacement.as_deref(), Some("True" | "Conditional"))
    }

    /// The properties whose change replaces the resource (always or maybe), without repeats.
    pub fn replacing_properties(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.causes
            .iter()
            .filter(|c| matches!(c.requires_recreation.as_deref(), Some("Always" | "Conditionally")))
            .map(|c| c.property.as_deref().unwrap_or(c.attribute.as_str()))
            .filter(|p| seen.insert(*p))
            .collect()
    }

    /// The change in one word for people: `add`, `modify`, `replace`, `replace?` (maybe),
    /// `remove`, or the action in lower case.
    pub fn verb(&self) -> String {
        match (self.action.as_str(), self.replacement.as_deref()) {
            ("Modify", Some("True")) => "replace".into(),
            ("Modify", Some("Conditional")) => "replace?".into(),
            (action, _) => action.to_ascii_lowercase(),
        }
    }
}

impl fmt::Display for Change {
    /// `replace  Database (AWS::RDS::DBInstance): DBName requires replacement`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<9}{} ({})", self.verb(), self.logical_id, self.resource_type)?;
        let replacing = self.replacing_properties();
        if !replacing.is_empty() {
            let by = if self.causes.iter().any(|c| c.judged_by == Judge::Acmectl) {
                " (the account did not say; acmectl's table of immutable properties)"
            } else {
                ""
            };
            let verb = if replacing.len() == 1 { "requires" } else { "require" };
            write!(f, ": {} {verb} replacement{by}", replacing.join(", "))?;
        } else if self.action == "Modify" {
            let changed: BTreeSet<&str> =
                self.causes.iter().map(|c| c.property.as_deref().unwrap_or(c.attribute.as_str())).collect();
            if !changed.is_empty() {
                write!(f, ": {}", changed.into_iter().collect::<Vec<_>>().join(", "))?;
            }
            if self.replacement.is_none() {
                write!(f, " (the account did not say whether this replaces it)")?;
            }
        }
        Ok(())
    }
}

/// Properties of the stateful types whose change makes CloudFormation replace the resource
/// ("Update requires: Replacement" in the CloudFormation template reference).
pub const IMMUTABLE: &[(&str, &[&str])] = &[
    (
        "AWS::RDS::DBInstance",
        &[
            "CharacterSetName",
            "DBClusterIdentifier",
            "DBInstanceIdentifier",
            "DBName",
            "DBSubnetGroupName",
            "KmsKeyId",
            "MasterUsername",
            "NcharCharacterSetName",
            "SourceRegion",
            "StorageEncrypted",
            "Timezone",
        ],
    ),
    ("AWS::KMS::Key", &["KeySpec", "KeyUsage", "MultiRegion", "Origin"]),
    ("AWS::S3::Bucket", &["BucketName", "ObjectLockEnabled"]),
    ("AWS::Route53::HostedZone", &["Name"]),
    ("AWS::ECR::Repository", &["EncryptionConfiguration", "RepositoryName"]),
    ("AWS::Backup::BackupVault", &["BackupVaultName", "EncryptionKeyArn"]),
    ("AWS::Logs::LogGroup", &["LogGroupName"]),
];

fn immutable(resource_type: &str) -> Option<&'static [&'static str]> {
    IMMUTABLE.iter().find(|(t, _)| *t == resource_type).map(|(_, props)| *props)
}

/// Fill in what the account left out of a `Modify` of a type [`IMMUTABLE`] knows: the changed
/// properties between `deployed` and `new` (whole templates) and whether the change replaces
/// the resource. Changes the account judged are left alone.
pub fn judge_replacements(changes: &mut [Change], deployed: &Value, new: &Value) {
    for change in changes.iter_mut().filter(|c| c.action == "Modify" && c.replacement.is_none()) {
        let Some(immutable) = immutable(&change.resource_type) else { continue };
        let properties = |t: &Value| t.pointer(&format!("/Resources/{}/Properties", change.logical_id)).cloned();
        let (before, after) = (properties(deployed).unwrap_or(Value::Null), properties(new).unwrap_or(Value::Null));
        let names: BTreeSet<&String> =
            [&before, &after].iter().filter_map(|v| v.as_object()).flat_map(|m| m.keys()).collect();
        let changed: Vec<&String> =
            names.into_iter().filter(|n| before.get(n.as_str()) != after.get(n.as_str())).collect();
        if changed.is_empty() {
            continue;
        }
        let mut replaces = false;
        for name in changed {
            let requires = immutable.contains(&name.as_str());
            replaces |= requires;
            change.causes.push(Cause {
                attribute: "Properties".into(),
                property: Some(name.clone()),
                requires_recreation: Some(if requires { "Always" } else { "Never" }.into()),
                source: Some("DirectModification".into()),
                causing_entity: None,
                judged_by: Judge::Acmectl,
            });
        }
        change.replacement = Some(if replaces { "True" } else { "False" }.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(action: &str, replacement: Option<&str>) -> Change {
        Change {
            action: action.into(),
            logical_id: "Database".into(),
            resource_type: "AWS::RDS::DBInstance".into(),
            physical_id: None,
            replacement: replacement.map(Into::into),
            causes: vec![],
            holds_data: true,
        }
    }

    #[test]
    fn removals_and_possible_replacements_may_destroy() {
        assert!(change("Remove", None).may_destroy());
        assert!(change("Modify", Some("True")).may_destroy());
        assert!(change("Modify", Some("Conditional")).may_destroy());
        assert!(!change("Modify", Some("False")).may_destroy());
        assert!(!change("Add", None).may_destroy());
    }

    fn template(db_name: &str, class: &str) -> Value {
        json!({ "Resources": {
            "Database": { "Type": "AWS::RDS::DBInstance",
                "Properties": { "DBName": db_name, "DBInstanceClass": class } },
            "Topic": { "Type": "AWS::SNS::Topic", "Properties": { "DisplayName": db_name } }
        }})
    }

    #[test]
    fn an_immutable_property_makes_a_replacement_and_is_named() {
        let mut changes = vec![change("Modify", None)];
        judge_replacements(&mut changes, &template("acme", "db.r7g.large"), &template("acme2", "db.r7g.large"));
        assert_eq!(changes[0].replacement.as_deref(), Some("True"));
        assert!(changes[0].may_destroy());
        assert_eq!(changes[0].replacing_properties(), ["DBName"]);
        let text = changes[0].to_string();
        assert!(text.starts_with("replace  Database (AWS::RDS::DBInstance): DBName requires replacement"), "{text}");
        assert!(text.contains("acmectl's table"), "says who judged: {text}");
    }

    #[test]
    fn a_mutable_property_modifies_in_place() {
        let mut changes = vec![change("Modify", None)];
        judge_replacements(&mut changes, &template("acme", "db.r7g.large"), &template("acme", "db.r7g.xlarge"));
        assert_eq!(changes[0].replacement.as_deref(), Some("False"));
        assert!(!changes[0].may_destroy());
        assert_eq!(changes[0].to_string(), "modify   Database (AWS::RDS::DBInstance): DBInstanceClass");
    }

    #[test]
    fn the_accounts_answer_and_unknown_types_are_left_alone() {
        let mut changes = vec![
            change("Modify", Some("False")),
            Change { logical_id: "Topic".into(), resource_type: "AWS::SNS::Topic".into(), ..change("Modify", None) },
        ];
        judge_replacements(&mut changes, &template("acme", "a"), &template("acme2", "a"));
        assert_eq!(changes[0].replacement.as_deref(), Some("False"));
        assert!(changes[0].causes.is_empty());
        assert_eq!(changes[1].replacement, None);
        assert!(changes[1].to_string().ends_with("(the account did not say whether this replaces it)"));
    }

    #[test]
    fn the_accounts_details_name_the_replacing_property_once() {
        let cause = |property: &str, requires: &str| Cause {
            attribute: "Properties".into(),
            property: Some(property.into()),
            requires_recreation: Some(requires.into()),
            source: Some("DirectModification".into()),
            causing_entity: None,
            judged_by: Judge::Account,
        };
        let mut c = change("Modify", Some("True"));
        c.causes = vec![cause("DBName", "Always"), cause("DBName", "Always"), cause("DBInstanceClass", "Never")];
        assert_eq!(c.replacing_properties(), ["DBName"]);
        assert_eq!(c.to_string(), "replace  Database (AWS::RDS::DBInstance): DBName requires replacement");
        c.replacement = Some("Conditional".into());
        c.causes = vec![cause("DBSubnetGroupName", "Conditionally")];
        assert_eq!(c.verb(), "replace?");
    }
}
