//! Lookups for stack unit tests that fail with the id or path they did not find.

use crate::Stack;
use acme_cfn::Resource;
use serde_json::Value;

pub fn resource<'a>(s: &'a Stack, id: &str) -> &'a Resource {
    s.template.resources.get(id).unwrap_or_else(|| panic!("missing resource {id}"))
}

pub fn prop<'a>(s: &'a Stack, id: &str, path: &str) -> &'a Value {
    resource(s, id).property(path).unwrap_or_else(|| panic!("{id} has no {path}"))
}
