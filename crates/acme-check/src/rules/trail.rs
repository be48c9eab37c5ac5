//! CloudTrail: one trail records every region, signs its log files and encrypts them.

use super::{customer_key, is_true};
use crate::requirement::AUDIT;
use crate::{Context, Rule, Violation};
use acme_synth::StackName;

pub static RULES: &[Rule] = &[Rule {
    id: "ACME-TRAIL-001",
    requirement: AUDIT,
    title: "CloudTrail logs every region, with log file validation and KMS encryption",
    help: "A multi-region trail that is logging, with digest files to prove no log was altered, encrypted with the logs key. An attacker who works in an unused region is still recorded.",
    evaluate: trail,
}];

fn trail(ctx: &Context) -> Vec<Violation> {
    let trails: Vec<_> = ctx.resources("AWS::CloudTrail::Trail").collect();
    if trails.is_empty() {
        return vec![Violation::at(StackName::Observability, "Trail", "", "the platform has no CloudTrail trail")];
    }
    let mut found = vec![];
    for (stack, id, r) in trails {
        for (property, what) in [
            ("IsLogging", "is not logging"),
            ("IsMultiRegionTrail", "records only its own region"),
            ("EnableLogFileValidation", "has no log file validation: altered logs would go unnoticed"),
        ] {
            if !is_true(r.property(property)) {
                found.push(Violation::at(stack, id, &format!("Properties.{property}"), format!("trail `{id}` {what}")));
            }
        }
        if !customer_key(r.property("KMSKeyId")) {
            found.push(Violation::at(
                stack,
                id,
                "Properties.KMSKeyId",
                format!("trail `{id}` does not encrypt its logs with a KMS key"),
            ));
        }
    }
    found
}
