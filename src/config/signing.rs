//! The signing key's location and the checkpoint schedule.

use std::{path::PathBuf, time::Duration};

use secrecy::SecretString;

use super::{parse_duration, ConfigError, RawConfig};

/// Where the signing key comes from, and how often the audit head is signed.
#[derive(Debug, Clone)]
pub struct SigningConfig {
    /// The PEM file (read, or created when missing and the database knows no key).
    pub key_file: PathBuf,
    /// `PAR_SIGNING_KEY`: the PEM itself; when set, `key_file` is not used.
    pub key_pem: Option<SecretString>,
    /// Time between scheduled checkpoints; `None`: no schedule.
    pub checkpoint_interval: Option<Duration>,
}

/// The key file when `PAR_SIGNING_KEY_FILE` is unset: beside the default SQLite database.
pub const DEFAULT_SIGNING_KEY_FILE: &str = "data/signing-key.pem";

/// Checkpoints are signed once a day unless configured otherwise.
pub const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(24 * 3600);

impl RawConfig {
    /// `PAR_SIGNING_KEY_FILE`, `PAR_SIGNING_KEY` and `PAR_CHECKPOINT_INTERVAL`.
    pub fn signing(&self) -> Result<SigningConfig, ConfigError> {
        let key_file = self
            .parse("SIGNING_KEY_FILE", |v| Ok(PathBuf::from(v)))?
            .unwrap_or_else(|| PathBuf::from(DEFAULT_SIGNING_KEY_FILE));
        // Checked when the key is loaded; the value is never echoed in an error.
        let key_pem = self.parse("SIGNING_KEY", |v| Ok(SecretString::from(v.to_string())))?;
        let checkpoint_interval = self
            .parse("CHECKPOINT_INTERVAL", |v| {
                if v == "0" {
                    Ok(None)
                } else {
                    parse_duration(v).map(Some)
                }
            })?
            .unwrap_or(Some(DEFAULT_CHECKPOINT_INTERVAL));
        Ok(SigningConfig {
            key_file,
            key_pem,
            checkpoint_interval,
        })
    }
}
