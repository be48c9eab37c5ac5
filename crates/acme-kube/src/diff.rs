//! Field-level differences between two versions of one object: the live object and what the
//! API server says it would become (the server-side apply dry run). Pure.

use serde::Serialize;
use serde_json::{Map, Value};

/// One field that an apply changes. `path` reads like kubectl's field paths:
/// `spec.template.spec.containers[name=api].image`, `metadata.labels["app.kubernetes.io/name"]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    /// The live value; `None` when the apply adds the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value after the apply; `None` when the apply removes the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// Fields the API server changes on its own on every write, and `status`, which an apply
/// never sets: differences there are not changes an apply makes.
const VOLATILE_METADATA: &[&str] = &["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"];

/// The changes from `live` to `applied`, volatile fields aside, in document order.
pub fn diff(live: &Value, applied: &Value) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    walk(&comparable(live), &comparable(applied), &mut String::new(), &mut changes);
    changes
}

/// `object` without `status` and the metadata the server maintains.
pub fn comparable(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in VOLATILE_METADATA {
                metadata.remove(*key);
            }
        }
    }
    object
}

fn walk(before: &Value, after: &Value, path: &mut String, out: &mut Vec<FieldChange>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => walk_maps(b, a, path, out),
        (Value::Array(b), Value::Array(a)) => match (keyed(b), keyed(a)) {
            (Some(kb), Some(ka)) => walk_keyed(&kb, &ka, path, out),
            _ if b.len() == a.len() => {
                for (i, (vb, va)) in b.iter().zip(a).enumerate() {
                    nested(path, &format!("[{i}]"), |p| walk(vb, va, p, out));
                }
            }
            _ => out.push(change(path, Some(before), Some(after))),
        },
        _ => out.push(change(path, Some(before), Some(after))),
    }
}

fn walk_maps(before: &Map<String, Value>, after: &Map<String, Value>, path: &mut String, out: &mut Vec<FieldChange>) {
    for (key, vb) in before {
        let segment = segment(path, key);
        match after.get(key) {
            Some(va) => nested(path, &segment, |p| walk(vb, va, p, out)),
            None => nested(path, &segment, |p| out.push(change(p, Some(vb), None))),
        }
    }
    for (key, va) in after.iter().filter(|(k, _)| !before.contains_key(*k)) {
        nested(path, &segment(path, key), |p| out.push(change(p, None, Some(va))));
    }
}

/// Lists of named things (containers, ports, env, volumes) are matched by name, as the API
/// server merges them, so inserting a container does not show every later one as changed.
fn keyed(items: &[Value]) -> Option<Vec<(&str, &Value)>> {
    let keyed: Vec<_> =
        items.iter().map(|v| v.get("name").and_then(Value::as_str).map(|n| (n, v))).collect::<Option<_>>()?;
    let mut names: Vec<_> = keyed.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    names.dedup();
    (names.len() == keyed.len()).then_some(keyed)
}

fn walk_keyed(before: &[(&str, &Value)], after: &[(&str, &Value)], path: &mut String, out: &mut Vec<FieldChange>) {
    for (name, vb) in before {
        let segment = format!("[name={name}]");
        match find(after, name) {
            Some(va) => nested(path, &segment, |p| walk(vb, va, p, out)),
            None => nested(path, &segment, |p| out.push(change(p, Some(vb), None))),
        }
    }
    for (name, va) in after.iter().filter(|(n, _)| find(before, n).is_none()) {
        nested(path, &format!("[name={name}]"), |p| out.push(change(p, None, Some(va))));
    }
}

fn find<'v>(items: &[(&str, &'v Value)], name: &str) -> Option<&'v Value> {
    items.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

fn nested(path: &mut String, segment: &str, f: impl FnOnce(&mut String)) {
    let len = path.len();
    path.push_str(segment);
    f(path);
    path.truncate(len);
}

fn segment(path: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (plain, path.is_empty()) {
        (true, true) => key.to_owned(),
        (true, false) => format!(".{key}"),
        (false, _) => format!("[{}]", Value::String(key.to_owned())),
    }
}

fn change(path: &str, before: Option<&Value>, after: Option<&Value>) -> FieldChange {
    FieldChange { path: path.to_owned(), before: before.cloned(), after: after.cloned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(image: &str, replicas: u32) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "shop", "resourceVersion": "7", "generation": 3,
                         "labels": {"app.kubernetes.io/name": "api"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "api", "image": image, "ports": [{"containerPort": 8080}]},
                {"name": "proxy", "image": "envoy:1"}
            ]}}},
            "status": {"replicas": 2}
        })
    }

    #[test]
    fn equal_objects_differ_in_nothing_even_when_the_server_bumped_its_counters() {
        let mut applied = deployment("api:1", 2);
        applied["metadata"]["resourceVersion"] = json!("8");
        applied["metadata"]["generation"] = json!(4);
        applied["status"] = json!({"replicas": 3});
        assert_eq!(diff(&deployment("api:1", 2), &applied), vec![]);
    }

    #[test]
    fn changes_name_the_field_the_container_and_both_values() {
        let changes = diff(&deployment("api:1", 2), &deployment("api:2", 3));
        assert_eq!(
            changes,
            vec![
                FieldChange { path: "spec.replicas".into(), before: Some(json!(2)), after: Some(json!(3)) },
                FieldChange {
                    path: "spec.template.spec.containers[name=api].image".into(),
                    before: Some(json!("api:1")),
                    after: Some(json!("api:2")),
                },
            ]
        );
    }

    #[test]
    fn added_and_removed_fields_and_odd_keys() {
        let live = json!({"metadata": {"labels": {"app.kubernetes.io/name": "api", "tier": "web"}}});
        let applied =
            json!({"metadata": {"labels": {"app.kubernetes.io/name": "api", "app.kubernetes.io/version": "2"}}});
        let paths: Vec<_> =
            diff(&live, &applied).into_iter().map(|c| (c.path, c.before.is_some(), c.after.is_some())).collect();
        assert_eq!(
            paths,
            vec![
                ("metadata.labels.tier".to_owned(), true, false),
                ("metadata.labels[\"app.kubernetes.io/version\"]".to_owned(), false, true),
            ]
        );
    }

    #[test]
    fn a_new_container_is_one_change_not_a_shift_of_all_later_ones() {
        let live = json!({"c": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]});
        let applied =
            json!({"c": [{"name": "z", "image": "1"}, {"name": "a", "image": "1"}, {"name": "b", "image": "1"}]});
        let changes = diff(&live, &applied);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].path, "c[name=z]");
    }

    #[test]
    fn unnamed_lists_compare_by_position_or_whole() {
        let changes = diff(&json!({"args": ["a", "b"]}), &json!({"args": ["a", "c"]}));
        assert_eq!(changes[0].path, "args[1]");
        let changes = diff(&json!({"args": ["a"]}), &json!({"args": ["a", "c"]}));
        assert_eq!((changes[0].path.as_str(), changes.len()), ("args", 1));
    }
}
