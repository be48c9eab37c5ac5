//! Test support shared by acme-aws's tests and acmectl's (which include these files by path).
#![allow(dead_code)]

pub mod moto;
pub mod proxy;
pub mod stand_ins;
