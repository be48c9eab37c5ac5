//! `AWS::CLOUDTRAIL::*` resource properties.
