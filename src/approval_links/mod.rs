//! Approval links: the `/r/{token}` address each reviewer gets by email. A link opens the
//! reviewer's queue for one campaign, and only for the person it was sent to: a forwarded
//! email grants nothing. Tokens are random, stored only as a hash, expire with the campaign
//! and are rotated by every new email.

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod routes;
