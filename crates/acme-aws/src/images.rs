//! Image tags given on the command line (`--image api=1.4.2`), resolved to the digest the
//! repository holds for them, so what runs is pinned to the bytes that were scanned.

use crate::Error;
use acme_spec::Platform;
use acme_synth::stacks::names;
use aws_config::SdkConfig;
use aws_sdk_ecr::types::ImageIdentifier;

/// The digest (`sha256:…`) of `service`'s image tagged `tag`, from its ECR repository;
/// `None` when the repository does not know the tag (or there is no repository yet).
pub async fn digest(sdk: &SdkConfig, platform: &Platform, service: &str, tag: &str) -> Result<Option<String>, Error> {
    let repository = names::repository(platform, service);
    let out = aws_sdk_ecr::Client::new(sdk)
        .describe_images()
        .repository_name(&repository)
        .image_ids(ImageIdentifier::builder().image_tag(tag).build())
        .send()
        .await;
    match out {
        Ok(out) => Ok(out.image_details().first().and_then(|d| d.image_digest()).map(str::to_owned)),
        Err(e) => {
            use aws_sdk_ecr::error::ProvideErrorMetadata;
            match e.code() {
                Some("ImageNotFoundException" | "RepositoryNotFoundException") => Ok(None),
                _ => Err(Error::aws(&repository, "DescribeImages", e)),
            }
        }
    }
}
