//! One module per verb: read arguments, call the library, render the result.

pub mod check;
pub mod diagram;
pub mod schema;
pub mod synth;
