//! The `backup` stack.

use crate::{Stack, StackName};
use acme_spec::Platform;

pub fn build(_p: &Platform) -> Stack {
    Stack::new(StackName::Backup, "backup")
}
