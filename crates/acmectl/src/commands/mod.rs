//! One module per verb: read arguments, call the library, render the result.

pub mod schema;
pub mod synth;
