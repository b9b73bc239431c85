//! Widgets used by several pages.

pub mod shell;
pub mod status_pages;
