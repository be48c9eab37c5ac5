//! The Kubernetes half of `plan`, `deploy` and `status`: the services' objects built by the
//! same synthesis as `acmectl synth` writes, with the deploy-time values filled in (stack
//! outputs, image digests), applied with server-side apply (field manager `acmectl`) through
//! acme-kube, then rollouts and target health awaited.
//!
//! The cluster is the cluster stack's EKS cluster (a token presigned through STS, as
//! `aws eks get-token` makes it), or the one a kubeconfig names (`--kubeconfig`, `--context`).

use crate::cli::KubeArgs;
use crate::exit::Failure;
use acme_aws::Deployer;
use acme_kube::{Cluster, DeploymentRef, EksCluster};
use acme_spec::Platform;
use acme_synth::kubernetes::{ImageRef, Object, Values, manifests};
use acme_synth::stacks::names;
use acme_synth::{Artifacts, StackName};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The cluster to talk to, or why there is none yet.
pub async fn connect(
    args: &KubeArgs,
    sdk: &aws_config::SdkConfig,
    deployer: &Deployer,
    platform: &Platform,
) -> Result<Result<Cluster, String>, Failure> {
    if args.kubeconfig.is_some() || args.context.is_some() {
        let cluster = Cluster::kubeconfig(args.kubeconfig.as_deref(), args.context.as_deref()).await.map_err(kube)?;
        return Ok(Ok(cluster));
    }
    let stack = names::stack(&platform.name, StackName::Cluster);
    let Some(state) = deployer.describe(&stack).await? else {
        return Ok(Err(format!("{stack} is not deployed")));
    };
    match EksCluster::from_outputs(&state.outputs) {
        Ok(eks) => Ok(Ok(Cluster::eks(eks, sdk).await.map_err(kube)?)),
        Err(e) => Ok(Err(format!("{stack} gives no cluster to connect to ({e})"))),
    }
}

pub fn kube(e: acme_kube::Error) -> Failure {
    Failure::Aws(miette::miette!("{e}"))
}

/// What to apply: every object, or one service's.
pub struct Selection {
    pub objects: Vec<Value>,
    pub deployments: Vec<DeploymentRef>,
    /// Services left out: no image given and none running.
    pub without_image: Vec<String>,
    /// The services applied, for the target health wait.
    pub services: Vec<String>,
    /// The outputs of the deployed stacks the objects take values from, as read for them;
    /// the edge stack's hold the target groups whose health the deploy then waits for.
    pub outputs: BTreeMap<StackName, BTreeMap<String, String>>,
}

/// What the user asked for: `--image` tags by service, `--parameter` values by output name,
/// `--service`.
pub struct Wanted<'a> {
    pub images: &'a BTreeMap<String, String>,
    pub given: &'a BTreeMap<String, String>,
    pub only: Option<&'a str>,
}

/// The objects with real values: the outputs of the deployed stacks, and for each service
/// the digest of `--image NAME=TAG`, else the image its Deployment runs now. A service with
/// neither is left out (its first deploy needs `--image`).
pub async fn select(
    deployer: &Deployer,
    sdk: &aws_config::SdkConfig,
    cluster: &Cluster,
    platform: &Platform,
    artifacts: &Artifacts,
    wanted: &Wanted<'_>,
) -> Result<Selection, Failure> {
    let Wanted { images, given, only } = *wanted;
    let mut values = Values::placeholders();
    let needed = Values::outputs_needed(platform);
    // A `--parameter` stands in for the output of its name, here as for the stacks.
    for (stack, output) in &needed {
        if let Some(value) = given.get(output) {
            values.set_output(*stack, output, value.clone());
        }
    }
    let stacks: BTreeSet<StackName> = needed.iter().map(|(s, _)| *s).collect();
    let mut outputs = BTreeMap::new();
    for stack in stacks {
        let Some(plan_stack) = artifacts.plan.stack(stack) else { continue };
        if let Some(state) = deployer.describe(&plan_stack.stack_name).await? {
            for (s, output) in needed.iter().filter(|(s, o)| *s == stack && !given.contains_key(o)) {
                if let Some(value) = state.outputs.get(output) {
                    values.set_output(*s, output, value.clone());
                }
            }
            outputs.insert(stack, state.outputs);
        }
    }
    let mut without_image = vec![];
    for service in &platform.services {
        if only.is_some_and(|o| o != service.name) {
            continue;
        }
        let image = match images.get(&service.name) {
            Some(tag) => match acme_aws::images::digest(sdk, platform, &service.name, tag).await? {
                Some(digest) => Some(ImageRef::Digest(digest)),
                None => {
                    return Err(Failure::Input(miette::miette!(
                        help = "push the image first (CI does), or name a tag the repository has",
                        "--image {}={tag}: the repository {} has no image tagged {tag}",
                        service.name,
                        names::repository(platform, &service.name)
                    )));
                }
            },
            None => {
                let running = cluster
                    .images(&DeploymentRef::new(&service.namespace, &service.name))
                    .await
                    .map_err(kube)?
                    .and_then(|images| images.into_values().next());
                running.and_then(|image| running_image(&image))
            }
        };
        match image {
            Some(image) => {
                values.set_image(&service.name, image);
            }
            None => without_image.push(service.name.clone()),
        }
    }
    let built = manifests(platform, &values);
    let mut chosen: Vec<&Object> = vec![];
    if only.is_none() {
        chosen.extend(built.platform.iter());
    }
    let mut services = vec![];
    for (service, objects) in &built.services {
        if only.is_some_and(|o| o != service) || without_image.contains(service) {
            continue;
        }
        services.push(service.clone());
        chosen.extend(objects.iter());
    }
    let objects: Vec<Value> = chosen.iter().map(|o| o.to_value()).collect();
    let text = serde_json::to_string(&objects).unwrap_or_default();
    let unresolved: BTreeSet<&str> = Values::unresolved(&text).into_iter().collect();
    if !unresolved.is_empty() {
        return Err(Failure::Aws(miette::miette!(
            help = "deploy the stacks first (acmectl deploy without --service)",
            "the Kubernetes objects need values the account does not have yet: {}",
            unresolved.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    let deployments = chosen
        .iter()
        .filter(|o| o.kind() == "Deployment")
        .map(|o| DeploymentRef::new(o.namespace().unwrap_or("default"), o.name()))
        .collect();
    Ok(Selection { objects, deployments, without_image, services, outputs })
}

/// The image reference a running container has, as the deploy keeps it: by digest when it
/// has one, else by tag.
fn running_image(image: &str) -> Option<ImageRef> {
    if let Some((_, digest)) = image.split_once('@') {
        return Some(ImageRef::Digest(digest.to_owned()));
    }
    let last = image.rsplit('/').next()?;
    last.split_once(':').map(|(_, tag)| ImageRef::Tag(tag.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_image_is_kept_by_digest_or_tag() {
        assert_eq!(
            running_image("1234.dkr.ecr.us-east-1.amazonaws.com/acme/api@sha256:abc"),
            Some(ImageRef::Digest("sha256:abc".into()))
        );
        assert_eq!(running_image("registry:5000/acme/api:1.4.2"), Some(ImageRef::Tag("1.4.2".into())));
        assert_eq!(running_image("registry:5000/acme/api"), None);
    }
}
