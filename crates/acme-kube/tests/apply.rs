//! Server-side apply, plan and pruning against the fake API server (`acme_kube::testing`).

use acme_kube::testing::FakeApiServer;
use acme_kube::{Action, Change, Error, FieldChange, ObjectRef, Prune};
use serde_json::{Value, json};

const PLATFORM: &str = "acme";

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn deployment(image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "shop", "labels": {"app.kubernetes.io/name": "api"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "api"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "api"}},
                "spec": {"serviceAccountName": "api", "containers": [{"name": "api", "image": image}]}
            }
        }
    })
}

/// One service's objects, deliberately out of apply order.
fn objects(image: &str) -> Vec<Value> {
    vec![
        json!({"apiVersion": "eks.amazonaws.com/v1", "kind": "TargetGroupBinding",
               "metadata": {"name": "api", "namespace": "shop"},
               "spec": {"serviceRef": {"name": "api", "port": 8080}, "targetGroupARN": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/0123456789abcdef"}}),
        deployment(image),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "shop"},
               "spec": {"selector": {"app.kubernetes.io/name": "api"}, "ports": [{"port": 8080}]}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "api", "namespace": "shop"}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "default-deny", "namespace": "shop"},
               "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
        namespace("shop"),
    ]
}

fn actions(changes: &[Change]) -> Vec<(String, Action)> {
    changes.iter().map(|c| (c.object.to_string(), c.action.clone())).collect()
}

fn all(changes: &[Change], action: Action) -> bool {
    changes.iter().all(|c| c.action == action)
}

const APPLY_ORDER: [&str; 6] = [
    "Namespace shop",
    "ServiceAccount shop/api",
    "NetworkPolicy shop/default-deny",
    "Service shop/api",
    "Deployment shop/api",
    "TargetGroupBinding shop/api",
];

#[tokio::test]
async fn apply_creates_in_order_and_a_second_apply_changes_nothing() {
    let server = FakeApiServer::start().await;
    let cluster = server.cluster();
    let mut seen = Vec::new();
    let applied = cluster
        .apply(PLATFORM, &objects("api:1"), Prune::Delete, &mut |c| seen.push(c.object.to_string()))
        .await
        .unwrap();
    assert_eq!(actions(&applied.changes), APPLY_ORDER.map(|o| (o.to_owned(), Action::Create)));
    assert_eq!(seen, APPLY_ORDER);

    // Written with server-side apply under acmectl's field manager, forced, for real.
    let patches: Vec<_> = server.requests().into_iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(patches.len(), 6);
    for patch in &patches {
        assert!(patch.uri.contains("fieldManager=acmectl") && patch.uri.contains("force=true"), "{}", patch.uri);
        assert!(!patch.uri.contains("dryRun"), "{}", patch.uri);
    }
    let stored = server.get("apps/v1", "Deployment", Some("shop"), "api").unwrap();
    assert_eq!(stored["spec"]["template"]["spec"]["containers"][0]["image"], "api:1");
    assert_eq!(stored["metadata"]["managedFields"][0]["manager"], "acmectl");
    // Labelled as acmectl's, for pruning.
    assert_eq!(stored["metadata"]["labels"]["app.kubernetes.io/managed-by"], "acmectl");
    assert_eq!(stored["metadata"]["labels"]["app.kubernetes.io/part-of"], PLATFORM);

    let plan = cluster.plan(PLATFORM, &objects("api:1")).await.unwrap();
    assert!(all(&plan.changes, Action::Unchanged), "{:#?}", plan.changes);
    assert!(!plan.has_changes());
    let before = server.objects();
    let again = cluster.apply(PLATFORM, &objects("api:1"), Prune::Delete, &mut |_| {}).await.unwrap();
    assert!(all(&again.changes, Action::Unchanged), "{:#?}", again.changes);
    assert_eq!(server.objects(), before, "a no-op apply writes nothing");
}

#[tokio::test]
async fn a_plan_is_a_dry_run_that_stores_nothing() {
    let server = FakeApiServer::start().await;
    let cluster = server.cluster();
    let before = server.objects();
    let plan = cluster.plan(PLATFORM, &objects("api:1")).await.unwrap();
    // Objects in the namespace the plan creates cannot be dry run; they are creations too.
    assert_eq!(actions(&plan.changes), APPLY_ORDER.map(|o| (o.to_owned(), Action::Create)));
    assert!(plan.has_changes());
    assert_eq!(server.objects(), before);
    let patches: Vec<_> = server.requests().into_iter().filter(|r| r.method == "PATCH").collect();
    assert!(!patches.is_empty());
    assert!(patches.iter().all(|r| r.uri.contains("dryRun=All")), "{patches:?}");
}

#[tokio::test]
async fn a_changed_object_shows_the_fields_that_change() {
    let server = FakeApiServer::start().await;
    let cluster = server.cluster();
    cluster.apply(PLATFORM, &objects("api:1"), Prune::Delete, &mut |_| {}).await.unwrap();
    let before = server.objects();

    let mut changed = objects("api:2");
    changed[1]["metadata"]["labels"]["tier"] = json!("web");
    let plan = cluster.plan(PLATFORM, &changed).await.unwrap();
    let updates: Vec<_> = plan.changes.iter().filter(|c| c.action != Action::Unchanged).collect();
    assert_eq!(updates.len(), 1, "{:#?}", plan.changes);
    assert_eq!(updates[0].object.to_string(), "Deployment shop/api");
    assert_eq!(
        updates[0].action,
        Action::Update {
            fields: vec![
                FieldChange { path: "metadata.labels.tier".into(), before: None, after: Some(json!("web")) },
                FieldChange {
                    path: "spec.template.spec.containers[name=api].image".into(),
                    before: Some(json!("api:1")),
                    after: Some(json!("api:2")),
                },
            ]
        }
    );
    assert_eq!(server.objects(), before, "the plan stored nothing");

    // The apply does what the plan said, and a field acmectl stops setting goes away.
    let applied = cluster.apply(PLATFORM, &changed, Prune::Delete, &mut |_| {}).await.unwrap();
    assert_eq!(applied.changes.iter().find(|c| c.object.kind == "Deployment").unwrap().action, updates[0].action);
    let plan = cluster.plan(PLATFORM, &objects("api:2")).await.unwrap();
    let fields = plan.changes.iter().find_map(|c| match &c.action {
        Action::Update { fields } => Some(fields.clone()),
        _ => None,
    });
    assert_eq!(
        fields,
        Some(vec![FieldChange { path: "metadata.labels.tier".into(), before: Some(json!("web")), after: None }])
    );
    cluster.apply(PLATFORM, &objects("api:2"), Prune::Delete, &mut |_| {}).await.unwrap();
    let stored = server.get("apps/v1", "Deployment", Some("shop"), "api").unwrap();
    assert!(stored["metadata"]["labels"].get("tier").is_none(), "{stored:#}");
}

#[tokio::test]
async fn a_field_changed_by_hand_is_a_conflict_the_plan_names_and_the_apply_takes_back() {
    let server = FakeApiServer::start().await;
    let cluster = server.cluster();
    cluster.apply(PLATFORM, &objects("api:1"), Prune::Delete, &mut |_| {}).await.unwrap();

    // Someone scales the Deployment by hand with their own field manager.
    let api: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        server.client(),
        "shop",
        &kube::discovery::ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk("apps", "v1", "Deployment")),
    );
    let scale = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"}, "spec": {"replicas": 5}});
    api.patch("api", &kube::api::PatchParams::apply("kubectl-edit").force(), &kube::api::Patch::Apply(&scale))
        .await
        .unwrap();

    let plan = cluster.plan(PLATFORM, &objects("api:1")).await.unwrap();
    let change = plan.changes.iter().find(|c| c.object.kind == "Deployment").unwrap();
    assert_eq!(
        change.action,
        Action::Update {
            fields: vec![FieldChange { path: "spec.replicas".into(), before: Some(json!(5)), after: Some(json!(2)) }]
        }
    );
    let conflicts = change.conflicts.as_deref().expect("the conflict is reported");
    assert!(conflicts.contains("kubectl-edit") && conflicts.contains(".spec.replicas"), "{conflicts}");

    cluster.apply(PLATFORM, &objects("api:1"), Prune::Delete, &mut |_| {}).await.unwrap();
    assert_eq!(server.get("apps/v1", "Deployment", Some("shop"), "api").unwrap()["spec"]["replicas"], 2);
    let plan = cluster.plan(PLATFORM, &objects("api:1")).await.unwrap();
    assert!(plan.changes.iter().all(|c| c.conflicts.is_none() && c.action == Action::Unchanged), "{:#?}", plan.changes);
}

#[tokio::test]
async fn pruning_finds_what_acmectl_owns_and_no_longer_synthesizes() {
    let server = FakeApiServer::start().await;
    let cluster = server.cluster();
    let mut with_worker = objects("api:1");
    let mut worker = deployment("worker:1");
    worker["metadata"]["name"] = json!("worker");
    with_worker.push(worker);
    with_worker.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "worker", "namespace": "shop"}, "data": {"a": "b"}}));
    cluster.apply(PLATFORM, &with_worker, Prune::Delete, &mut |_| {}).await.unwrap();
    // What acmectl must not touch: another platform's object, an object without its labels,
    // and one a controller made (it has an owner).
    server.insert(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "theirs", "namespace": "shop",
        "labels": {"app.kubernetes.io/managed-by": "acmectl", "app.kubernetes.io/part-of": "other"}}}));
    server
        .insert(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "by-hand", "namespace": "shop"}}));
    server.insert(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "made", "namespace": "shop",
        "labels": {"app.kubernetes.io/managed-by": "acmectl", "app.kubernetes.io/part-of": PLATFORM},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "uid": "1"}]}}));

    let plan = cluster.plan(PLATFORM, &objects("api:1")).await.unwrap();
    let deletes: Vec<String> = plan.orphans().map(ToString::to_string).collect();
    // Deletions come last, in reverse apply order.
    assert_eq!(deletes, ["Deployment shop/worker", "ConfigMap shop/worker"]);
    assert_eq!(plan.changes.last().unwrap().action, Action::Delete);

    let kept = cluster.apply(PLATFORM, &objects("api:1"), Prune::Keep, &mut |_| {}).await.unwrap();
    let kept_names: Vec<String> = kept.orphans_kept.iter().map(ToString::to_string).collect();
    assert_eq!(kept_names, deletes);
    assert!(kept.changes.iter().all(|c| c.action != Action::Delete));
    assert!(server.get("apps/v1", "Deployment", Some("shop"), "worker").is_some());

    let pruned = cluster.apply(PLATFORM, &objects("api:1"), Prune::Delete, &mut |_| {}).await.unwrap();
    let deleted: Vec<String> =
        pruned.changes.iter().filter(|c| c.action == Action::Delete).map(|c| c.object.to_string()).collect();
    assert_eq!(deleted, deletes);
    assert!(pruned.orphans_kept.is_empty());
    assert!(server.get("apps/v1", "Deployment", Some("shop"), "worker").is_none());
    assert!(server.get("v1", "ConfigMap", Some("shop"), "worker").is_none());
    for name in ["theirs", "by-hand", "made"] {
        assert!(server.get("v1", "ConfigMap", Some("shop"), name).is_some(), "{name} was pruned");
    }
    let plan = cluster.plan(PLATFORM, &objects("api:1")).await.unwrap();
    assert_eq!(plan.orphans().count(), 0);
}

#[tokio::test]
async fn a_kind_the_cluster_lacks_stops_the_apply_before_anything_changes() {
    let server = FakeApiServer::start_without_auto_mode().await;
    let cluster = server.cluster();
    let before = server.objects();
    let err = cluster.apply(PLATFORM, &objects("api:1"), Prune::Delete, &mut |_| {}).await.unwrap_err();
    match &err {
        Error::KindNotServed { api_version, kind, object, help } => {
            assert_eq!(
                (api_version.as_str(), kind.as_str(), object.as_str()),
                ("eks.amazonaws.com/v1", "TargetGroupBinding", "TargetGroupBinding shop/api")
            );
            assert!(help.contains("Auto Mode"), "{help}");
        }
        other => panic!("{other}"),
    }
    assert!(
        err.to_string().starts_with("the cluster does not serve TargetGroupBinding in eks.amazonaws.com/v1"),
        "{err}"
    );
    assert_eq!(server.objects(), before, "nothing was applied");
    assert!(server.requests().iter().all(|r| r.method == "GET"));
    // A plan says the same.
    assert!(matches!(cluster.plan(PLATFORM, &objects("api:1")).await, Err(Error::KindNotServed { .. })));
}

#[tokio::test]
async fn bad_input_is_refused_before_any_request() {
    let server = FakeApiServer::start().await;
    let cluster = server.cluster();
    let twice = vec![namespace("shop"), namespace("shop")];
    assert!(matches!(cluster.plan(PLATFORM, &twice).await, Err(Error::DuplicateObject { .. })));
    let mut foreign = namespace("shop");
    foreign["metadata"]["labels"] = json!({"app.kubernetes.io/part-of": "other"});
    assert!(matches!(cluster.plan(PLATFORM, &[foreign]).await, Err(Error::Ownership { .. })));
    let nameless = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "shop"}});
    assert!(matches!(
        cluster.plan(PLATFORM, &[namespace("shop"), nameless]).await,
        Err(Error::InvalidObject { index: 1, .. })
    ));
    assert!(server.requests().is_empty());

    let unplaced = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    let err = cluster.plan(PLATFORM, &[unplaced]).await.unwrap_err();
    assert!(err.to_string().contains("ConfigMap c is namespaced and has no metadata.namespace"), "{err}");
}

#[tokio::test]
async fn a_kubeconfig_reaches_the_cluster_with_its_context() {
    let server = FakeApiServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, server.kubeconfig()).unwrap();

    let cluster = acme_kube::Cluster::kubeconfig(Some(&path), Some("fake")).await.unwrap();
    assert!(cluster.description().starts_with("kubeconfig context fake"), "{}", cluster.description());
    let plan = cluster.plan(PLATFORM, &[namespace("shop")]).await.unwrap();
    assert_eq!(
        plan.changes[0].object,
        ObjectRef { api_version: "v1".into(), kind: "Namespace".into(), namespace: None, name: "shop".into() }
    );
    assert!(server.requests().iter().all(|r| r.authorization.as_deref() == Some("Bearer fake-token")));

    let err = acme_kube::Cluster::kubeconfig(Some(&path), Some("prod")).await.err().expect("no such context");
    assert!(matches!(err, Error::Kubeconfig { .. }) && err.to_string().contains("prod"), "{err}");
    let err =
        acme_kube::Cluster::kubeconfig(Some(&dir.path().join("missing")), None).await.err().expect("no such file");
    assert!(err.to_string().contains("missing"), "{err}");
}

#[tokio::test]
async fn an_unreachable_cluster_is_an_error_that_says_why() {
    let server = FakeApiServer::start().await;
    let cluster = server.cluster();
    drop(server);
    let err = cluster.plan(PLATFORM, &[namespace("shop")]).await.unwrap_err();
    assert!(matches!(err, Error::Api { code: None, .. }), "{err}");
    assert!(err.to_string().to_lowercase().contains("connect"), "{err}");
}

#[tokio::test]
async fn a_kind_the_credentials_may_not_list_is_reported_not_fatal() {
    let server = FakeApiServer::start().await;
    let cluster = server.cluster();
    server.forbid("list", "ClusterRole");
    let plan = cluster.plan(PLATFORM, &objects("api:1")).await.unwrap();
    assert_eq!(plan.prune_unchecked.len(), 1, "{:?}", plan.prune_unchecked);
    assert!(plan.prune_unchecked[0].starts_with(
        "ClusterRole in rbac.authorization.k8s.io/v1: clusterroles.rbac.authorization.k8s.io is forbidden"
    ));
    let applied = cluster.apply(PLATFORM, &objects("api:1"), Prune::Delete, &mut |_| {}).await.unwrap();
    assert_eq!(applied.prune_unchecked, plan.prune_unchecked);

    // Forbidden elsewhere is an error that names the object and keeps the server's words.
    server.forbid("patch", "Deployment");
    let err = cluster.apply(PLATFORM, &objects("api:2"), Prune::Delete, &mut |_| {}).await.unwrap_err();
    assert_eq!(err.code(), Some(403));
    assert!(err.to_string().starts_with("apply Deployment shop/api: "), "{err}");
    assert!(err.to_string().contains("cannot patch resource \"deployments\""), "{err}");
}
