//! `AWS::EC2::*` resource properties.
