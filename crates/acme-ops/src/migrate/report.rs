//! `migrate decommission-report`.
