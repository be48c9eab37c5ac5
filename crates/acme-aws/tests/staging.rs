//! Templates over CloudFormation's 51,200-byte inline limit, deployed to moto's server on
//! 127.0.0.1 through the keys stack's staging bucket: the keys stack first (it creates the
//! bucket), then the large template staged under its content hash and passed as
//! `TemplateURL`; a second deploy finds the object there and sends nothing.

mod support;

use acme_aws::template::{Body, body, staged_key};
use acme_aws::{Backoff, Deployer, Error, Event, Request, Stop};
use acme_synth::StackName;
use acme_synth::stacks::{keys, names};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::moto::MotoServer;

/// The bundled platform with `extra` more services, unrouted: each adds a repository to the
/// registry stack, which passes the inline limit at about 30 services.
fn platform_with(extra: usize) -> acme_spec::Platform {
    let mut p = acme_spec::fixture::acme();
    let template = p.service("chat").expect("chat").clone();
    for i in 0..extra {
        let mut s = template.clone();
        s.name = format!("worker{i}");
        s.namespace = s.name.clone();
        s.routes.clear();
        s.websocket = false;
        s.talks_to.clear();
        s.uses.clear();
        s.migration = Default::default();
        p.services.push(s);
    }
    p
}

#[test]
fn a_template_over_the_inline_limit_goes_through_the_staging_bucket_once() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        let platform = platform_with(40);
        let artifacts = acme_synth::synthesize(&platform);
        let registry = artifacts.stack(StackName::Registry).expect("registry");
        let Body::ToStage(json) = body("acme-registry", &registry.template).expect("under 1 MB") else {
            panic!("the registry of 44 services is over the inline limit")
        };
        let sdk = moto.sdk().await;
        let events = Arc::new(Mutex::new(vec![]));
        let seen = events.clone();
        let deployer = Deployer::new(&sdk)
            .with_backoff(Backoff {
                first: Duration::from_millis(50),
                max: Duration::from_millis(500),
                timeout: Duration::from_secs(120),
            })
            .with_progress(move |e: &Event| {
                if let Event::Staged { stack_name, location, uploaded, .. } = e {
                    seen.lock().expect("lock").push((stack_name.clone(), location.clone(), *uploaded));
                }
            });
        // The registry lets the cluster's nodes pull: a stand-in for the cluster stack's role.
        let node_role = ("NodeRoleArn".to_owned(), "arn:aws:iam::123456789012:role/acme-node-stand-in".to_owned());
        let only = |s: &[StackName]| Request {
            only: Some(s.iter().copied().collect()),
            parameters: [node_role.clone()].into(),
            ..Default::default()
        };

        // Without the keys stack in the run, and no bucket yet: refused before any change.
        let err = deployer.plan(&artifacts, &only(&[StackName::Registry])).await.expect_err("no staging bucket");
        assert!(matches!(&err, Error::NoStagingBucket { stack_name } if stack_name == "acme-registry"), "{err}");
        assert!(err.to_string().contains("acmectl deploy --stack keys"), "{err}");
        let cfn = aws_sdk_cloudformation::Client::new(&sdk);
        assert!(cfn.describe_stacks().send().await.expect("stacks").stacks().is_empty(), "nothing was created");

        // With it: the plan defers the registry until the keys stack made the bucket.
        let plan = deployer
            .plan(&artifacts, &only(&[StackName::Keys, StackName::Ci, StackName::Registry]))
            .await
            .expect("plan");
        let planned = plan.stack("acme-registry").expect("registry planned");
        assert!(planned.deferred.as_deref().is_some_and(|d| d.contains("staging bucket")), "{planned:?}");
        assert!(planned.depends_on.contains(&StackName::Keys));
        plan.discard(&deployer).await.expect("discard");

        let report = deployer
            .deploy(&artifacts, &only(&[StackName::Keys, StackName::Ci, StackName::Registry]))
            .await
            .expect("deploy");
        assert_eq!(report.executed(), 3, "{report:?}");
        let bucket = report.stack("acme-keys").expect("keys").outputs[names::outputs::STAGING_BUCKET_NAME].clone();
        assert_eq!(bucket, "acme-acmectl-staging-123456789012-us-east-1");
        let key = staged_key(&json);
        assert_eq!(
            events.lock().expect("lock").clone(),
            [("acme-registry".to_owned(), format!("s3://{bucket}/{key}"), true)]
        );
        let s3 = acme_aws::config::s3_client(&sdk);
        let listed = s3.list_objects_v2().bucket(&bucket).send().await.expect("objects");
        let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
        assert_eq!(keys, [key.as_str()], "the template under its hash, nothing else");
        let ecr = aws_sdk_ecr::Client::new(&sdk);
        let repositories = ecr.describe_repositories().max_results(1000).send().await.expect("repositories");
        assert_eq!(repositories.repositories().len(), platform.services.len(), "one per service, from S3");

        // Nothing changed: the staged object is found and not sent again; no change set runs.
        events.lock().expect("lock").clear();
        let again = deployer
            .deploy(&artifacts, &only(&[StackName::Keys, StackName::Ci, StackName::Registry]))
            .await
            .expect("again");
        assert_eq!(again.executed(), 0, "{again:?}");
        assert_eq!(
            events.lock().expect("lock").clone(),
            [("acme-registry".to_owned(), format!("s3://{bucket}/{key}"), false)]
        );
        let listed = s3.list_objects_v2().bucket(&bucket).send().await.expect("objects");
        assert_eq!(listed.contents().len(), 1);
        let stacks: BTreeSet<String> = cfn
            .describe_stacks()
            .send()
            .await
            .expect("stacks")
            .stacks()
            .iter()
            .filter_map(|s| s.stack_name().map(str::to_owned))
            .collect();
        assert_eq!(stacks, BTreeSet::from(["acme-ci", "acme-keys", "acme-registry"].map(str::to_owned)));

        // destroy keeps the bucket (the keys stack retains it) and lists it; it goes only when
        // asked (`destroy --remove-staging-bucket`), emptied first.
        let teardown = deployer.teardown(&artifacts, &sdk).await.expect("teardown");
        let kept = teardown.kept.iter().find(|k| k.logical_id == keys::STAGING_BUCKET).expect("listed as kept");
        assert_eq!(kept.physical_id.as_deref(), Some(bucket.as_str()));
        let destroyed = deployer.destroy(&teardown, Stop::never()).await;
        assert!(destroyed.error.is_none(), "{:?}", destroyed.error);
        assert!(s3.head_bucket().bucket(&bucket).send().await.is_ok(), "retained");
        assert_eq!(deployer.remove_bucket(&bucket).await.expect("removed"), 1, "one staged object");
        assert!(s3.head_bucket().bucket(&bucket).send().await.is_err(), "gone");
    });
    drop(moto);
}
