//! Widgets used by several pages.

pub mod count;
pub mod csv_upload;
pub mod deferred;
pub mod exports;
pub mod filter;
pub mod focus;
pub mod handover;
pub mod markup;
pub mod notice;
pub mod progress;
pub mod shell;
pub mod status_pages;
pub mod suggestions;
pub mod time;
pub mod viewer;
