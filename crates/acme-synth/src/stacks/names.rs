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
