//! Deployment rollouts, judged as `kubectl rollout status` judges them, with the two ways a
//! rollout fails said at once instead of waiting out the timeout.

use crate::Cluster;
use crate::error::Error;
use futures::{StreamExt, stream};
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Which Deployment.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DeploymentRef {
    pub namespace: String,
    pub name: String,
}

impl DeploymentRef {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        DeploymentRef { namespace: namespace.into(), name: name.into() }
    }
}

impl fmt::Display for DeploymentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Where a rollout stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "lowercase")]
pub enum Phase {
    /// Still rolling out; the message says what it waits for.
    Progressing {
        message: String,
    },
    Complete,
    /// It will not finish by itself: `ProgressDeadlineExceeded`, `ReplicaFailure` (pods cannot
    /// be created: quota, admission), or the Deployment is paused.
    Failed {
        reason: String,
        message: String,
    },
}

/// A Deployment's rollout, as read from its status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutState {
    pub deployment: DeploymentRef,
    pub generation: i64,
    pub observed_generation: i64,
    /// Replicas wanted (`spec.replicas`, 1 when unset).
    pub desired: i32,
    /// Pods of any version (`status.replicas`).
    pub current: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    /// Container name → image, from the pod template: what runs once the rollout completes.
    pub images: BTreeMap<String, String>,
    #[serde(flatten)]
    pub phase: Phase,
}

impl RolloutState {
    /// The state of `deployment` as the API server returned it.
    pub fn of(deployment: &Deployment) -> Self {
        let meta = &deployment.metadata;
        let spec = deployment.spec.as_ref();
        let status = deployment.status.clone().unwrap_or_default();
        let images = spec
            .and_then(|s| s.template.spec.as_ref())
            .map(|pod| pod.containers.iter().map(|c| (c.name.clone(), c.image.clone().unwrap_or_default())).collect())
            .unwrap_or_default();
        let mut state = RolloutState {
            deployment: DeploymentRef::new(
                meta.namespace.clone().unwrap_or_default(),
                meta.name.clone().unwrap_or_default(),
            ),
            generation: meta.generation.unwrap_or(0),
            observed_generation: status.observed_generation.unwrap_or(0),
            desired: spec.and_then(|s| s.replicas).unwrap_or(1),
            current: status.replicas.unwrap_or(0),
            updated: status.updated_replicas.unwrap_or(0),
            ready: status.ready_replicas.unwrap_or(0),
            available: status.available_replicas.unwrap_or(0),
            images,
            phase: Phase::Complete,
        };
        let conditions = status.conditions.unwrap_or_default();
        let condition = |kind: &str| conditions.iter().find(|c| c.type_ == kind);
        let failed = |reason: &str, message: Option<&String>| Phase::Failed {
            reason: reason.to_owned(),
            message: message.cloned().unwrap_or_default(),
        };
        state.phase = if spec.and_then(|s| s.paused) == Some(true) {
            failed("Paused", Some(&"the Deployment is paused; resume it (kubectl rollout resume)".to_owned()))
        } else if state.observed_generation < state.generation {
            progressing("waiting for the Deployment controller to observe the new spec".into())
        } else if let Some(c) =
            condition("Progressing").filter(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded"))
        {
            failed("ProgressDeadlineExceeded", c.message.as_ref())
        } else if let Some(c) = condition("ReplicaFailure").filter(|c| c.status == "True") {
            failed(&format!("ReplicaFailure ({})", c.reason.as_deref().unwrap_or("unknown")), c.message.as_ref())
        } else if state.updated < state.desired {
            progressing(format!("{} of {} new replicas updated", state.updated, state.desired))
        } else if state.current > state.updated {
            progressing(format!("{} old replicas pending termination", state.current - state.updated))
        } else if state.available < state.updated {
            progressing(format!("{} of {} updated replicas available", state.available, state.updated))
        } else {
            Phase::Complete
        };
        state
    }
}

fn progressing(message: String) -> Phase {
    Phase::Progressing { message }
}

/// `api/web: 2 of 3 new replicas updated`.
impl fmt::Display for RolloutState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.phase {
            Phase::Progressing { message } => write!(f, "{}: {message}", self.deployment),
            Phase::Complete => write!(f, "{}: rolled out ({} available)", self.deployment, self.available),
            Phase::Failed { reason, message } => write!(f, "{}: failed: {reason}: {message}", self.deployment),
        }
    }
}

/// How long to wait, and how often to look.
#[derive(Clone, Copy, Debug)]
pub struct Wait {
    pub timeout: Duration,
    pub poll_interval: Duration,
}

impl Default for Wait {
    /// Eleven minutes: a minute past Kubernetes' default progress deadline (600 s), so a stuck
    /// rollout ends as `ProgressDeadlineExceeded` with the controller's reason, not as a
    /// timeout that says less.
    fn default() -> Self {
        Wait { timeout: Duration::from_secs(11 * 60), poll_interval: Duration::from_secs(2) }
    }
}

impl Cluster {
    /// The rollout state of a Deployment, `None` if it does not exist.
    pub async fn rollout(&self, deployment: &DeploymentRef) -> Result<Option<RolloutState>, Error> {
        let client = self.client().await?;
        let api: Api<Deployment> = Api::namespaced(client, &deployment.namespace);
        let found = api
            .get_opt(&deployment.name)
            .await
            .map_err(|e| Error::api("read", format!("Deployment {deployment}"), e))?;
        Ok(found.as_ref().map(RolloutState::of))
    }

    /// The image of each container of a Deployment's pod template, `None` if the Deployment
    /// does not exist. A deploy without a new tag keeps these.
    pub async fn images(&self, deployment: &DeploymentRef) -> Result<Option<BTreeMap<String, String>>, Error> {
        Ok(self.rollout(deployment).await?.map(|state| state.images))
    }

    /// Waits until every Deployment has rolled out, calling `on_progress` whenever one's
    /// state changes. Fails as soon as one fails, naming it and the controller's reason; on
    /// timeout, names those still rolling out.
    pub async fn wait_for_rollouts(
        &self,
        deployments: &[DeploymentRef],
        wait: Wait,
        on_progress: &mut (dyn FnMut(&RolloutState) + Send),
    ) -> Result<Vec<RolloutState>, Error> {
        let started = tokio::time::Instant::now();
        let mut last: BTreeMap<&DeploymentRef, RolloutState> = BTreeMap::new();
        let mut pending: Vec<&DeploymentRef> = deployments.iter().collect();
        loop {
            let mut reads = stream::iter(pending.clone())
                .map(|d| async move { (d, self.rollout(d).await) })
                .buffered(crate::apply::CONCURRENCY);
            let mut still = Vec::new();
            while let Some((d, state)) = reads.next().await {
                let state = state?.ok_or_else(|| Error::DeploymentNotFound { deployment: d.to_string() })?;
                if last.get(d) != Some(&state) {
                    on_progress(&state);
                }
                match &state.phase {
                    Phase::Failed { reason, message } => {
                        return Err(Error::RolloutFailed {
                            deployment: d.to_string(),
                            reason: reason.clone(),
                            message: message.clone(),
                        });
                    }
                    Phase::Progressing { .. } => still.push(d),
                    Phase::Complete => {}
                }
                last.insert(d, state);
            }
            drop(reads);
            pending = still;
            if pending.is_empty() {
                return Ok(deployments.iter().filter_map(|d| last.remove(d)).collect());
            }
            let waited = started.elapsed();
            if waited >= wait.timeout {
                let names: Vec<String> = pending.iter().map(|d| d.to_string()).collect();
                let states: Vec<String> = pending.iter().filter_map(|d| last.get(d)).map(ToString::to_string).collect();
                return Err(Error::RolloutTimedOut { deployment: names.join(", "), waited, state: states.join("; ") });
            }
            tokio::time::sleep(wait.poll_interval.min(wait.timeout - waited)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(generation: i64, status: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "api", "namespace": "shop", "generation": generation},
            "spec": {"replicas": 3, "selector": {}, "template": {"spec": {"containers": [{"name": "api", "image": "api:1.4.2"}]}}},
            "status": status,
        }))
        .unwrap()
    }

    fn phase(generation: i64, status: serde_json::Value) -> Phase {
        RolloutState::of(&deployment(generation, status)).phase
    }

    #[test]
    fn a_rollout_completes_when_every_replica_is_new_and_available() {
        let state = RolloutState::of(&deployment(
            2,
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}),
        ));
        assert_eq!(state.phase, Phase::Complete);
        assert_eq!(state.images, BTreeMap::from([("api".to_owned(), "api:1.4.2".to_owned())]));
        assert_eq!(state.to_string(), "shop/api: rolled out (3 available)");
    }

    #[test]
    fn each_stage_of_a_rollout_says_what_it_waits_for() {
        let message = |p: Phase| match p {
            Phase::Progressing { message } => message,
            other => panic!("{other:?}"),
        };
        assert!(
            message(phase(
                2,
                json!({"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3})
            ))
            .contains("observe")
        );
        assert_eq!(
            message(phase(2, json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 1}))),
            "1 of 3 new replicas updated"
        );
        assert_eq!(
            message(phase(2, json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3}))),
            "1 old replicas pending termination"
        );
        assert_eq!(
            message(phase(
                2,
                json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 2})
            )),
            "2 of 3 updated replicas available"
        );
    }

    #[test]
    fn deadline_exceeded_and_replica_failure_fail_with_the_controllers_reason() {
        let deadline = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "conditions": [
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"api-7d\" has timed out progressing."}]});
        assert_eq!(
            phase(2, deadline),
            Phase::Failed {
                reason: "ProgressDeadlineExceeded".into(),
                message: "ReplicaSet \"api-7d\" has timed out progressing.".into()
            }
        );

        let quota = json!({"observedGeneration": 2, "updatedReplicas": 0, "conditions": [
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetCreated"},
            {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "pods \"api-7d-x\" is forbidden: exceeded quota"}]});
        let Phase::Failed { reason, message } = phase(2, quota) else { panic!() };
        assert_eq!(reason, "ReplicaFailure (FailedCreate)");
        assert!(message.contains("exceeded quota"));

        let healthy = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3, "conditions": [
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            {"type": "ReplicaFailure", "status": "False"}]});
        assert_eq!(phase(2, healthy), Phase::Complete);
    }
}
