//! Approval links `/r/{token}`: random tokens, stored only as hashes, bound to one reviewer and one campaign.

#[cfg(feature = "ssr")]
pub mod db;
