//! Taking a platform down: every stack of it in the account, in reverse dependency order
//! (a stack goes once every stack reading its outputs is gone; independent ones in parallel).
//!
//! Nothing is lost or forgotten: resources whose template says `DeletionPolicy: Retain` stay
//! in the account, a `Snapshot` database leaves its final snapshot, and [`Teardown::kept`]
//! lists every one of them (type, stack and logical id, physical id) from the deployed
//! templates and `DescribeStackResources`. Deletion protection (database, cluster, load
//! balancer) is checked first: destroy deletes nothing while a resource would refuse, and
//! says how to lift the protection, so it never stops halfway.

use crate::schedule::{self, Stop};
use crate::stack::Review;
use crate::{Deployer, Error, StackResource};
use acme_synth::{Artifacts, StackName};
use serde_json::Value;

impl Deployer {
    /// Empty `bucket` (every object version and delete marker) and delete it: the staging
    /// bucket, which the keys stack retains, when `destroy --remove-staging-bucket` asks.
    /// Gives how many versions went.
    pub async fn remove_bucket(&self, bucket: &str) -> Result<usize, Error> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        let mut removed = 0;
        loop {
            let listed = self
                .s3
                .list_object_versions()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| Error::aws(bucket, "ListObjectVersions", e))?;
            let versions = listed.versions().iter().map(|v| (v.key(), v.version_id()));
            let markers = listed.delete_markers().iter().map(|m| (m.key(), m.version_id()));
            let objects: Vec<ObjectIdentifier> = versions
                .chain(markers)
                .filter_map(|(key, version)| {
                    ObjectIdentifier::builder().key(key?).set_version_id(version.map(str::to_owned)).build().ok()
                })
                .collect();
            if objects.is_empty() {
                break;
            }
            removed += objects.len();
            let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build().map_err(|e| Error::Aws {
                stack_name: bucket.to_owned(),
                operation: "DeleteObjects",
                code: None,
                message: e.to_string(),
            })?;
            self.s3
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| Error::aws(bucket, "DeleteObjects", e))?;
        }
        self.s3.delete_bucket().bucket(bucket).send().await.map_err(|e| Error::aws(bucket, "DeleteBucket", e))?;
        Ok(removed)
    }
}

/// What a destroy would do.
#[derive(Clone, Debug, PartialEq)]
pub struct Teardown {
    pub platform: String,
    /// The platform's stacks that exist, in deletion order.
    pub stacks: Vec<Doomed>,
    /// Resources that stay in the account.
    pub kept: Vec<Kept>,
    /// Resources whose deletion protection would make the destroy fail.
    pub protected: Vec<Protection>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Doomed {
    pub stack: StackName,
    pub stack_name: String,
    pub status: String,
    /// Stacks that read this one's outputs: deleted first.
    pub read_by: Vec<StackName>,
}

impl schedule::Node for Doomed {
    type Key = StackName;
    fn key(&self) -> StackName {
        self.stack
    }
    fn name(&self) -> &str {
        &self.stack_name
    }
    /// A stack goes once every stack reading it is gone.
    fn after(&self) -> &[StackName] {
        &self.read_by
    }
}

/// What a destroy did.
#[derive(Debug)]
pub struct Destroyed {
    /// Stacks deleted, in the order they went.
    pub deleted: Vec<String>,
    /// Why it stopped, if it did not finish.
    pub error: Option<Error>,
}

/// A resource the destroy leaves in the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    pub stack_name: String,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
    /// `Retain`: the resource stays. `Snapshot`: it is deleted after a final snapshot.
    pub policy: String,
}

/// A resource with deletion protection on, and the command that lifts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protection {
    pub stack_name: String,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: String,
    pub command: String,
}

impl Deployer {
    /// What destroying the platform of `artifacts` would do, read from the account.
    pub async fn teardown(&self, artifacts: &Artifacts, sdk: &aws_config::SdkConfig) -> Result<Teardown, Error> {
        let platform = &artifacts.plan.platform;
        let mut stacks = vec![];
        // Every stack the platform may have, not only those acme.yaml has now: a stack left
        // from an earlier shape of the file (a database since removed, a load balancer it
        // no longer fills) goes too.
        let last_shard = artifacts.shards.shards.iter().map(|s| s.index).max().unwrap_or(0);
        let edge_stacks = self.edge_stacks(platform, last_shard).await?;
        let kinds: Vec<StackName> = StackName::ALL
            .into_iter()
            .flat_map(|kind| match kind {
                StackName::Edge(_) => edge_stacks.iter().map(|(name, _)| *name).collect(),
                other => vec![other],
            })
            .collect();
        for (i, name) in kinds.iter().enumerate().rev() {
            let stack_name = acme_synth::stacks::names::stack(platform, *name);
            let state = match edge_stacks.iter().find(|(n, _)| n == name) {
                Some((_, state)) => state.clone(),
                None => match self.describe(&stack_name).await? {
                    Some(state) => state,
                    None => continue,
                },
            };
            let read_by = match artifacts.plan.stack(*name) {
                Some(_) => {
                    artifacts.plan.stacks.iter().filter(|s| s.depends_on.contains(name)).map(|s| s.name).collect()
                }
                // Unknown wiring: assume every later stack reads it.
                None => kinds[i + 1..].to_vec(),
            };
            stacks.push(Doomed { stack: *name, stack_name, status: state.status, read_by });
        }
        let mut kept = vec![];
        let mut protected = vec![];
        for s in &stacks {
            if s.status == "REVIEW_IN_PROGRESS" {
                continue;
            }
            let template = self.deployed_template(&s.stack_name).await?;
            let resources = self.resources(&s.stack_name).await?;
            kept.extend(kept_resources(&s.stack_name, &template, &resources));
            for r in &resources {
                if let Some(p) = protection(sdk, &s.stack_name, r).await? {
                    protected.push(p);
                }
            }
        }
        Ok(Teardown { platform: platform.clone(), stacks, kept, protected })
    }

    /// Delete the stacks of `teardown`. Refuses (deleting nothing) while a resource has
    /// deletion protection on. Stops starting deletions when `stop` fires. The stacks deleted
    /// are reported also when others fail, so that what they left behind can be listed.
    pub async fn destroy(&self, teardown: &Teardown, stop: Stop) -> Destroyed {
        if !teardown.protected.is_empty() {
            return Destroyed {
                deleted: vec![],
                error: Some(Error::Protected { protected: teardown.protected.clone() }),
            };
        }
        let ran = schedule::run(
            &teardown.stacks,
            "a stack reading its outputs could not be deleted",
            stop,
            |event| self.emit(event),
            |s, _| {
                let (deployer, stack_name) = (self.clone(), s.stack_name.clone());
                Ok(async move { deployer.delete_stack(&stack_name).await.map(|()| stack_name) })
            },
        )
        .await;
        Destroyed { deleted: ran.done.into_iter().map(|(_, stack_name)| stack_name).collect(), error: ran.error }
    }

    /// Wait for a stack that is busy, for `destroy` and `status`.
    pub async fn wait_settled(&self, stack_name: &str) -> Result<Option<crate::StackState>, Error> {
        self.settled(stack_name, Review::Settled, None).await
    }
}

/// The resources of a stack that its deployed template keeps (`DeletionPolicy` `Retain` or
/// `Snapshot`; an RDS instance without one is snapshotted, CloudFormation's default).
pub(crate) fn kept_resources(stack_name: &str, template: &Value, resources: &[StackResource]) -> Vec<Kept> {
    let Some(declared) = template.get("Resources").and_then(Value::as_object) else { return vec![] };
    declared
        .iter()
        .filter_map(|(id, r)| {
            let resource_type = r.get("Type").and_then(Value::as_str).unwrap_or_default();
            let policy = match r.get("DeletionPolicy").and_then(Value::as_str) {
                Some(p @ ("Retain" | "RetainExceptOnCreate" | "Snapshot")) => p,
                None if resource_type == "AWS::RDS::DBInstance" => "Snapshot",
                _ => return None,
            };
            // A resource the stack never created (or that failed to create) leaves nothing.
            let live = resources.iter().find(|x| &x.logical_id == id && x.physical_id.is_some())?;
            Some(Kept {
                stack_name: stack_name.to_owned(),
                logical_id: id.clone(),
                resource_type: resource_type.to_owned(),
                physical_id: live.physical_id.clone(),
                policy: policy.to_owned(),
            })
        })
        .collect()
}

/// Whether `r` has deletion protection on, read from its service. A resource the service
/// does not know (never created, or an emulator that skips the type) is not protected.
async fn protection(
    sdk: &aws_config::SdkConfig,
    stack_name: &str,
    r: &StackResource,
) -> Result<Option<Protection>, Error> {
    let Some(id) = r.physical_id.clone() else { return Ok(None) };
    let protected = |command: String| {
        Some(Protection {
            stack_name: stack_name.to_owned(),
            logical_id: r.logical_id.clone(),
            resource_type: r.resource_type.clone(),
            physical_id: id.clone(),
            command,
        })
    };
    let region = sdk.region().map(|r| r.as_ref().to_owned()).unwrap_or_default();
    match r.resource_type.as_str() {
        "AWS::RDS::DBInstance" => {
            let out = aws_sdk_rds::Client::new(sdk).describe_db_instances().db_instance_identifier(&id).send().await;
            let on = out.ok().and_then(|o| o.db_instances().first().and_then(|d| d.deletion_protection()));
            Ok(if on == Some(true) {
                protected(format!(
                    "aws rds modify-db-instance --region {region} --db-instance-identifier {id} \
                     --no-deletion-protection --apply-immediately"
                ))
            } else {
                None
            })
        }
        "AWS::EKS::Cluster" => {
            let out = aws_sdk_eks::Client::new(sdk).describe_cluster().name(&id).send().await;
            let on = out.ok().and_then(|o| o.cluster().and_then(|c| c.deletion_protection()));
            Ok(if on == Some(true) {
                protected(format!(
                    "aws eks update-cluster-config --region {region} --name {id} --no-deletion-protection"
                ))
            } else {
                None
            })
        }
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
            let out = aws_sdk_elasticloadbalancingv2::Client::new(sdk)
                .describe_load_balancer_attributes()
                .load_balancer_arn(&id)
                .send()
                .await;
            let on = out.ok().is_some_and(|o| {
                o.attributes()
                    .iter()
                    .any(|a| a.key() == Some("deletion_protection.enabled") && a.value() == Some("true"))
            });
            Ok(if on {
                protected(format!(
                    "aws elbv2 modify-load-balancer-attributes --region {region} --load-balancer-arn {id} \
                     --attributes Key=deletion_protection.enabled,Value=false"
                ))
            } else {
                None
            })
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(id: &str, ty: &str, physical: Option<&str>) -> StackResource {
        StackResource {
            logical_id: id.into(),
            physical_id: physical.map(Into::into),
            resource_type: ty.into(),
            status: "CREATE_COMPLETE".into(),
            reason: None,
        }
    }

    #[test]
    fn retained_and_snapshotted_resources_are_kept_with_their_ids() {
        let template = json!({ "Resources": {
            "DataKey": { "Type": "AWS::KMS::Key", "DeletionPolicy": "Retain" },
            "Database": { "Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Snapshot" },
            "Replica": { "Type": "AWS::RDS::DBInstance" },
            "Topic": { "Type": "AWS::SNS::Topic" },
            "Failed": { "Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain" },
            "Skipped": { "Type": "AWS::Backup::BackupVault", "DeletionPolicy": "Retain" }
        }});
        let resources = [
            resource("DataKey", "AWS::KMS::Key", Some("key-1")),
            resource("Database", "AWS::RDS::DBInstance", Some("acme-db")),
            resource("Replica", "AWS::RDS::DBInstance", Some("acme-replica")),
            resource("Topic", "AWS::SNS::Topic", Some("arn:topic")),
            resource("Failed", "AWS::S3::Bucket", None),
        ];
        let kept = kept_resources("acme-data", &template, &resources);
        let summary: Vec<(&str, Option<&str>, &str)> =
            kept.iter().map(|k| (k.logical_id.as_str(), k.physical_id.as_deref(), k.policy.as_str())).collect();
        assert_eq!(
            summary,
            [
                ("DataKey", Some("key-1"), "Retain"),
                ("Database", Some("acme-db"), "Snapshot"),
                ("Replica", Some("acme-replica"), "Snapshot")
            ]
        );
    }
}
