//! Kubernetes objects: network policies deny by default and allow only what acme.yaml
//! declares; pods are hardened (DESIGN.md decision 5).
//!
//! These rules read the synthesized Kubernetes objects and report [`crate::Location::Kubernetes`]
//! locations (`Kind/namespace/name`, which `check.accept[].resource` matches). They join this
//! list when synthesis produces Kubernetes objects:
//! - ACME-K8S-001 every owned namespace has a default-deny policy (ingress and egress);
//! - ACME-K8S-002 every allow rule traces back to acme.yaml (`routes`, `talks_to`, `uses`, DNS);
//! - ACME-POD-001 every pod is hardened: non-root, read-only root file system, no privilege
//!   escalation, all capabilities dropped, seccomp RuntimeDefault, requests and limits, probes,
//!   zone spread, a PodDisruptionBudget.

use crate::Rule;

pub static RULES: &[Rule] = &[];
