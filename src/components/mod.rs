//! Widgets used by several pages.

pub mod csv_upload;
pub mod notice;
pub mod shell;
pub mod status_pages;
