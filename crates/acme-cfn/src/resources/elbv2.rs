//! `AWS::ELBV2::*` resource properties.
