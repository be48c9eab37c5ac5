//! `AWS::ROUTE53::*` resource properties.
