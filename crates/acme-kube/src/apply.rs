//! Server-side apply of a whole set of objects, planned first.
//!
//! - **Field manager** `acmectl`: the API server records which fields acmectl set, and an
//!   apply removes the fields acmectl set before and no longer sets.
//! - **Conflicts are forced**, after the plan has shown them. acme.yaml is the source of truth
//!   for what acmectl applies: a field someone changed by hand (`kubectl edit`, `kubectl
//!   scale`) is set back and acmectl takes it over, as Argo CD and Flux do. The plan first
//!   dry-runs without force; a conflict is reported on its object (`conflicts`: the API
//!   server's message naming the other manager and the fields), then the dry run is repeated
//!   with force to show the diff. Fields acmectl does not set (an HPA's replica count, when
//!   the Deployment leaves `replicas` out) are never touched.
//! - **Plan** = the same apply with `dryRun=All`, diffed field by field against the live object:
//!   the server's defaulting, admission and merge are in the result, so a diff shows only
//!   what the apply would change. Objects in a namespace the same plan creates cannot be dry
//!   run (the namespace does not exist yet) and are planned as `Create` without one.
//! - **Order**: by kind ([`crate::object::APPLY_ORDER`]); objects of one kind concurrently,
//!   [`CONCURRENCY`] at a time. Every kind is looked up before anything is changed, so a
//!   missing CRD stops the apply before its first write.
//! - **Pruning**: every object acmectl applies carries `app.kubernetes.io/managed-by: acmectl`
//!   and `app.kubernetes.io/part-of: <platform>`. Objects of [`crate::object::MANAGED_KINDS`]
//!   with both labels that are no longer given are planned as `Delete`, and deleted by
//!   [`Cluster::apply`] only with [`Prune::Delete`]. Objects with an owner (made by a
//!   controller) are never pruned.

use crate::Cluster;
use crate::diff::{FieldChange, diff};
use crate::error::Error;
use crate::object::{self, MANAGED_BY, MANAGED_KINDS, ObjectRef, apply_rank, missing_kind_help, owned_selector};
use futures::{StreamExt, stream};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};

/// Objects of one kind applied at once.
pub const CONCURRENCY: usize = 8;

/// What an apply does, or did, to one object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    #[serde(flatten)]
    pub object: ObjectRef,
    #[serde(flatten)]
    pub action: Action,
    /// Fields another field manager owns that the apply takes over: the API server's own
    /// message, which names the manager and the fields. Only a plan reports them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Action {
    Create,
    /// The fields the apply changes; values of a Secret's `data` and `stringData` are
    /// redacted.
    Update {
        fields: Vec<FieldChange>,
    },
    Unchanged,
    /// An object acmectl owns and no longer synthesizes.
    Delete,
}

/// What applying a set of objects would do, object by object in apply order, deletions last.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Kinds whose orphans could not be looked for (the credentials may not list them across
    /// namespaces), each with the API server's reason. An orphan of these kinds is not shown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prune_unchecked: Vec<String>,
}

impl Plan {
    /// Whether anything would change (a `Delete` counts: the plan shows it).
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::Unchanged)
    }

    /// The objects acmectl owns and no longer synthesizes.
    pub fn orphans(&self) -> impl Iterator<Item = &ObjectRef> {
        self.changes.iter().filter(|c| c.action == Action::Delete).map(|c| &c.object)
    }
}

/// Whether [`Cluster::apply`] deletes the objects acmectl owns and no longer synthesizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prune {
    /// List them in [`Applied::orphans_kept`], delete nothing.
    Keep,
    Delete,
}

/// What an apply did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Applied {
    /// Every object in apply order, with what was done to it; deletions last.
    pub changes: Vec<Change>,
    /// Objects acmectl owns and no longer synthesizes, left in place ([`Prune::Keep`]).
    pub orphans_kept: Vec<ObjectRef>,
    /// As [`Plan::prune_unchecked`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prune_unchecked: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    DryRun,
    Apply,
}

/// One object to apply, checked and labelled, with where it lives in the API.
struct Desired {
    id: ObjectRef,
    object: Value,
    resource: ApiResource,
}

type Resolved = Option<(ApiResource, ApiCapabilities)>;

/// (group, kind, namespace, name): an object whatever the version it is read in.
type Identity = (String, String, Option<String>, String);

fn identity(id: &ObjectRef) -> Identity {
    (id.group_version().0.to_owned(), id.kind.clone(), id.namespace.clone(), id.name.clone())
}

impl Cluster {
    /// What [`Cluster::apply`] would do with `objects` for `platform` (acme.yaml `name`):
    /// a server-side apply dry run of each, diffed against the live object, and the owned
    /// objects no longer given. Changes nothing.
    pub async fn plan(&self, platform: &str, objects: &[Value]) -> Result<Plan, Error> {
        let client = self.client().await?;
        let (desired, mut discovery) = prepare(&client, platform, objects).await?;
        let mut changes = reconcile(&client, &desired, Mode::DryRun, &mut |_| {}).await?;
        let Orphans { found, unchecked } = orphans(&client, &mut discovery, platform, &desired).await?;
        changes.extend(found.into_iter().map(|object| Change { object, action: Action::Delete, conflicts: None }));
        Ok(Plan { changes, prune_unchecked: unchecked })
    }

    /// Applies `objects` for `platform` with server-side apply, in order, calling `on_change`
    /// after each object; then deletes or keeps the orphans. Stops at the first failure;
    /// what was applied before it stays applied, and the next apply carries on.
    pub async fn apply(
        &self,
        platform: &str,
        objects: &[Value],
        prune: Prune,
        on_change: &mut (dyn FnMut(&Change) + Send),
    ) -> Result<Applied, Error> {
        let client = self.client().await?;
        let (desired, mut discovery) = prepare(&client, platform, objects).await?;
        let mut changes = reconcile(&client, &desired, Mode::Apply, on_change).await?;
        let Orphans { found, unchecked } = orphans(&client, &mut discovery, platform, &desired).await?;
        if prune == Prune::Keep {
            return Ok(Applied { changes, orphans_kept: found, prune_unchecked: unchecked });
        }
        let client = self.client().await?;
        for object in found {
            let Some((resource, _)) =
                discovery.get(&(object.api_version.clone(), object.kind.clone())).cloned().flatten()
            else {
                unreachable!("orphans are listed through discovered kinds");
            };
            let api = api(&client, &resource, object.namespace.as_deref());
            match api.delete(&object.name, &DeleteParams::background()).await {
                Ok(_) => {}
                Err(kube::Error::Api(response)) if response.code == 404 => {}
                Err(e) => return Err(Error::api("delete", &object, e)),
            }
            let change = Change { object, action: Action::Delete, conflicts: None };
            on_change(&change);
            changes.push(change);
        }
        Ok(Applied { changes, orphans_kept: Vec::new(), prune_unchecked: unchecked })
    }
}

/// Checks and labels every object, sorts them in apply order, and looks up every kind.
async fn prepare(
    client: &kube::Client,
    platform: &str,
    objects: &[Value],
) -> Result<(Vec<Desired>, HashMap<(String, String), Resolved>), Error> {
    let mut seen = HashSet::new();
    let mut checked = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        let id = ObjectRef::of(object, index)?;
        if !seen.insert(identity(&id)) {
            return Err(Error::DuplicateObject { object: id.to_string() });
        }
        let mut object = object.clone();
        object::label(&mut object, &id, platform)?;
        checked.push((index, id, object));
    }
    checked.sort_by_key(|(_, id, _)| apply_rank(&id.kind));

    let mut discovery = HashMap::new();
    let mut desired = Vec::with_capacity(checked.len());
    for (index, id, object) in checked {
        let Some((resource, capabilities)) = resolve(client, &mut discovery, &id.api_version, &id.kind).await? else {
            return Err(Error::KindNotServed {
                help: missing_kind_help(&id.api_version, &id.kind),
                object: id.to_string(),
                api_version: id.api_version,
                kind: id.kind,
            });
        };
        let invalid = |message: String| Error::InvalidObject { index, message };
        match (capabilities.scope, &id.namespace) {
            (Scope::Namespaced, None) => {
                return Err(invalid(format!("{id} is namespaced and has no metadata.namespace")));
            }
            (Scope::Cluster, Some(_)) => return Err(invalid(format!("{id}: {} is cluster-scoped", id.kind))),
            _ => {}
        }
        desired.push(Desired { id, object, resource });
    }
    Ok((desired, discovery))
}

/// The API resource serving (`api_version`, `kind`), `None` when the cluster does not serve it.
async fn resolve(
    client: &kube::Client,
    cache: &mut HashMap<(String, String), Resolved>,
    api_version: &str,
    kind: &str,
) -> Result<Resolved, Error> {
    let key = (api_version.to_owned(), kind.to_owned());
    if let Some(resolved) = cache.get(&key) {
        return Ok(resolved.clone());
    }
    let id =
        ObjectRef { api_version: api_version.to_owned(), kind: kind.to_owned(), namespace: None, name: String::new() };
    let resolved = match kube::discovery::pinned_kind(client, &id.gvk()).await {
        Ok(found) => Some(found),
        Err(kube::Error::Api(response)) if response.code == 404 => None,
        Err(kube::Error::Discovery(_)) => None,
        Err(e) => return Err(Error::api("discover", format!("{kind} in {api_version}"), e)),
    };
    cache.insert(key, resolved.clone());
    Ok(resolved)
}

fn api(client: &kube::Client, resource: &ApiResource, namespace: Option<&str>) -> Api<DynamicObject> {
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, resource),
        None => Api::all_with(client.clone(), resource),
    }
}

async fn reconcile(
    client: &kube::Client,
    desired: &[Desired],
    mode: Mode,
    on_change: &mut (dyn FnMut(&Change) + Send),
) -> Result<Vec<Change>, Error> {
    let mut changes = Vec::with_capacity(desired.len());
    let mut created_namespaces = HashSet::new();
    for group in desired.chunk_by(|a, b| apply_rank(&a.id.kind) == apply_rank(&b.id.kind)) {
        let created = &created_namespaces;
        let mut results = stream::iter(group).map(|d| reconcile_one(client, d, mode, created)).buffered(CONCURRENCY);
        let mut done = Vec::with_capacity(group.len());
        while let Some(change) = results.next().await {
            let change = change?;
            on_change(&change);
            done.push(change);
        }
        drop(results);
        for change in &done {
            if change.object.kind == "Namespace" && change.object.api_version == "v1" && change.action == Action::Create
            {
                created_namespaces.insert(change.object.name.clone());
            }
        }
        changes.extend(done);
    }
    Ok(changes)
}

async fn reconcile_one(
    client: &kube::Client,
    d: &Desired,
    mode: Mode,
    created_namespaces: &HashSet<String>,
) -> Result<Change, Error> {
    let api = api(client, &d.resource, d.id.namespace.as_deref());
    let name = d.id.name.as_str();
    let live = api.get_opt(name).await.map_err(|e| Error::api("read", &d.id, e))?;
    let live = live.map(|o| to_value(&o));
    let params = |force: bool| {
        let params = PatchParams::apply(MANAGED_BY);
        let params = if force { params.force() } else { params };
        if mode == Mode::DryRun { params.dry_run() } else { params }
    };
    let patch = Patch::Apply(&d.object);
    let mut conflicts = None;
    let result = match mode {
        Mode::Apply => api.patch(name, &params(true), &patch).await,
        Mode::DryRun => match api.patch(name, &params(false), &patch).await {
            Err(kube::Error::Api(response)) if response.code == 409 => {
                conflicts = Some(response.message);
                api.patch(name, &params(true), &patch).await
            }
            other => other,
        },
    };
    let action = match (result, live) {
        (Ok(_), None) => Action::Create,
        (Ok(applied), Some(live)) => {
            let mut fields = diff(&live, &to_value(&applied));
            if d.id.kind == "Secret" && d.id.api_version == "v1" {
                redact(&mut fields);
            }
            if fields.is_empty() { Action::Unchanged } else { Action::Update { fields } }
        }
        (Err(kube::Error::Api(response)), None)
            if response.code == 404
                && mode == Mode::DryRun
                && d.id.namespace.as_ref().is_some_and(|ns| created_namespaces.contains(ns)) =>
        {
            Action::Create
        }
        (Err(e), _) => return Err(Error::api(if mode == Mode::DryRun { "plan" } else { "apply" }, &d.id, e)),
    };
    Ok(Change { object: d.id.clone(), action, conflicts })
}

fn to_value(object: &DynamicObject) -> Value {
    serde_json::to_value(object).unwrap_or_else(|e| unreachable!("a DynamicObject serializes: {e}"))
}

/// A plan is printed and stored; a Secret's values must not be.
fn redact(fields: &mut [FieldChange]) {
    let hidden = Value::String("<redacted>".into());
    for field in fields.iter_mut().filter(|f| f.path.starts_with("data") || f.path.starts_with("stringData")) {
        for value in [&mut field.before, &mut field.after].into_iter().flatten() {
            *value = hidden.clone();
        }
    }
}

struct Orphans {
    /// In deletion order (reverse apply order).
    found: Vec<ObjectRef>,
    unchecked: Vec<String>,
}

/// The objects of `platform` that carry acmectl's labels and are not in `desired`. A kind the
/// credentials may not list (403) is reported, not fatal: a CI role scoped to its namespaces
/// can still plan and apply.
async fn orphans(
    client: &kube::Client,
    discovery: &mut HashMap<(String, String), Resolved>,
    platform: &str,
    desired: &[Desired],
) -> Result<Orphans, Error> {
    let wanted: HashSet<Identity> = desired.iter().map(|d| identity(&d.id)).collect();
    let kinds: BTreeSet<(String, String)> = MANAGED_KINDS
        .iter()
        .map(|(v, k)| ((*v).to_owned(), (*k).to_owned()))
        .chain(desired.iter().map(|d| (d.id.api_version.clone(), d.id.kind.clone())))
        .collect();
    let selector = owned_selector(platform);
    let (mut found, mut unchecked) = (Vec::new(), Vec::new());
    for (api_version, kind) in kinds {
        let Some((resource, _)) = resolve(client, discovery, &api_version, &kind).await? else {
            continue; // not served: nothing of that kind can exist
        };
        let list = match Api::<DynamicObject>::all_with(client.clone(), &resource)
            .list(&ListParams::default().labels(&selector))
            .await
        {
            Ok(list) => list,
            Err(kube::Error::Api(response)) if response.code == 403 => {
                unchecked.push(format!("{kind} in {api_version}: {}", response.message));
                continue;
            }
            Err(e) => return Err(Error::api("list", format!("{kind} in {api_version}"), e)),
        };
        for item in list.items {
            let metadata = &item.metadata;
            let owned = metadata.owner_references.as_ref().is_some_and(|o| !o.is_empty());
            if owned || metadata.deletion_timestamp.is_some() {
                continue;
            }
            let id = ObjectRef {
                api_version: api_version.clone(),
                kind: kind.clone(),
                namespace: metadata.namespace.clone(),
                name: metadata.name.clone().unwrap_or_default(),
            };
            if !wanted.contains(&identity(&id)) {
                found.push(id);
            }
        }
    }
    found.sort_by(|a, b| apply_rank(&b.kind).cmp(&apply_rank(&a.kind)).then_with(|| a.cmp(b)));
    // One object listed through two versions of its kind is one orphan.
    let mut seen = HashSet::new();
    found.retain(|id| seen.insert(identity(id)));
    Ok(Orphans { found, unchecked })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_values_never_reach_the_plan() {
        let mut fields = vec![
            FieldChange { path: "data.password".into(), before: Some(json!("c2VjcmV0")), after: Some(json!("bmV3")) },
            FieldChange { path: "metadata.labels.tier".into(), before: None, after: Some(json!("db")) },
        ];
        redact(&mut fields);
        assert_eq!(fields[0].before, Some(json!("<redacted>")));
        assert_eq!(fields[0].after, Some(json!("<redacted>")));
        assert_eq!(fields[1].after, Some(json!("db")));
    }

    #[test]
    fn a_plan_serializes_flat_for_json_output() {
        let change = Change {
            object: ObjectRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: Some("shop".into()),
                name: "api".into(),
            },
            action: Action::Update {
                fields: vec![FieldChange {
                    path: "spec.replicas".into(),
                    before: Some(json!(2)),
                    after: Some(json!(3)),
                }],
            },
            conflicts: None,
        };
        assert_eq!(
            serde_json::to_value(&change).unwrap(),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "api", "action": "update",
                   "fields": [{"path": "spec.replicas", "before": 2, "after": 3}]})
        );
        let plan = Plan { changes: vec![Change { action: Action::Unchanged, ..change }], prune_unchecked: vec![] };
        assert!(!plan.has_changes());
    }
}
