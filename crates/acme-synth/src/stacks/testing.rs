//! Lookups the stack tests share.

use crate::Stack;
use acme_cfn::Resource;
use acme_spec::{Platform, Route, Service};
use serde_json::{Value, json};

pub fn resource<'a>(s: &'a Stack, id: &str) -> &'a Resource {
    s.template.resources.get(id).unwrap_or_else(|| panic!("no resource {id}"))
}

/// A property of resource `id`, by a dotted path (`Logging.ClusterLogging.EnabledTypes.0`).
pub fn prop<'a>(s: &'a Stack, id: &str, path: &str) -> &'a Value {
    resource(s, id).property(path).unwrap_or_else(|| panic!("{id} has no {path}"))
}

/// A `Ref` to a parameter (or pseudo parameter), as it renders.
pub fn param(name: &str) -> Value {
    json!({ "Ref": name })
}

/// A copy of the platform's first service (the fixture's `web`) under another name, with
/// these routes and no WebSocket.
pub fn service_like(p: &Platform, name: &str, routes: Vec<Route>) -> Service {
    let mut s = p.services[0].clone();
    s.name = name.into();
    s.namespace = name.into();
    s.routes = routes;
    s.websocket = false;
    s
}

/// The fixture without an old side, with `n` more services on hosts of their own
/// (`extra<i>.acme.example.com`): past 23 of them, a second load balancer.
pub fn with_own_hosts(n: usize) -> Platform {
    let mut p = Platform { legacy: None, ..acme_spec::fixture::acme() };
    for i in 0..n {
        let route = Route { host: format!("extra{i}.acme.example.com"), path: None, port: 8080 };
        let s = service_like(&p, &format!("extra{i}"), vec![route]);
        p.services.push(s);
    }
    p
}
