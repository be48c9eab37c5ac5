//! `AWS::ACM::*` resource properties.
