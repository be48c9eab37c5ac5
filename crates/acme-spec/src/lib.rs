//! `acme.yaml` → [`Platform`]: the validated model every later stage reads.
//!
//! The model is plain data with every default resolved, so synthesis never has to
//! guess. Loading, validation and diagnostics live beside it.

pub mod fixture;
pub mod model;

pub use model::*;
