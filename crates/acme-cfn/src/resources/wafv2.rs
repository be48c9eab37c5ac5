//! `AWS::WAFV2::*` resource properties.
