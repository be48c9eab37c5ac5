//! `AWS::RDS::*` resource properties.
