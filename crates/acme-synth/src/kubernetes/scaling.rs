//! A service's HorizontalPodAutoscaler and PodDisruptionBudget.
//!
//! - **HorizontalPodAutoscaler** (`autoscaling/v2`) between the file's `replicas.min` and
//!   `replicas.max`, at 70 % of the CPU request. It owns the replica count (the Deployment leaves
//!   it out). It holds min and max even without metrics; scaling on CPU reads the metrics API,
//!   which Auto Mode does not serve by itself: the cluster stack adds the `metrics-server` add-on.
//! - **PodDisruptionBudget**: at most one pod of the service evicted at a time. Not
//!   `minAvailable: <min>`: while the autoscaler runs exactly `min` pods, that would allow no
//!   eviction at all and block every node replacement Auto Mode makes (its weekly AMI updates,
//!   consolidation) until its forced drain. Pods that are not running ready may always be
//!   evicted (`AlwaysAllow`), so a crash-looping pod never holds a node.

use super::{Object, pod_selector, service_meta};
use acme_spec::{Platform, Service};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Average CPU use, in percent of the request, the autoscaler steers to.
pub const TARGET_CPU_UTILIZATION: i32 = 70;

pub fn objects(p: &Platform, s: &Service) -> Vec<Object> {
    vec![Object::HorizontalPodAutoscaler(autoscaler(p, s)), Object::PodDisruptionBudget(disruption_budget(p, s))]
}

/// Replica counts are validated to 1..=1000, so they fit an `i32`.
fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn autoscaler(p: &Platform, s: &Service) -> HorizontalPodAutoscaler {
    HorizontalPodAutoscaler {
        metadata: service_meta(p, s, &s.name),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: s.name.clone(),
            },
            min_replicas: Some(count(s.replicas.min)),
            max_replicas: count(s.replicas.max),
            metrics: Some(vec![MetricSpec {
                type_: "Resource".into(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".into(),
                    target: MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(TARGET_CPU_UTILIZATION),
                        ..MetricTarget::default()
                    },
                }),
                ..MetricSpec::default()
            }]),
            behavior: None,
        }),
        status: None,
    }
}

fn disruption_budget(p: &Platform, s: &Service) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: service_meta(p, s, &s.name),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(pod_selector(s)),
            unhealthy_pod_eviction_policy: Some("AlwaysAllow".into()),
            ..PodDisruptionBudgetSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn autoscaler_spans_the_file_s_replica_range() {
        let mut p = acme_spec::fixture::acme();
        p.services[3].replicas = acme_spec::Replicas { min: 3, max: 12 };
        let v = Object::HorizontalPodAutoscaler(autoscaler(&p, &p.services[3])).to_value();
        assert_eq!(v["apiVersion"], "autoscaling/v2");
        assert_eq!(v["spec"]["minReplicas"], 3);
        assert_eq!(v["spec"]["maxReplicas"], 12);
        assert_eq!(
            v["spec"]["scaleTargetRef"],
            json!({ "apiVersion": "apps/v1", "kind": "Deployment", "name": "chat" })
        );
        assert_eq!(
            v["spec"]["metrics"],
            json!([{ "resource": { "name": "cpu", "target": { "averageUtilization": 70, "type": "Utilization" } }, "type": "Resource" }])
        );
    }

    #[test]
    fn disruption_budget_lets_one_pod_go_at_a_time() {
        let p = acme_spec::fixture::acme();
        let v = Object::PodDisruptionBudget(disruption_budget(&p, &p.services[0])).to_value();
        assert_eq!(v["apiVersion"], "policy/v1");
        assert_eq!(
            v["spec"],
            json!({
                "maxUnavailable": 1,
                "selector": { "matchLabels": { "app.kubernetes.io/name": "web" } },
                "unhealthyPodEvictionPolicy": "AlwaysAllow"
            })
        );
    }
}
