//! Values the manifests need that acme.yaml cannot know: stack outputs that exist only once the
//! stacks are deployed (target group ARNs, repository URIs, the database endpoint and secret
//! ARN, bucket names with their account id), and the image each service runs, chosen at deploy
//! time.
//!
//! `acmectl synth` renders with [`Values::placeholders`]: every such value shows as
//! `${<stack>.<Output>}` (an output of that stack, named as in `plan.json`) or
//! `${image.<service>}` (the image digest). The deploy reads the real values (stack outputs,
//! the digest the pushed tag resolves to) and calls the same [`super::manifests`] with them, so
//! what is applied is built by the same code as what was reviewed, with no text templating in
//! between.

use crate::StackName;
use crate::stacks::names;
use acme_spec::Platform;
use std::collections::BTreeMap;

/// Which image of a service's repository to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageRef {
    /// `sha256:…`: what the deploy should use. It pins the bytes that were scanned, and the
    /// manifest changes whenever the image does, so a new image always rolls out.
    Digest(String),
    /// A tag. ECR repositories here are immutable, so a tag names one image for good; still,
    /// the deploy resolves tags to digests where it can.
    Tag(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Values {
    outputs: BTreeMap<(StackName, String), String>,
    images: BTreeMap<String, ImageRef>,
}

impl Values {
    /// No real values yet: everything deploy-time renders as a placeholder.
    pub fn placeholders() -> Values {
        Values::default()
    }

    /// Records the value of one stack output.
    pub fn set_output(&mut self, stack: StackName, output: &str, value: impl Into<String>) -> &mut Self {
        self.outputs.insert((stack, output.to_owned()), value.into());
        self
    }

    /// Records the image a service runs.
    pub fn set_image(&mut self, service: &str, image: ImageRef) -> &mut Self {
        self.images.insert(service.to_owned(), image);
        self
    }

    /// The output's value, or its placeholder `${stack.Output}`.
    pub fn output(&self, stack: StackName, output: &str) -> String {
        match self.outputs.get(&(stack, output.to_owned())) {
            Some(value) => value.clone(),
            None => placeholder(&stack.to_string(), output),
        }
    }

    /// The full image reference of a service: its repository (registry stack output) at the
    /// digest or tag given, or `${registry.<Service>RepositoryUri}@${image.<service>}`.
    pub fn image(&self, service: &str) -> String {
        let repository = self.output(StackName::Registry, &names::repository_output(service));
        match self.images.get(service) {
            Some(ImageRef::Digest(digest)) => format!("{repository}@{digest}"),
            Some(ImageRef::Tag(tag)) => format!("{repository}:{tag}"),
            None => format!("{repository}@{}", placeholder("image", service)),
        }
    }

    /// Every placeholder `text` still holds, in order. The deploy refuses to apply a manifest
    /// with any left.
    pub fn unresolved(text: &str) -> Vec<&str> {
        let mut found = vec![];
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start..].find('}') else { break };
            found.push(&rest[start..start + len + 1]);
            rest = &rest[start + len + 1..];
        }
        found
    }

    /// The stack outputs these manifests read, so the deploy knows what to fetch.
    pub fn outputs_needed(p: &Platform) -> Vec<(StackName, String)> {
        let text: String =
            super::manifests(p, &Values::placeholders()).files().into_values().collect::<Vec<_>>().join("\n");
        let mut needed: Vec<(StackName, String)> = Values::unresolved(&text)
            .into_iter()
            .filter_map(|p| {
                let (stack, output) = p.trim_start_matches("${").trim_end_matches('}').split_once('.')?;
                let stack = StackName::parse(stack)?;
                Some((stack, output.to_owned()))
            })
            .collect();
        needed.sort();
        needed.dedup();
        needed
    }
}

fn placeholder(scope: &str, name: &str) -> String {
    format!("${{{scope}.{name}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_name_the_stack_output_or_the_image() {
        let v = Values::placeholders();
        assert_eq!(v.output(StackName::EDGE, "WebTargetGroupArn"), "${edge.WebTargetGroupArn}");
        assert_eq!(v.image("web"), "${registry.WebRepositoryUri}@${image.web}");
    }

    #[test]
    fn real_values_replace_placeholders() {
        let mut v = Values::placeholders();
        v.set_output(StackName::Registry, "WebRepositoryUri", "111122223333.dkr.ecr.us-east-1.amazonaws.com/acme/web")
            .set_image("web", ImageRef::Digest("sha256:abc".into()))
            .set_image("api", ImageRef::Tag("1.2.3".into()));
        assert_eq!(v.image("web"), "111122223333.dkr.ecr.us-east-1.amazonaws.com/acme/web@sha256:abc");
        assert_eq!(v.image("api"), "${registry.ApiRepositoryUri}:1.2.3");
    }

    #[test]
    fn unresolved_lists_what_is_left() {
        assert_eq!(Values::unresolved("a ${x.Y} b ${image.web}@c"), ["${x.Y}", "${image.web}"]);
        assert!(Values::unresolved("no placeholder $ here {}").is_empty());
    }

    #[test]
    fn the_fixture_needs_exactly_these_outputs() {
        let needed = Values::outputs_needed(&acme_spec::fixture::acme());
        let text: Vec<String> = needed.iter().map(|(s, o)| format!("{s}.{o}")).collect();
        assert_eq!(
            text,
            [
                "registry.ApiRepositoryUri",
                "registry.AuthRepositoryUri",
                "registry.ChatRepositoryUri",
                "registry.WebRepositoryUri",
                "data.DatabaseEndpoint",
                "data.DatabaseSecretArn",
                "edge.ApiTargetGroupArn",
                "edge.AuthTargetGroupArn",
                "edge.ChatTargetGroupArn",
                "edge.WebTargetGroupArn",
                "services.ApiUploadsBucketName",
            ]
        );
    }
}
