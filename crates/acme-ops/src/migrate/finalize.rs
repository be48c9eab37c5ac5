//! `migrate finalize`.
