//! `AWS::EKS::*` resource properties.
