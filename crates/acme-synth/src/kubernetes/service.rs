//! A service's Service and TargetGroupBindings.
//!
//! - **Service**: `ClusterIP`, one port per declared port (same number, named like the
//!   container port), selecting the service's pods. Callers reach it at
//!   `<service>.<namespace>.svc.cluster.local`.
//! - **TargetGroupBinding** (`eks.amazonaws.com/v1`, EKS Auto Mode's own): one per target group
//!   of the edge stack (one per routed port, `edge::targets`), binding it to that Service port.
//!   Auto Mode registers the ready pods by IP (`targetType: ip`) through the cluster role's
//!   AmazonEKSLoadBalancingPolicy, which only touches target groups tagged with the cluster's
//!   name, as the edge stack tags them. No `networking` section: the edge stack owns the
//!   security group rules from the load balancer to the pods, and Auto Mode does not support
//!   its `ipBlock` form anyway.

use super::crd::{ServiceReference, TargetGroupBindingSpec};
use super::{Object, TargetGroupBinding, Values, pod_selector, service_meta};
use crate::StackName;
use crate::stacks::edge::Target;
use acme_spec::{Platform, Service};
use k8s_openapi::api::core::v1::{Service as KubeService, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The Service and, for each of its target groups (`targets`, in the edge stack `edge`), a
/// binding of pods to it.
pub fn objects(p: &Platform, s: &Service, targets: &[Target<'_>], edge: StackName, values: &Values) -> Vec<Object> {
    let mut out = vec![Object::Service(service(p, s))];
    for target in targets {
        out.push(Object::TargetGroupBinding(TargetGroupBinding {
            metadata: service_meta(p, s, target.slug()),
            spec: TargetGroupBindingSpec {
                service_ref: ServiceReference {
                    name: s.name.clone(),
                    port: IntOrString::Int(i32::from(target.port.port)),
                },
                target_group_arn: values.output(edge, &target.output()),
                target_type: "ip".into(),
            },
        }));
    }
    out
}

fn service(p: &Platform, s: &Service) -> KubeService {
    KubeService {
        metadata: service_meta(p, s, &s.name),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: pod_selector(s).match_labels,
            ports: Some(
                s.ports
                    .iter()
                    .map(|port| ServicePort {
                        name: Some(port.name.clone()),
                        port: i32::from(port.port),
                        target_port: Some(IntOrString::String(port.name.clone())),
                        protocol: Some("TCP".into()),
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubernetes::Values;
    use acme_spec::{Route, ServicePort as SpecPort};
    use serde_json::json;

    fn values_of(p: &Platform, name: &str) -> Vec<serde_json::Value> {
        let s = p.service(name).expect("service");
        let targets: Vec<Target<'_>> =
            crate::stacks::edge::targets(p).into_iter().filter(|t| t.service.name == name).collect();
        objects(p, s, &targets, StackName::EDGE, &Values::placeholders()).iter().map(Object::to_value).collect()
    }

    #[test]
    fn service_exposes_every_port_by_name_to_its_pods() {
        let mut p = acme_spec::fixture::acme();
        p.services[1].ports.push(SpecPort { name: "admin".into(), port: 9090 });
        let v = &values_of(&p, "api")[0];
        assert_eq!(v["kind"], "Service");
        assert_eq!(v["spec"]["type"], "ClusterIP");
        assert_eq!(v["spec"]["selector"], json!({ "app.kubernetes.io/name": "api" }));
        assert_eq!(
            v["spec"]["ports"],
            json!([
                { "name": "http", "port": 8080, "protocol": "TCP", "targetPort": "http" },
                { "name": "admin", "port": 9090, "protocol": "TCP", "targetPort": "admin" }
            ])
        );
    }

    #[test]
    fn one_binding_per_target_group_from_the_edge_outputs() {
        let mut p = acme_spec::fixture::acme();
        p.services[1].ports.push(SpecPort { name: "admin".into(), port: 9090 });
        p.services[1].routes.push(Route { host: "admin.acme.example.com".into(), path: None, port: 9090 });
        let objects = values_of(&p, "api");
        let bindings: Vec<&serde_json::Value> = objects.iter().filter(|v| v["kind"] == "TargetGroupBinding").collect();
        assert_eq!(bindings.len(), 2);
        assert_eq!(bindings[0]["apiVersion"], "eks.amazonaws.com/v1");
        assert_eq!(bindings[0]["metadata"]["name"], "api");
        assert_eq!(
            bindings[0]["spec"],
            json!({ "serviceRef": { "name": "api", "port": 8080 }, "targetGroupARN": "${edge.ApiTargetGroupArn}", "targetType": "ip" })
        );
        assert_eq!(bindings[1]["metadata"]["name"], "api-admin");
        assert_eq!(bindings[1]["spec"]["serviceRef"]["port"], 9090);
        assert_eq!(bindings[1]["spec"]["targetGroupARN"], "${edge.ApiAdminTargetGroupArn}");
        assert!(bindings.iter().all(|b| b["spec"].get("networking").is_none()));
    }

    #[test]
    fn a_service_without_routes_has_no_binding() {
        let mut p = acme_spec::fixture::acme();
        p.services[2].routes.clear();
        assert!(values_of(&p, "auth").iter().all(|v| v["kind"] != "TargetGroupBinding"));
    }

    #[test]
    fn bindings_name_outputs_the_edge_stack_has() {
        let p = acme_spec::fixture::acme();
        let edge = crate::stacks::edge::build(&p);
        for s in &p.services {
            for v in values_of(&p, &s.name).iter().filter(|v| v["kind"] == "TargetGroupBinding") {
                let arn = v["spec"]["targetGroupARN"].as_str().unwrap_or_default();
                let output = arn.trim_start_matches("${edge.").trim_end_matches('}');
                assert!(edge.template.outputs.contains_key(output), "{arn}");
            }
        }
    }

    #[test]
    fn a_service_on_the_second_load_balancer_binds_to_that_shards_target_group() {
        let p = crate::stacks::testing::with_own_hosts(26);
        let shards = crate::stacks::shards::plan(&p);
        assert_eq!(shards.of_service("extra25"), Some(1));
        let manifests = crate::kubernetes::manifests(&p, &Values::placeholders());
        let arn = |service: &str| {
            let (_, objects) = manifests.services.iter().find(|(name, _)| name == service).expect("service");
            objects
                .iter()
                .map(Object::to_value)
                .find(|o| o["kind"] == "TargetGroupBinding")
                .map(|o| o["spec"]["targetGroupARN"].clone())
        };
        assert_eq!(arn("extra25"), Some(json!("${edge-2.Extra25TargetGroupArn}")));
        assert_eq!(arn("extra0"), Some(json!("${edge.Extra0TargetGroupArn}")));
    }
}
