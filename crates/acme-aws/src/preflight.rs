//! Checks made before any change: who acmectl acts as (so the output can say which account
//! it is about to change), and whether the Region can hold the platform.

use crate::Error;
use acme_spec::Platform;
use aws_config::SdkConfig;
use aws_sdk_ec2::types::Filter;
use aws_smithy_types::error::display::DisplayErrorContext;

/// The account and identity acmectl acts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub account_id: String,
    /// The caller's ARN (user, or assumed role and session).
    pub arn: String,
    pub region: String,
}

/// `GetCallerIdentity`, then the Region's availability zones against `network.zones`.
pub async fn preflight(sdk: &SdkConfig, platform: &Platform) -> Result<Account, Error> {
    let account = caller(sdk).await?;
    zones(sdk, platform, &account.region).await?;
    Ok(account)
}

/// Who the credentials belong to. No credentials at all is told apart from a refusal.
pub async fn caller(sdk: &SdkConfig) -> Result<Account, Error> {
    let region = sdk.region().map(|r| r.as_ref().to_owned()).unwrap_or_default();
    // The first call of a run: an endpoint that refuses connections should fail in a second,
    // not after the eight attempts the other calls get.
    let quick = sdk.to_builder().retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2)).build();
    let out = aws_sdk_sts::Client::new(&quick).get_caller_identity().send().await.map_err(|e| {
        let message = DisplayErrorContext(&e).to_string();
        if is_missing_credentials(&message) {
            Error::NoCredentials(message)
        } else {
            Error::aws(&region, "GetCallerIdentity", e)
        }
    })?;
    Ok(Account {
        account_id: out.account().unwrap_or_default().to_owned(),
        arn: out.arn().unwrap_or_default().to_owned(),
        region,
    })
}

/// The SDK's ways of saying that no provider of the chain had credentials.
fn is_missing_credentials(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("no credentials") || m.contains("credentials provider") || m.contains("provided credentials")
}

/// The platform's subnets go to zone slots `0..n` (`Fn::Select` over `Fn::GetAZs`): the
/// Region must offer that many zones to the account, or the network stack fails midway.
pub async fn zones(sdk: &SdkConfig, platform: &Platform, region: &str) -> Result<Vec<String>, Error> {
    let out = aws_sdk_ec2::Client::new(sdk)
        .describe_availability_zones()
        .filters(Filter::builder().name("zone-type").values("availability-zone").build())
        .filters(Filter::builder().name("state").values("available").build())
        .send()
        .await
        .map_err(|e| Error::aws(region, "DescribeAvailabilityZones", e))?;
    let mut available: Vec<String> =
        out.availability_zones().iter().filter_map(|z| z.zone_name()).map(str::to_owned).collect();
    available.sort();
    let needed = platform.network.subnets().iter().map(|z| usize::from(z.zone) + 1).max().unwrap_or(0);
    if available.len() < needed {
        return Err(Error::Preflight(format!(
            "{region} offers {} availability zone{} to this account ({}), and acme.yaml's network.zones asks for \
             {needed}; nothing was changed\nhelp: set network.zones to {} or fewer, or choose a Region with more \
             zones",
            available.len(),
            if available.len() == 1 { "" } else { "s" },
            available.join(", "),
            available.len()
        )));
    }
    Ok(available)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdks_words_for_no_credentials_are_recognized() {
        assert!(is_missing_credentials(
            "dispatch failure: other: no credentials provider was found, so requests cannot be signed"
        ));
        assert!(is_missing_credentials(
            "failed to construct request: the credential provider was not enabled: no providers in chain provided credentials"
        ));
        assert!(!is_missing_credentials(
            "service error: ExpiredToken: The security token included in the request is expired"
        ));
    }
}
