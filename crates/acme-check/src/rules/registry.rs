//! ECR: images are scanned when pushed and a tag, once pushed, always means the same image.

use super::is_true;
use crate::requirement::{ADVISORIES, IMAGES};
use crate::{Context, Rule, Violation};

pub static RULES: &[Rule] = &[
    Rule {
        id: "ACME-ECR-001",
        requirement: ADVISORIES,
        title: "Repositories scan images on push",
        help: "Every pushed image is scanned for known vulnerabilities (CVEs); CI reads the findings before it deploys.",
        evaluate: scan_on_push,
    },
    Rule {
        id: "ACME-ECR-002",
        requirement: IMAGES,
        title: "Repository tags are immutable",
        help: "A tag cannot be moved to another image, so what was tested and scanned is what runs.",
        evaluate: immutable,
    },
];

fn scan_on_push(ctx: &Context) -> Vec<Violation> {
    ctx.resources("AWS::ECR::Repository")
        .filter(|(_, _, r)| !is_true(r.property("ImageScanningConfiguration.ScanOnPush")))
        .map(|(stack, id, _)| {
            Violation::at(
                stack,
                id,
                "Properties.ImageScanningConfiguration.ScanOnPush",
                format!("repository `{id}` does not scan images on push"),
            )
        })
        .collect()
}

fn immutable(ctx: &Context) -> Vec<Violation> {
    ctx.resources("AWS::ECR::Repository")
        .filter(|(_, _, r)| {
            !r.property("ImageTagMutability").and_then(|v| v.as_str()).is_some_and(|m| m.starts_with("IMMUTABLE"))
        })
        .map(|(stack, id, _)| {
            Violation::at(
                stack,
                id,
                "Properties.ImageTagMutability",
                format!("repository `{id}` lets a tag be moved to another image"),
            )
        })
        .collect()
}
