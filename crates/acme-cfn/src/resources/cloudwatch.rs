//! `AWS::CLOUDWATCH::*` resource properties.
