//! A small fake Kubernetes API server for tests (feature `testing`): plain HTTP on 127.0.0.1,
//! one in-memory store, started by the test and stopped when dropped.
//!
//! It speaks enough of the API for acmectl's paths:
//! - discovery: `/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`, for the kinds it serves
//!   ([`Kind::BUILT_IN`], and [`Kind::AUTO_MODE`] unless started without them, to play a
//!   cluster without EKS Auto Mode);
//! - GET of one object and of lists (across namespaces or in one, `labelSelector` with `=`,
//!   `==` and `!=`); list items carry no `apiVersion`/`kind`, as the real server's do not;
//! - PATCH with `application/apply-patch+yaml` (JSON bodies, which kube-rs sends):
//!   server-side apply with `fieldManager`, `force` and `dryRun=All` (computed, not stored).
//!   Field ownership is tracked per leaf field: a field another manager set to another value
//!   is a 409 conflict unless forced, and fields a manager applied before and no longer
//!   applies are removed. Lists are atomic (the real server merges `containers` by name);
//!   there is no defaulting, admission or validation. A no-op apply writes nothing.
//!   `generation` rises when anything outside `metadata` and `status` changes;
//!   `resourceVersion` and `managedFields[].time` on every write. A namespaced object needs
//!   its Namespace, as on a real server;
//! - DELETE (a Namespace takes its objects with it, at once);
//! - Deployment status, which the test sets ([`FakeApiServer::roll_out`],
//!   [`FakeApiServer::progress`], [`FakeApiServer::exceed_progress_deadline`],
//!   [`FakeApiServer::set_status`]): no controller runs.
//!
//! Every request is recorded with its `Authorization` header ([`FakeApiServer::requests`]).

use crate::Cluster;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// A kind the fake serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
}

const fn kind(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Kind {
    Kind { group, version, kind, plural, namespaced }
}

impl Kind {
    /// Kinds every cluster serves.
    pub const BUILT_IN: &[Kind] = &[
        kind("", "v1", "Namespace", "namespaces", false),
        kind("", "v1", "ConfigMap", "configmaps", true),
        kind("", "v1", "Secret", "secrets", true),
        kind("", "v1", "ServiceAccount", "serviceaccounts", true),
        kind("", "v1", "Service", "services", true),
        kind("apps", "v1", "Deployment", "deployments", true),
        kind("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
        kind("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
        kind("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
        kind("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
        kind("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true),
        kind("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true),
        kind("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
    ];
    /// Kinds an EKS Auto Mode cluster adds.
    pub const AUTO_MODE: &[Kind] = &[
        kind("eks.amazonaws.com", "v1", "TargetGroupBinding", "targetgroupbindings", true),
        kind("networking.k8s.aws", "v1alpha1", "ApplicationNetworkPolicy", "applicationnetworkpolicies", true),
    ];

    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_owned() } else { format!("{}/{}", self.group, self.version) }
    }
}

/// One request as the fake received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query.
    pub uri: String,
    pub authorization: Option<String>,
}

type Key = (String, String, Option<String>, String); // api version, kind, namespace, name
type FieldPath = Vec<String>;

struct Stored {
    object: Value,
    /// Field manager → the leaf fields it set.
    managers: BTreeMap<String, BTreeSet<FieldPath>>,
}

#[derive(Default)]
struct State {
    kinds: Vec<Kind>,
    objects: BTreeMap<Key, Stored>,
    resource_version: u64,
    uid: u64,
    requests: Vec<RecordedRequest>,
    /// (verb, kind) pairs answered with 403 Forbidden.
    forbidden: Vec<(String, String)>,
}

/// The fake API server. Dropping it stops it.
pub struct FakeApiServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeApiServer {
    /// A cluster with the built-in kinds and Auto Mode's, and the namespaces `default` and
    /// `kube-system`.
    pub async fn start() -> Self {
        Self::start_serving([Kind::BUILT_IN, Kind::AUTO_MODE].concat()).await
    }

    /// A cluster without Auto Mode's kinds.
    pub async fn start_without_auto_mode() -> Self {
        Self::start_serving(Kind::BUILT_IN.to_vec()).await
    }

    pub async fn start_serving(kinds: Vec<Kind>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State { kinds, ..State::default() }));
        let served = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = served.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(state.clone(), request));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        let server = FakeApiServer { addr, state, task };
        for namespace in ["default", "kube-system"] {
            server.insert(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}));
        }
        server
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kube-rs client for the fake.
    pub fn client(&self) -> kube::Client {
        let url = self.url().parse().expect("a valid URL");
        kube::Client::try_from(kube::Config::new(url)).expect("a client for plain HTTP")
    }

    pub fn cluster(&self) -> Cluster {
        Cluster::from_client(self.client(), format!("fake API server {}", self.url()))
    }

    /// A kubeconfig with one context, `fake`, pointing at the server with a static token.
    pub fn kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n- name: fake\n  cluster:\n    server: {}\n\
             users:\n- name: tester\n  user:\n    token: fake-token\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: tester\n",
            self.url()
        )
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores `object` as it is (no field manager), as if made by someone else.
    pub fn insert(&self, object: Value) {
        let mut state = self.state();
        let key = key_of(&object).expect("apiVersion, kind and metadata.name");
        let mut object = object;
        state.stamp(&mut object, None);
        state.objects.insert(key, Stored { object, managers: BTreeMap::new() });
    }

    /// The stored object.
    pub fn get(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        let key = (api_version.to_owned(), kind.to_owned(), namespace.map(str::to_owned), name.to_owned());
        self.state().objects.get(&key).map(|s| s.object.clone())
    }

    /// Every stored object, ordered by api version, kind, namespace and name.
    pub fn objects(&self) -> Vec<Value> {
        self.state().objects.values().map(|s| s.object.clone()).collect()
    }

    /// Answers `verb` (`get`, `list`, `patch`, `delete`) on `kind` with 403 Forbidden, as RBAC
    /// does for credentials without that permission.
    pub fn forbid(&self, verb: &str, kind: &str) {
        self.state().forbidden.push((verb.to_owned(), kind.to_owned()));
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }

    /// Replaces a Deployment's `status`.
    pub fn set_status(&self, namespace: &str, name: &str, status: Value) {
        self.with_deployment(namespace, name, |_, _, _| status);
    }

    /// The controller has observed the Deployment and `updated` of its replicas are new,
    /// `available` of them available.
    pub fn progress(&self, namespace: &str, name: &str, updated: i64, available: i64) {
        self.with_deployment(namespace, name, |generation, replicas, _| {
            json!({"observedGeneration": generation, "replicas": replicas.max(updated), "updatedReplicas": updated,
                   "readyReplicas": available, "availableReplicas": available,
                   "conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}]})
        });
    }

    /// The rollout has finished: every replica new and available.
    pub fn roll_out(&self, namespace: &str, name: &str) {
        self.with_deployment(namespace, name, |generation, replicas, _| {
            json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
                   "readyReplicas": replicas, "availableReplicas": replicas,
                   "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                                  {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]})
        });
    }

    /// The controller gave up on the rollout, as it does after `progressDeadlineSeconds`.
    pub fn exceed_progress_deadline(&self, namespace: &str, name: &str) {
        self.with_deployment(namespace, name, |generation, replicas, name| {
            json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": 1,
                   "readyReplicas": replicas - 1, "availableReplicas": replicas - 1, "unavailableReplicas": 1,
                   "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                   "message": format!("ReplicaSet \"{name}-5d9c7b\" has timed out progressing.")}]})
        });
    }

    fn with_deployment(&self, namespace: &str, name: &str, status: impl FnOnce(i64, i64, &str) -> Value) {
        let mut state = self.state();
        let key = ("apps/v1".to_owned(), "Deployment".to_owned(), Some(namespace.to_owned()), name.to_owned());
        let stored = state.objects.get_mut(&key).unwrap_or_else(|| panic!("no Deployment {namespace}/{name}"));
        let generation = stored.object["metadata"]["generation"].as_i64().unwrap_or(1);
        let replicas = stored.object["spec"]["replicas"].as_i64().unwrap_or(1);
        stored.object["status"] = status(generation, replicas, name);
        let mut object = stored.object.clone();
        state.stamp(&mut object, None);
        if let Some(stored) = state.objects.get_mut(&key) {
            stored.object = object;
        }
    }
}

impl State {
    fn kind_by_plural(&self, group: &str, version: &str, plural: &str) -> Option<Kind> {
        self.kinds.iter().copied().find(|k| k.group == group && k.version == version && k.plural == plural)
    }

    /// Sets the server-maintained metadata of a write.
    fn stamp(&mut self, object: &mut Value, manager: Option<(&str, &str)>) {
        self.resource_version += 1;
        let rv = self.resource_version;
        let metadata = object["metadata"].as_object_mut().expect("metadata is a map");
        if !metadata.contains_key("uid") {
            self.uid += 1;
            metadata.insert("uid".into(), json!(format!("00000000-0000-0000-0000-{:012}", self.uid)));
            metadata.insert("creationTimestamp".into(), json!("2026-01-01T00:00:00Z"));
        }
        metadata.insert("resourceVersion".into(), json!(rv.to_string()));
        if let Some((manager, api_version)) = manager {
            let time = format!("2026-01-01T{:02}:{:02}:{:02}Z", rv / 3600 % 24, rv / 60 % 60, rv % 60);
            metadata.insert(
                "managedFields".into(),
                json!([{"manager": manager, "operation": "Apply", "apiVersion": api_version, "time": time, "fieldsType": "FieldsV1"}]),
            );
        }
    }
}

fn key_of(object: &Value) -> Option<Key> {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    Some((
        text(&object["apiVersion"])?,
        text(&object["kind"])?,
        text(&object["metadata"]["namespace"]),
        text(&object["metadata"]["name"])?,
    ))
}

type Reply = Response<Full<Bytes>>;

fn reply(code: StatusCode, body: &Value) -> Reply {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a valid response")
}

fn status(code: StatusCode, reason: &str, message: impl Into<String>) -> Reply {
    let message = message.into();
    reply(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "code": code.as_u16()}),
    )
}

fn not_found(message: impl Into<String>) -> Reply {
    status(StatusCode::NOT_FOUND, "NotFound", message)
}

async fn handle(state: Arc<Mutex<State>>, request: Request<Incoming>) -> Result<Reply, std::convert::Infallible> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    state.requests.push(RecordedRequest {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        authorization: parts.headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned),
    });
    let query: BTreeMap<String, String> = parts.uri.query().map(|q| url_decode_pairs(q).collect()).unwrap_or_default();
    let content_type = parts.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    Ok(route(&mut state, &parts.method, parts.uri.path(), &query, &content_type, &body))
}

fn url_decode_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k), percent_decode(v))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where a request points.
struct Target {
    kind: Kind,
    namespace: Option<String>,
    name: Option<String>,
}

fn route(
    state: &mut State,
    method: &Method,
    path: &str,
    query: &BTreeMap<String, String>,
    content_type: &str,
    body: &[u8],
) -> Reply {
    let segments: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api"] => {
            return reply(
                StatusCode::OK,
                &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
            );
        }
        ["apis"] => return reply(StatusCode::OK, &group_list(state)),
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return not_found("the server could not find the requested resource"),
    };
    if !state.kinds.iter().any(|k| k.group == group && k.version == version) {
        return not_found("the server could not find the requested resource");
    }
    let (namespace, plural, name) = match rest {
        [] => return reply(StatusCode::OK, &resource_list(state, group, version)),
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return not_found("the server could not find the requested resource"),
    };
    let Some(kind) = state.kind_by_plural(group, version, plural) else {
        return not_found("the server could not find the requested resource");
    };
    let target = Target {
        kind,
        namespace: namespace.filter(|_| kind.namespaced).map(str::to_owned),
        name: name.map(str::to_owned),
    };
    let verb = match (method, &target.name) {
        (&Method::GET, Some(_)) => "get",
        (&Method::GET, None) => "list",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, _) => "delete",
        _ => "",
    };
    if state.forbidden.iter().any(|(v, k)| v == verb && k == kind.kind) {
        let scope = target
            .namespace
            .as_ref()
            .map_or("at the cluster scope".to_owned(), |ns| format!("in the namespace \"{ns}\""));
        let message = format!(
            "{}.{} is forbidden: User \"ci\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
            kind.plural, kind.group, kind.plural, kind.group
        );
        return status(StatusCode::FORBIDDEN, "Forbidden", message);
    }
    match (method, &target.name) {
        (&Method::GET, Some(_)) => get(state, &target),
        (&Method::GET, None) => list(state, &target, query),
        (&Method::PATCH, Some(_)) => apply(state, &target, query, content_type, body),
        (&Method::DELETE, Some(_)) => delete(state, &target),
        _ => status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("the fake does not serve {method} {path}"),
        ),
    }
}

fn group_list(state: &State) -> Value {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for kind in state.kinds.iter().filter(|k| !k.group.is_empty()) {
        let versions = groups.entry(kind.group).or_default();
        if !versions.contains(&kind.version) {
            versions.push(kind.version);
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(group, versions)| {
            let versions: Vec<Value> =
                versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
            json!({"name": group, "versions": versions, "preferredVersion": versions[0]})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(state: &State, group: &str, version: &str) -> Value {
    let resources: Vec<Value> = state
        .kinds
        .iter()
        .filter(|k| k.group == group && k.version == version)
        .map(|k| {
            json!({"name": k.plural, "singularName": k.kind.to_lowercase(), "namespaced": k.namespaced, "kind": k.kind,
                   "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]})
        })
        .collect();
    let group_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources})
}

fn key(target: &Target) -> Key {
    (
        target.kind.api_version(),
        target.kind.kind.to_owned(),
        target.namespace.clone(),
        target.name.clone().unwrap_or_default(),
    )
}

fn missing(target: &Target) -> Reply {
    not_found(format!("{} \"{}\" not found", target.kind.plural, target.name.as_deref().unwrap_or_default()))
}

fn get(state: &State, target: &Target) -> Reply {
    match state.objects.get(&key(target)) {
        Some(stored) => reply(StatusCode::OK, &stored.object),
        None => missing(target),
    }
}

fn list(state: &State, target: &Target, query: &BTreeMap<String, String>) -> Reply {
    let selector: Vec<(String, bool, String)> = query
        .get("labelSelector")
        .map(|s| {
            s.split(',')
                .filter_map(|term| {
                    if let Some((k, v)) = term.split_once("!=") {
                        Some((k.trim().to_owned(), false, v.trim().to_owned()))
                    } else {
                        let (k, v) = term.split_once("==").or_else(|| term.split_once('='))?;
                        Some((k.trim().to_owned(), true, v.trim().to_owned()))
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let api_version = target.kind.api_version();
    let items: Vec<Value> = state
        .objects
        .iter()
        .filter(|((v, k, ns, _), _)| {
            *v == api_version && k == target.kind.kind && (target.namespace.is_none() || *ns == target.namespace)
        })
        .map(|(_, stored)| &stored.object)
        .filter(|object| {
            selector.iter().all(|(label, equal, value)| {
                let found = object["metadata"]["labels"][label.as_str()].as_str();
                (found == Some(value.as_str())) == *equal
            })
        })
        .map(|object| {
            let mut item = object.clone();
            if let Some(map) = item.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            item
        })
        .collect();
    reply(
        StatusCode::OK,
        &json!({"apiVersion": api_version, "kind": format!("{}List", target.kind.kind),
                "metadata": {"resourceVersion": state.resource_version.to_string()}, "items": items}),
    )
}

fn delete(state: &mut State, target: &Target) -> Reply {
    let Some(stored) = state.objects.remove(&key(target)) else {
        return missing(target);
    };
    if target.kind.kind == "Namespace" && target.kind.group.is_empty() {
        let namespace = target.name.clone();
        state.objects.retain(|(_, _, ns, _), _| *ns != namespace);
    }
    state.resource_version += 1;
    reply(StatusCode::OK, &stored.object)
}

/// Server-side apply.
fn apply(
    state: &mut State,
    target: &Target,
    query: &BTreeMap<String, String>,
    content_type: &str,
    body: &[u8],
) -> Reply {
    let bad = |message: String| status(StatusCode::BAD_REQUEST, "BadRequest", message);
    if !content_type.starts_with("application/apply-patch+yaml") {
        return status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!("the fake takes only apply patches, not {content_type:?}"),
        );
    }
    let Some(manager) = query.get("fieldManager").filter(|m| !m.is_empty()) else {
        return bad("PATCH, application/apply-patch+yaml: fieldManager is required".into());
    };
    let force = query.get("force").is_some_and(|f| f == "true");
    let dry_run = query.get("dryRun").is_some_and(|d| d == "All");
    let patch: Value = match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Value::Object(map),
        Ok(_) => return bad("the patch is not an object".into()),
        Err(e) => return bad(format!("the fake reads apply patches as JSON: {e}")),
    };
    let api_version = target.kind.api_version();
    if patch["apiVersion"] != api_version.as_str() || patch["kind"] != target.kind.kind {
        return bad(format!(
            "the patch is {} {}, the URL is {api_version} {}",
            patch["apiVersion"], patch["kind"], target.kind.kind
        ));
    }
    if patch["metadata"]["name"].as_str() != target.name.as_deref() {
        return bad("metadata.name does not match the URL".into());
    }
    if let Some(namespace) = &target.namespace {
        if patch["metadata"]["namespace"].as_str().is_some_and(|ns| ns != namespace) {
            return bad("metadata.namespace does not match the URL".into());
        }
        let ns_key = ("v1".to_owned(), "Namespace".to_owned(), None, namespace.clone());
        if !state.objects.contains_key(&ns_key) {
            return not_found(format!("namespaces \"{namespace}\" not found"));
        }
    }
    let mut patch = patch;
    if let Some(map) = patch.as_object_mut() {
        map.remove("status");
    }
    let mut applied = BTreeSet::new();
    leaves(&patch, &mut Vec::new(), &mut applied);
    for identity in [&["apiVersion"][..], &["kind"], &["metadata", "name"], &["metadata", "namespace"]] {
        applied.remove(&identity.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    }

    let key = key(target);
    let existing = state.objects.get(&key);
    let mut managers = existing.map(|s| s.managers.clone()).unwrap_or_default();
    let live = existing.map(|s| s.object.clone());
    let mut object = live.clone().unwrap_or_else(|| {
        let mut metadata = Map::new();
        metadata.insert("name".into(), json!(target.name));
        if let Some(ns) = &target.namespace {
            metadata.insert("namespace".into(), json!(ns));
        }
        json!({"apiVersion": api_version, "kind": target.kind.kind, "metadata": metadata})
    });

    // Conflicts: a field another manager set, to another value.
    let mut conflicts: BTreeMap<&String, Vec<&FieldPath>> = BTreeMap::new();
    for (other, fields) in managers.iter().filter(|(m, _)| *m != manager) {
        for field in fields.intersection(&applied) {
            if lookup(&object, field) != lookup(&patch, field) {
                conflicts.entry(other).or_default().push(field);
            }
        }
    }
    if !conflicts.is_empty() && !force {
        let count: usize = conflicts.values().map(Vec::len).sum();
        let mut message = format!("Apply failed with {count} conflict{}:", if count == 1 { "" } else { "s" });
        for (other, fields) in &conflicts {
            for field in fields {
                message.push_str(&format!(" conflict with \"{other}\" using {api_version}: .{}", field.join(".")));
            }
        }
        return status(StatusCode::CONFLICT, "Conflict", message);
    }
    // Forced: the conflicting fields change hands. Fields set to the same value are shared.
    let taken: BTreeMap<String, BTreeSet<FieldPath>> =
        conflicts.into_iter().map(|(other, fields)| (other.clone(), fields.into_iter().cloned().collect())).collect();
    for (other, fields) in &taken {
        if let Some(owned) = managers.get_mut(other) {
            owned.retain(|f| !fields.contains(f));
        }
    }
    // Fields this manager applied before, no longer applies, and no one else owns, go.
    let previous = managers.remove(manager.as_str()).unwrap_or_default();
    for field in previous.difference(&applied) {
        if !managers.values().any(|fields| fields.contains(field)) {
            remove(&mut object, field);
        }
    }
    merge(&mut object, &patch);
    managers.insert(manager.clone(), applied);
    managers.retain(|_, fields| !fields.is_empty());

    let code = if live.is_some() { StatusCode::OK } else { StatusCode::CREATED };
    let changed = live.as_ref().is_none_or(|live| without_managed_fields(live) != without_managed_fields(&object));
    if changed {
        let spec_changed = live.as_ref().is_none_or(|live| spec_of(live) != spec_of(&object));
        if spec_changed {
            let generation = object["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
            object["metadata"]["generation"] = json!(generation);
        }
        if target.kind.kind == "Deployment" && live.is_none() {
            object["status"] = json!({});
        }
        if dry_run {
            let saved = (state.resource_version, state.uid);
            state.stamp(&mut object, Some((manager, &api_version)));
            (state.resource_version, state.uid) = saved;
        } else {
            state.stamp(&mut object, Some((manager, &api_version)));
        }
    }
    if !dry_run {
        state.objects.insert(key, Stored { object: object.clone(), managers });
    }
    reply(code, &object)
}

/// Leaf fields: scalars, lists (atomic here) and empty maps.
fn leaves(value: &Value, path: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                path.push(key.clone());
                leaves(v, path, out);
                path.pop();
            }
        }
        _ => {
            out.insert(path.clone());
        }
    }
}

fn lookup<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

/// Removes a leaf, and the maps it leaves empty.
fn remove(value: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else { return };
    if let Some(Value::Object(map)) = parents.iter().try_fold(&mut *value, |v, key| v.get_mut(key)) {
        map.remove(last);
        if map.is_empty() && parents.len() > 1 {
            remove(value, parents);
        }
    }
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                match target.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => merge(existing, value),
                    _ => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

fn without_managed_fields(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(metadata) = object["metadata"].as_object_mut() {
        metadata.remove("managedFields");
    }
    object
}

fn spec_of(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
    }
    object
}
