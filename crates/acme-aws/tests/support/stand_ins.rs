//! Values that stand in for the stack outputs moto cannot give, as `--parameter NAME=VALUE`
//! pairs: a real security group in the platform's VPC for the EKS cluster's, certificates
//! requested through ACM's API (moto skips `AWS::CertificateManager::Certificate`), and fixed
//! ARNs for the cluster and the database secret.

/// `["--parameter", "NAME=VALUE", ...]` for the bundled acme.yaml, once the network exists.
pub async fn stand_ins(sdk: &aws_config::SdkConfig, vpc_id: &str) -> Vec<String> {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let sg = ec2
        .create_security_group()
        .group_name("acme-eks-cluster-stand-in")
        .description("stands in for the EKS cluster security group")
        .vpc_id(vpc_id)
        .send()
        .await
        .expect("security group");
    let mut args = vec![
        format!("ClusterSecurityGroupId={}", sg.group_id().expect("id")),
        "ClusterArn=arn:aws:eks:us-east-1:123456789012:cluster/acme".to_owned(),
        "ClusterName=acme".to_owned(),
        "DatabaseSecretArn=arn:aws:secretsmanager:us-east-1:123456789012:secret:rds-stand-in".to_owned(),
    ];
    let acm = aws_sdk_acm::Client::new(sdk);
    for host in ["www.acme.example.com", "auth.acme.example.com", "chat.acme.example.com"] {
        let arn = acm.request_certificate().domain_name(host).send().await.expect("certificate");
        args.push(format!(
            "{}={}",
            acme_synth::stacks::names::certificate_output(host),
            arn.certificate_arn().expect("arn")
        ));
    }
    args.into_iter().flat_map(|a| ["--parameter".to_owned(), a]).collect()
}

/// Alarms named `names`, in OK, as the observability stack would make them: moto's
/// CloudFormation skips `AWS::CloudWatch::Alarm`, so the migration tests make them through
/// the API.
pub async fn alarms(sdk: &aws_config::SdkConfig, names: impl IntoIterator<Item = &String>) {
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    for name in names {
        cw.put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/ApplicationELB")
            .metric_name("HTTPCode_Target_5XX_Count")
            .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
            .period(60)
            .evaluation_periods(3)
            .threshold(5.0)
            .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
            .send()
            .await
            .expect("alarm");
    }
}

/// Put `name` in ALARM at `value` (moto never evaluates metrics; SetAlarmState is how a test
/// fires one).
pub async fn set_alarm(sdk: &aws_config::SdkConfig, name: &str, value: f64) {
    aws_sdk_cloudwatch::Client::new(sdk)
        .set_alarm_state()
        .alarm_name(name)
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason(format!("Threshold Crossed: 1 datapoint [{value}] was greater than the threshold (5.0)."))
        .state_reason_data(format!(r#"{{"version":"1.0","recentDatapoints":[{value}],"threshold":5.0}}"#))
        .send()
        .await
        .expect("set alarm state");
}

/// Pods stood in for: `n` IP targets in the target group `group_arn` (moto reports them
/// healthy).
pub async fn targets(sdk: &aws_config::SdkConfig, group_arn: &str, n: u8) {
    let mut request = aws_sdk_elasticloadbalancingv2::Client::new(sdk).register_targets().target_group_arn(group_arn);
    for i in 0..n {
        request = request.targets(
            aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
                .id(format!("10.20.0.{}", 10 + i))
                .port(8080)
                .build(),
        );
    }
    request.send().await.expect("register targets");
}
