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
