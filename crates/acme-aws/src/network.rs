//! What CloudFormation cannot do to the network and the deploy does after it: empty the
//! VPC's default security group (the network stack's `DefaultSecurityGroupId` output), so
//! nothing that lands in it by default (an ENI created without a group) can talk to anything.

use crate::Error;
use aws_config::SdkConfig;

/// Revoke every ingress and egress rule of the security group `group_id`; how many rules
/// went. Idempotent: an empty group stays as it is.
pub async fn restrict_default_security_group(sdk: &SdkConfig, group_id: &str) -> Result<usize, Error> {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let out = ec2
        .describe_security_groups()
        .group_ids(group_id)
        .send()
        .await
        .map_err(|e| Error::aws(group_id, "DescribeSecurityGroups", e))?;
    let Some(group) = out.security_groups().first() else { return Ok(0) };
    let (ingress, egress) = (group.ip_permissions().to_vec(), group.ip_permissions_egress().to_vec());
    let revoked = ingress.len() + egress.len();
    if !ingress.is_empty() {
        ec2.revoke_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(ingress))
            .send()
            .await
            .map_err(|e| Error::aws(group_id, "RevokeSecurityGroupIngress", e))?;
    }
    if !egress.is_empty() {
        ec2.revoke_security_group_egress()
            .group_id(group_id)
            .set_ip_permissions(Some(egress))
            .send()
            .await
            .map_err(|e| Error::aws(group_id, "RevokeSecurityGroupEgress", e))?;
    }
    Ok(revoked)
}
