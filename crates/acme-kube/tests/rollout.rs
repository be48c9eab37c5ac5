//! Rollout waits against the fake API server, whose Deployment status the test advances.

use acme_kube::testing::FakeApiServer;
use acme_kube::{DeploymentRef, Error, Phase, Prune, RolloutState, Wait};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

async fn server_with(deployments: &[&str]) -> FakeApiServer {
    let server = FakeApiServer::start().await;
    let mut objects = vec![json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})];
    for name in deployments {
        objects.push(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "shop"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": name, "image": format!("{name}:1.4.2")}, {"name": "proxy", "image": "envoy:1"}]}}}
        }));
    }
    server.cluster().apply("acme", &objects, Prune::Keep, &mut |_| {}).await.unwrap();
    server
}

fn quick(timeout_ms: u64) -> Wait {
    Wait { timeout: Duration::from_millis(timeout_ms), poll_interval: Duration::from_millis(20) }
}

#[tokio::test]
async fn a_rollout_is_followed_until_it_completes() {
    let server = Arc::new(server_with(&["api", "web"]).await);
    let cluster = server.cluster();
    let targets = [DeploymentRef::new("shop", "api"), DeploymentRef::new("shop", "web")];
    server.roll_out("shop", "web");

    // The test plays the Deployment controller: each state the wait reports moves the
    // rollout one step on, so no state can be missed however slow the machine.
    let mut seen: Vec<String> = Vec::new();
    let controller = server.clone();
    let mut step = 0;
    let mut on_progress = |s: &RolloutState| {
        seen.push(s.to_string());
        if s.deployment.name == "api" {
            step += 1;
            match step {
                1 => controller.progress("shop", "api", 1, 0),
                2 => controller.progress("shop", "api", 3, 2),
                3 => controller.roll_out("shop", "api"),
                _ => {}
            }
        }
    };
    let done = cluster.wait_for_rollouts(&targets, quick(10_000), &mut on_progress).await.unwrap();

    assert!(done.iter().all(|s| s.phase == Phase::Complete), "{done:?}");
    assert_eq!(done.iter().map(|s| s.deployment.name.as_str()).collect::<Vec<_>>(), ["api", "web"]);
    // Each state once, in the order the controller went through them.
    let api: Vec<&str> = seen.iter().filter(|s| s.starts_with("shop/api")).map(String::as_str).collect();
    assert_eq!(
        api,
        [
            "shop/api: waiting for the Deployment controller to observe the new spec",
            "shop/api: 1 of 3 new replicas updated",
            "shop/api: 2 of 3 updated replicas available",
            "shop/api: rolled out (3 available)",
        ]
    );
    assert_eq!(seen.iter().filter(|s| s.starts_with("shop/web")).count(), 1);
}

#[tokio::test]
async fn a_rollout_that_does_not_finish_times_out_naming_what_it_waits_for() {
    let server = server_with(&["api", "web"]).await;
    server.roll_out("shop", "web");
    server.progress("shop", "api", 3, 1);
    let started = std::time::Instant::now();
    let err = server
        .cluster()
        .wait_for_rollouts(
            &[DeploymentRef::new("shop", "api"), DeploymentRef::new("shop", "web")],
            quick(300),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(5), "{elapsed:?}");
    match &err {
        Error::RolloutTimedOut { deployment, state, .. } => {
            assert_eq!(deployment, "shop/api");
            assert_eq!(state, "shop/api: 1 of 3 updated replicas available");
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn a_rollout_past_its_progress_deadline_fails_at_once_with_the_reason() {
    let server = server_with(&["api"]).await;
    server.exceed_progress_deadline("shop", "api");
    let started = std::time::Instant::now();
    let err = server
        .cluster()
        .wait_for_rollouts(&[DeploymentRef::new("shop", "api")], quick(10_000), &mut |_| {})
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "it failed without waiting out the timeout");
    match &err {
        Error::RolloutFailed { deployment, reason, message } => {
            assert_eq!((deployment.as_str(), reason.as_str()), ("shop/api", "ProgressDeadlineExceeded"));
            assert!(message.contains("has timed out progressing"), "{message}");
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn reading_state_and_images_of_a_deployment() {
    let server = server_with(&["api"]).await;
    let cluster = server.cluster();
    let api = DeploymentRef::new("shop", "api");
    server.set_status(
        "shop",
        "api",
        json!({"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}),
    );
    let state = cluster.rollout(&api).await.unwrap().unwrap();
    assert_eq!((state.desired, state.updated, state.available, state.phase), (3, 3, 3, Phase::Complete));

    let images = cluster.images(&api).await.unwrap().unwrap();
    assert_eq!(images.get("api").map(String::as_str), Some("api:1.4.2"));
    assert_eq!(images.get("proxy").map(String::as_str), Some("envoy:1"));

    let missing = DeploymentRef::new("shop", "gone");
    assert_eq!(cluster.images(&missing).await.unwrap(), None);
    let err = cluster.wait_for_rollouts(&[missing], quick(1_000), &mut |_| {}).await.unwrap_err();
    assert_eq!(err.to_string(), "Deployment shop/gone does not exist");
}
