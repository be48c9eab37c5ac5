//! `AWS::ECR::*` resource properties.
