//! `AWS::BACKUP::*` resource properties.
