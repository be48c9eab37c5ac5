//! A service's ServiceAccount and Deployment: the pods, hardened.
//!
//! - **ServiceAccount** named like the service, in its namespace: the services stack's Pod
//!   Identity association names exactly that pair, so these pods, and only they, get the
//!   service's IAM role. `automountServiceAccountToken: false`: the pods never call the
//!   Kubernetes API, and Pod Identity mounts a token of its own (audience
//!   `pods.eks.amazonaws.com`) whatever this says.
//! - **Image**: the service's ECR repository at the digest (or immutable tag) the deploy gives
//!   ([`Values`]). `imagePullPolicy: IfNotPresent`: the repositories refuse to overwrite a tag,
//!   so a reference never changes meaning and a cached image is the right one; `Always` would
//!   only add a registry round trip to every pod start and make starts depend on ECR.
//! - **No `replicas`**: the HorizontalPodAutoscaler owns the count. With the field in the
//!   applied manifest, every deploy would reset the count to it under server-side apply and
//!   fight the autoscaler; without it, a new Deployment starts at one pod and the autoscaler
//!   raises it to `replicas.min` at once (it enforces min and max even before it has metrics).
//! - **Rollout**: one extra pod at a time, none taken away before its replacement is available;
//!   a new pod counts as available only after [`MIN_READY_SECONDS`], the time the load balancer
//!   needs to register it and see it healthy, so a rollout never outruns the target group.
//! - **Probes** on the file's health path and the `http` port: startup (up to five minutes to
//!   start), readiness (out of the Service and the target group after 15 s failing), liveness
//!   (restart after 30 s failing). One path for all three, as the file gives one; it must not
//!   check dependencies, or a database outage restarts every pod.
//! - **Spread**: at most one pod of difference between zones (hard: a zone outage takes at most
//!   its share) and between nodes (soft, so a small cluster still schedules).
//! - **Termination** fits the ALB's deregistration delay ([`pre_stop_seconds`]): WebSocket
//!   services drain for minutes, the others for seconds.
//! - **Hardening**: non-root with a high UID and GID (10001, clear of any host account), no
//!   privilege escalation, every capability dropped, seccomp `RuntimeDefault`, read-only root
//!   file system with a size-limited `emptyDir` at `/tmp`, no service links in the environment.
//!   This meets Pod Security `restricted`, which the namespace enforces.
//! - **Encryption in transit**: the pods run only on nodes whose instance type encrypts all
//!   traffic between instances in hardware ([`ENCRYPTION_IN_TRANSIT_LABEL`]; README, "Encryption
//!   in transit").
//!
//! The environment is the file's `env` plus what acmectl sets ([`env`]): never a secret.

use super::{Object, Values, checkov_skips, env_name, pod_selector, service_labels, service_meta};
use crate::StackName;
use crate::stacks::data::engine_name;
use crate::stacks::edge::{HEALTH_CHECK_INTERVAL_SECONDS, HEALTHY_THRESHOLD_COUNT, deregistration_delay};
use crate::stacks::names::{self, outputs};
use crate::stacks::services::{buckets, uses_database};
use acme_spec::{Platform, Service};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, HTTPGetAction, Lifecycle, LifecycleHandler,
    PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, SecurityContext,
    ServiceAccount, SleepAction, TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// User and group the containers run as: above 10000, so they match no account of the node.
pub const RUN_AS: i64 = 10001;

/// Node label EKS Auto Mode sets on every node: whether its instance type encrypts traffic to
/// other such instances in hardware (AWS Nitro, AES-256). Selecting `"true"` makes Auto Mode
/// launch only such instance types for these pods.
pub const ENCRYPTION_IN_TRANSIT_LABEL: &str = "eks.amazonaws.com/instance-encryption-in-transit-supported";

/// Writable scratch space at `/tmp`, the only writable path of the container.
pub const TMP_SIZE_LIMIT: &str = "256Mi";

/// Time for a terminating pod's removal from the Service to reach Auto Mode's load balancer
/// controller and the target to turn `draining` in the ALB. Until then the ALB may still send
/// new requests.
pub const DEREGISTRATION_PROPAGATION_SECONDS: u32 = 10;

/// Time the application gets after SIGTERM to finish and exit.
pub const SHUTDOWN_SECONDS: u32 = 20;

/// How long a new pod must be ready before it counts as available: registered in its target
/// group, then healthy to the ALB.
pub const MIN_READY_SECONDS: i32 =
    (DEREGISTRATION_PROPAGATION_SECONDS + HEALTH_CHECK_INTERVAL_SECONDS * HEALTHY_THRESHOLD_COUNT) as i32;

/// How long a terminating pod keeps serving before it gets SIGTERM: until the ALB has stopped
/// sending it new requests and its deregistration delay has run out, so no request (or
/// WebSocket) the ALB still holds open to it is cut by the pod's exit.
pub fn pre_stop_seconds(s: &Service) -> u32 {
    DEREGISTRATION_PROPAGATION_SECONDS + deregistration_delay(s)
}

/// The whole time a terminating pod may take.
pub fn termination_grace_seconds(s: &Service) -> u32 {
    pre_stop_seconds(s) + SHUTDOWN_SECONDS
}

pub fn objects(p: &Platform, s: &Service, values: &Values) -> Vec<Object> {
    vec![Object::ServiceAccount(service_account(p, s)), Object::Deployment(deployment(p, s, values))]
}

fn service_account(p: &Platform, s: &Service) -> ServiceAccount {
    ServiceAccount {
        metadata: service_meta(p, s, &s.name),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    }
}

/// The environment of a service's container, sorted by name:
///
/// - `AWS_REGION`: the platform's region, for the AWS SDKs.
/// - For a database user: `DATABASE_SECRET_ARN` (the RDS-managed secret), `DATABASE_HOST`,
///   `DATABASE_PORT`, `DATABASE_NAME`, `DATABASE_ENGINE`. No password: the service reads the
///   secret with its own Pod Identity credentials (its role may read exactly that secret), and
///   reads it again when a login fails, which also follows RDS's rotation of the password.
/// - `ACME_BUCKET_<NAME>`: the name of each bucket it owns.
/// - `ACME_<CALLEE>_URL`: `http://<callee>.<namespace>.svc.cluster.local:<port>` per `talks_to`.
/// - The file's `env` (the validator keeps it clear of these names).
pub fn env(p: &Platform, s: &Service, values: &Values) -> Vec<EnvVar> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    vars.insert("AWS_REGION".into(), p.region.clone());
    if let (true, Some(db)) = (uses_database(p, s), &p.database) {
        vars.insert("DATABASE_SECRET_ARN".into(), values.output(StackName::Data, outputs::DATABASE_SECRET_ARN));
        vars.insert("DATABASE_HOST".into(), values.output(StackName::Data, outputs::DATABASE_ENDPOINT));
        vars.insert("DATABASE_PORT".into(), db.engine.port().to_string());
        vars.insert("DATABASE_NAME".into(), db.db_name.clone());
        vars.insert("DATABASE_ENGINE".into(), engine_name(db.engine).into());
    }
    for bucket in buckets(s) {
        let name = values.output(StackName::Services, &names::bucket_output(&s.name, bucket));
        vars.insert(format!("ACME_BUCKET_{}", env_name(bucket)), name);
    }
    for callee in s.talks_to.iter().filter_map(|c| p.service(c)) {
        vars.insert(format!("ACME_{}_URL", env_name(&callee.name)), callee_url(callee));
    }
    for (k, v) in &s.env {
        vars.entry(k.clone()).or_insert_with(|| v.clone());
    }
    vars.into_iter().map(|(name, value)| EnvVar { name, value: Some(value), value_from: None }).collect()
}

/// The in-cluster URL of a service's main port.
pub fn callee_url(callee: &Service) -> String {
    format!("http://{}.{}.svc.cluster.local:{}", callee.name, callee.namespace, callee.main_port())
}

fn http_probe(s: &Service, period: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(s.health.path.clone()),
            port: IntOrString::String("http".into()),
            scheme: Some("HTTP".into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        failure_threshold: Some(failures),
        timeout_seconds: Some(3),
        ..Probe::default()
    }
}

fn spread(s: &Service, topology_key: &str, when_unsatisfiable: &str) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        topology_key: topology_key.into(),
        max_skew: 1,
        when_unsatisfiable: when_unsatisfiable.into(),
        label_selector: Some(pod_selector(s)),
        // Spread each revision by itself, so a rollout does not count the old pods.
        match_label_keys: Some(vec!["pod-template-hash".into()]),
        ..TopologySpreadConstraint::default()
    }
}

fn quantity(text: &str) -> Quantity {
    Quantity(text.to_owned())
}

fn container(p: &Platform, s: &Service, values: &Values) -> Container {
    let r = &s.resources;
    Container {
        name: s.name.clone(),
        image: Some(values.image(&s.name)),
        image_pull_policy: Some("IfNotPresent".into()),
        ports: Some(
            s.ports
                .iter()
                .map(|port| ContainerPort {
                    name: Some(port.name.clone()),
                    container_port: i32::from(port.port),
                    protocol: Some("TCP".into()),
                    ..ContainerPort::default()
                })
                .collect(),
        ),
        env: Some(env(p, s, values)),
        resources: Some(ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".to_owned(), quantity(&r.cpu_request)),
                ("memory".to_owned(), quantity(&r.memory_request)),
            ])),
            limits: Some(BTreeMap::from([
                ("cpu".to_owned(), quantity(&r.cpu_limit)),
                ("memory".to_owned(), quantity(&r.memory_limit)),
            ])),
            ..ResourceRequirements::default()
        }),
        startup_probe: Some(http_probe(s, 5, 60)),
        readiness_probe: Some(http_probe(s, 5, 3)),
        liveness_probe: Some(http_probe(s, 10, 3)),
        lifecycle: Some(Lifecycle {
            pre_stop: Some(LifecycleHandler {
                sleep: Some(SleepAction { seconds: i64::from(pre_stop_seconds(s)) }),
                ..LifecycleHandler::default()
            }),
            ..Lifecycle::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: Some(RUN_AS),
            run_as_group: Some(RUN_AS),
            capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), add: None }),
            seccomp_profile: Some(runtime_default()),
            ..SecurityContext::default()
        }),
        volume_mounts: Some(vec![VolumeMount {
            name: "tmp".into(),
            mount_path: "/tmp".into(),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None }
}

/// checkov checks that acmectl's choices fail on purpose, with why.
const DEPLOYMENT_SKIPS: [(&str, &str); 1] = [(
    "CKV_K8S_15",
    "ECR tags here are immutable and the deploy pins images by digest, so a cached image is always the right one; Always would only make every pod start depend on a registry round trip",
)];

fn deployment(p: &Platform, s: &Service, values: &Values) -> Deployment {
    let mut metadata = service_meta(p, s, &s.name);
    metadata.annotations = Some(checkov_skips(&DEPLOYMENT_SKIPS));
    Deployment {
        metadata,
        spec: Some(DeploymentSpec {
            // No `replicas`: the HorizontalPodAutoscaler owns it (module docs).
            replicas: None,
            selector: pod_selector(s),
            revision_history_limit: Some(5),
            min_ready_seconds: Some(MIN_READY_SECONDS),
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(IntOrString::Int(1)),
                    max_unavailable: Some(IntOrString::Int(0)),
                }),
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(service_labels(p, s)), ..ObjectMeta::default() }),
                spec: Some(PodSpec {
                    service_account_name: Some(s.name.clone()),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    node_selector: Some(BTreeMap::from([(ENCRYPTION_IN_TRANSIT_LABEL.to_owned(), "true".to_owned())])),
                    topology_spread_constraints: Some(vec![
                        spread(s, "topology.kubernetes.io/zone", "DoNotSchedule"),
                        spread(s, "kubernetes.io/hostname", "ScheduleAnyway"),
                    ]),
                    termination_grace_period_seconds: Some(i64::from(termination_grace_seconds(s))),
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        run_as_user: Some(RUN_AS),
                        run_as_group: Some(RUN_AS),
                        fs_group: Some(RUN_AS),
                        seccomp_profile: Some(runtime_default()),
                        ..PodSecurityContext::default()
                    }),
                    containers: vec![container(p, s, values)],
                    volumes: Some(vec![Volume {
                        name: "tmp".into(),
                        empty_dir: Some(EmptyDirVolumeSource {
                            size_limit: Some(quantity(TMP_SIZE_LIMIT)),
                            medium: None,
                        }),
                        ..Volume::default()
                    }]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubernetes::ImageRef;
    use crate::stacks::edge::{
        DEREGISTRATION_DELAY_SECONDS, HEALTH_CHECK_INTERVAL_SECONDS as ALB_HEALTH_CHECK_INTERVAL_SECONDS,
        HEALTHY_THRESHOLD_COUNT as ALB_HEALTHY_THRESHOLD,
    };
    use serde_json::{Value, json};

    fn deployment_of(p: &Platform, name: &str) -> Value {
        let s = p.service(name).expect("service");
        Object::Deployment(deployment(p, s, &Values::placeholders())).to_value()
    }

    fn acme() -> Platform {
        acme_spec::fixture::acme()
    }

    #[test]
    fn service_account_is_the_pod_identity_pair_and_mounts_no_token() {
        let p = acme();
        let sa = Object::ServiceAccount(service_account(&p, &p.services[1])).to_value();
        assert_eq!(sa["metadata"]["name"], "api");
        assert_eq!(sa["metadata"]["namespace"], "api");
        assert_eq!(sa["automountServiceAccountToken"], false);
        let d = deployment_of(&p, "api");
        assert_eq!(d["spec"]["template"]["spec"]["serviceAccountName"], "api");
        assert_eq!(d["spec"]["template"]["spec"]["automountServiceAccountToken"], false);
    }

    #[test]
    fn pods_and_containers_are_hardened() {
        let d = deployment_of(&acme(), "web");
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(
            pod["securityContext"],
            json!({
                "fsGroup": 10001, "runAsGroup": 10001, "runAsNonRoot": true, "runAsUser": 10001,
                "seccompProfile": { "type": "RuntimeDefault" }
            })
        );
        let c = &pod["containers"][0];
        assert_eq!(
            c["securityContext"],
            json!({
                "allowPrivilegeEscalation": false,
                "capabilities": { "drop": ["ALL"] },
                "privileged": false,
                "readOnlyRootFilesystem": true,
                "runAsGroup": 10001, "runAsNonRoot": true, "runAsUser": 10001,
                "seccompProfile": { "type": "RuntimeDefault" }
            })
        );
        assert_eq!(c["volumeMounts"], json!([{ "mountPath": "/tmp", "name": "tmp" }]));
        assert_eq!(pod["volumes"], json!([{ "emptyDir": { "sizeLimit": "256Mi" }, "name": "tmp" }]));
        assert_eq!(pod["enableServiceLinks"], false);
        for absent in ["hostNetwork", "hostPID", "hostIPC"] {
            assert!(pod.get(absent).is_none(), "{absent}");
        }
    }

    #[test]
    fn pods_run_only_on_nodes_that_encrypt_in_transit() {
        let d = deployment_of(&acme(), "web");
        assert_eq!(
            d["spec"]["template"]["spec"]["nodeSelector"],
            json!({ "eks.amazonaws.com/instance-encryption-in-transit-supported": "true" })
        );
    }

    #[test]
    fn probes_check_the_health_path_on_the_http_port() {
        let mut p = acme();
        p.services[0].health.path = "/ready".into();
        let d = deployment_of(&p, "web");
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        for (probe, period, failures) in [("startupProbe", 5, 60), ("readinessProbe", 5, 3), ("livenessProbe", 10, 3)] {
            assert_eq!(c[probe]["httpGet"], json!({ "path": "/ready", "port": "http", "scheme": "HTTP" }), "{probe}");
            assert_eq!(c[probe]["periodSeconds"], period, "{probe}");
            assert_eq!(c[probe]["failureThreshold"], failures, "{probe}");
        }
        assert_eq!(c["ports"], json!([{ "containerPort": 8080, "name": "http", "protocol": "TCP" }]));
    }

    #[test]
    fn resources_come_from_the_file_and_replicas_from_the_autoscaler() {
        let mut p = acme();
        p.services[0].resources.cpu_limit = "2".into();
        p.services[0].resources.memory_limit = "1Gi".into();
        let d = deployment_of(&p, "web");
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["resources"],
            json!({ "limits": { "cpu": "2", "memory": "1Gi" }, "requests": { "cpu": "250m", "memory": "256Mi" } })
        );
        assert!(d["spec"].get("replicas").is_none(), "the HPA owns replicas");
    }

    #[test]
    fn image_is_the_service_repository_at_the_deploy_digest_and_pulled_if_not_present() {
        let p = acme();
        let d = deployment_of(&p, "chat");
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], "${registry.ChatRepositoryUri}@${image.chat}");
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        let mut values = Values::placeholders();
        values.set_image("chat", ImageRef::Digest("sha256:0123".into()));
        let d = Object::Deployment(deployment(&p, &p.services[3], &values)).to_value();
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["image"],
            "${registry.ChatRepositoryUri}@sha256:0123"
        );
    }

    #[test]
    fn spread_over_zones_hard_and_nodes_soft() {
        let d = deployment_of(&acme(), "api");
        let selector = json!({ "matchLabels": { "app.kubernetes.io/name": "api" } });
        assert_eq!(
            d["spec"]["template"]["spec"]["topologySpreadConstraints"],
            json!([
                { "labelSelector": selector, "matchLabelKeys": ["pod-template-hash"], "maxSkew": 1,
                  "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule" },
                { "labelSelector": selector, "matchLabelKeys": ["pod-template-hash"], "maxSkew": 1,
                  "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway" }
            ])
        );
    }

    #[test]
    fn termination_outlasts_the_alb_drain_and_websockets_drain_longer() {
        let p = acme();
        for (name, pre_stop, grace) in [("web", 40, 60), ("chat", 310, 330)] {
            let d = deployment_of(&p, name);
            let pod = &d["spec"]["template"]["spec"];
            assert_eq!(
                pod["containers"][0]["lifecycle"]["preStop"],
                json!({ "sleep": { "seconds": pre_stop } }),
                "{name}"
            );
            assert_eq!(pod["terminationGracePeriodSeconds"], grace, "{name}");
        }
        let s = &p.services[0];
        assert!(pre_stop_seconds(s) > DEREGISTRATION_DELAY_SECONDS);
        assert!(termination_grace_seconds(s) > pre_stop_seconds(s));
    }

    #[test]
    fn rollouts_wait_for_the_load_balancer_to_see_new_pods_healthy() {
        let p = acme();
        let d = deployment_of(&p, "web");
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"], json!({ "maxSurge": 1, "maxUnavailable": 0 }));
        assert_eq!(d["spec"]["minReadySeconds"], MIN_READY_SECONDS);
        // The constants match the edge stack's target groups.
        let edge = crate::stacks::edge::build(&p);
        let tg = edge.template.resources.get("WebTargetGroup").expect("target group").properties.clone();
        assert_eq!(tg["HealthCheckIntervalSeconds"], ALB_HEALTH_CHECK_INTERVAL_SECONDS);
        assert_eq!(tg["HealthyThresholdCount"], ALB_HEALTHY_THRESHOLD);
    }

    fn env_map(p: &Platform, name: &str) -> BTreeMap<String, String> {
        let s = p.service(name).expect("service");
        env(p, s, &Values::placeholders()).into_iter().map(|e| (e.name, e.value.unwrap_or_default())).collect()
    }

    #[test]
    fn database_users_get_where_the_secret_is_never_the_password() {
        let p = acme();
        let env = env_map(&p, "auth");
        assert_eq!(
            env,
            BTreeMap::from([
                ("AWS_REGION".into(), "us-east-1".into()),
                ("DATABASE_ENGINE".into(), "postgres".into()),
                ("DATABASE_HOST".into(), "${data.DatabaseEndpoint}".into()),
                ("DATABASE_NAME".into(), "acme".into()),
                ("DATABASE_PORT".into(), "5432".into()),
                ("DATABASE_SECRET_ARN".into(), "${data.DatabaseSecretArn}".into()),
            ])
        );
        let text = format!("{env:?}").to_lowercase();
        assert!(!text.contains("password"));
        assert!(!env_map(&p, "web").keys().any(|k| k.starts_with("DATABASE_")));
    }

    #[test]
    fn callees_buckets_and_the_file_s_own_env() {
        let mut p = acme();
        p.services[1].env.insert("LOG_LEVEL".into(), "info".into());
        let env = env_map(&p, "api");
        assert_eq!(env["ACME_AUTH_URL"], "http://auth.auth.svc.cluster.local:8080");
        assert_eq!(env["ACME_BUCKET_UPLOADS"], "${services.ApiUploadsBucketName}");
        assert_eq!(env["LOG_LEVEL"], "info");
        let names: Vec<&String> = env.keys().collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(env_map(&p, "web")["ACME_API_URL"], "http://api.api.svc.cluster.local:8080");
    }

    #[test]
    fn image_pull_policy_skip_gives_a_reason() {
        let d = deployment_of(&acme(), "web");
        let skip = d["metadata"]["annotations"]["checkov.io/skip1"].as_str().unwrap_or_default();
        assert!(skip.starts_with("CKV_K8S_15=") && skip.len() > 60, "{skip}");
    }
}
