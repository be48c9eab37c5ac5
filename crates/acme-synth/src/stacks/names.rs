//! Names shared between stacks: physical names that one stack creates and another must
//! know before that stack exists, and the output names stacks import by.

use acme_spec::Platform;

/// Name of the role CI assumes; fixed so repository and key policies can name it.
pub fn ci_role(p: &Platform) -> String {
    format!("{}-ci", p.name)
}

/// Name of the role EKS Auto Mode nodes run as; repository policies allow it to pull.
pub fn node_role(p: &Platform) -> String {
    format!("{}-eks-node", p.name)
}

pub fn cluster(p: &Platform) -> String {
    p.name.clone()
}

/// ECR repository of a service: `<platform>/<service>`.
pub fn repository(p: &Platform, service: &str) -> String {
    format!("{}/{service}", p.name)
}

/// Logical id of a service's target group in the edge stack (one per routed service port).
pub fn target_group(service: &acme_spec::Service, port: &acme_spec::ServicePort) -> String {
    let svc = acme_cfn::pascal(&service.name);
    if port.port == service.main_port() {
        format!("{svc}TargetGroup")
    } else {
        format!("{svc}{}TargetGroup", acme_cfn::pascal(&port.name))
    }
}

/// Edge output carrying that target group's ARN (read by TargetGroupBinding and alarms).
pub fn target_group_output(service: &acme_spec::Service, port: &acme_spec::ServicePort) -> String {
    format!("{}Arn", target_group(service, port))
}

/// DNS output carrying the ARN of the certificate for one host.
pub fn certificate_output(host: &str) -> String {
    format!("Certificate{}Arn", acme_cfn::pascal(host))
}
