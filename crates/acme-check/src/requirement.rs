//! The proposal's requirements, quoted word for word from `infrastructure-proposal.md`, so a
//! finding says which promise of the proposal it would break.

use serde::Serialize;

/// One requirement of the proposal: the section it is in and its own words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// The proposal's heading, e.g. "Encryption".
    pub section: &'static str,
    /// The proposal's sentence, verbatim.
    pub text: &'static str,
}

impl std::fmt::Display for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: \"{}\"", self.section, self.text)
    }
}

const fn r(section: &'static str, text: &'static str) -> Requirement {
    Requirement { section, text }
}

pub const LEAST_PRIVILEGE: Requirement =
    r("IAM Roles", "Least privilege principles ensure minimal necessary permissions.");
pub const ACCESS_CONTROL: Requirement = r("IAM Roles", "Enforces fine-grained access control for AWS resources.");
pub const SERVICE_ACCOUNT_ROLES: Requirement =
    r("IAM Roles", "IAM roles for EC2 instances and Kubernetes service accounts.");
pub const KMS: Requirement = r("Encryption", "Utilizes AWS Key Management Service (KMS) for key management.");
pub const RDS_AT_REST: Requirement = r("Encryption", "Encryption at rest for RDS databases ensures data security.");
pub const ENCRYPTION: Requirement =
    r("Encryption", "Implements encryption mechanisms for data at rest and in transit.");
pub const HTTPS: Requirement = r("Application Load Balancer", "Supports HTTPS for secure communication with users.");
pub const NETWORK_POLICIES: Requirement =
    r("Network Policies", "Ensures secure and controlled communication between microservices.");
pub const POD_TRAFFIC: Requirement = r("Network Policies", "Kubernetes Network Policies control traffic between pods.");
pub const AUTOMATED_UPDATES: Requirement =
    r("Regular Updates", "Utilizes automation for updating EKS worker nodes, ALB, and other components.");
pub const PATCHES: Requirement =
    r("Regular Updates", "Establishes a routine for applying security patches and updates to all components.");
pub const ADVISORIES: Requirement = r("Regular Updates", "Regularly monitors for security advisories and updates.");
pub const RDS_SECURE: Requirement = r(
    "Relational Database Service (RDS)",
    "Hosts the database for ACME's application, ensuring scalable, secure, and highly available data operations.",
);
pub const POINT_IN_TIME: Requirement = r("Backups", "Enables point-in-time recovery for RDS instances.");
pub const BACKUPS: Requirement = r(
    "Backups",
    "Regularly backs up critical data, especially the RDS database, to ensure data integrity and recovery options.",
);
pub const HIGH_AVAILABILITY: Requirement =
    r("Elastic Kubernetes Service (EKS Cluster)", "Supports multiple Availability Zones for high availability.");
pub const AUDIT: Requirement =
    r("Monitoring", "CloudTrail records API calls, ensuring traceability and security auditing.");
pub const ALERTS: Requirement = r("Monitoring", "Allows for setting up custom alerts for critical events.");
pub const IMAGES: Requirement = r("Elastic Container Registry (ECR)", "Provides secure storage for Docker images.");
