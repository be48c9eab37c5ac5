//! Overrides and checks take whatever acme.yaml says: any path, any value, over any resource.
//! Applying and checking must answer with issues or findings, never panic.

use acme_spec::validate::parse_property_path;
use acme_spec::{Override, OverrideAction, fixture};
use proptest::prelude::*;
use serde_json::json;

fn step() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z]{1,12}".prop_map(|k| format!(".{k}")),
        (0usize..4).prop_map(|i| format!("[{i}]")),
        prop::sample::select(vec![
            ".Properties",
            ".Statement",
            ".Policies",
            ".SecurityGroupIngress",
            ".Resource",
            "[0]",
            "..",
            "[",
            "]"
        ])
        .prop_map(str::to_owned),
    ]
}

fn value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(json!(null)),
        Just(json!(false)),
        Just(json!("*")),
        Just(json!([])),
        Just(json!({})),
        Just(json!([{ "Effect": "Allow", "Action": "*", "Resource": "*" }])),
        Just(json!({ "Ref": "Nothing" }))
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_override_applies_or_is_an_issue_and_check_never_panics(
        resource_pick in 0usize..400,
        steps in prop::collection::vec(step(), 1..6),
        v in value(),
        remove in any::<bool>(),
    ) {
        let platform = fixture::acme();
        let mut artifacts = acme_synth::synthesize(&platform);
        let all: Vec<(String, String)> = artifacts.stacks.iter().flat_map(|s| s.template.resources.keys().map(move |id| (s.name.to_string(), id.clone()))).collect();
        let (stack, resource) = all[resource_pick % all.len()].clone();
        let text = format!("Properties{}", steps.concat());
        let Ok(path) = parse_property_path(&text) else { return Ok(()) };
        let action = if remove { OverrideAction::Remove } else { OverrideAction::Set(v) };
        let overrides = vec![Override { stack, resource, path, action }];
        if artifacts.apply_overrides(&overrides).is_ok() {
            let mut p = platform.clone();
            p.overrides = overrides;
            prop_assert!(acme_check::check(&p, &artifacts, Default::default()).is_ok());
        }
    }
}
