//! `AWS::SNS::*` resource properties.
