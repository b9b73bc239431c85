//! The Ed25519 signing key: checkpoints of the audit log (and, later, campaign sign-offs) are
//! signed with it, so an auditor can check them with `openssl` without trusting this program.
//!
//! * The private key lives outside the database: a PKCS#8 PEM file with mode 0600
//!   (`PAR_SIGNING_KEY_FILE`), created on first start, or a PEM given as `PAR_SIGNING_KEY`.
//! * Its public key is registered in `signing_keys` ([`store`]); retired keys stay there so
//!   everything they signed still verifies after a rotation ([`rotate`]).
//! * A key is never generated silently over existing signatures: a missing key file while the
//!   database knows a key stops start-up ([`load`]).

use std::{
    fmt,
    io::Write as _,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context as _};
use ed25519_dalek::{
    pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _, EncodePublicKey},
    Signature, SigningKey, VerifyingKey,
};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};

pub use crate::config::SigningConfig;
use crate::{clock::Clock, db::Db};

mod rotate;
pub mod store;

pub use rotate::rotate;

/// The current private key, with its public half in the forms the app hands out.
pub struct Signer {
    key: SigningKey,
    public_pem: String,
    fingerprint: String,
}

// The private key must never reach a log line, so Debug shows the fingerprint only.
impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A new random key from the operating system's generator.
    pub fn generate() -> anyhow::Result<Self> {
        use rand::RngCore as _;
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let key = SigningKey::from_bytes(&secret);
        secret.fill(0);
        Self::new(key)
    }

    /// A PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`, as `openssl genpkey -algorithm
    /// ed25519` writes). The error never contains the PEM.
    pub fn from_pem(pem: &str) -> anyhow::Result<Self> {
        let key = SigningKey::from_pkcs8_pem(pem.trim())
            .map_err(|_| anyhow::anyhow!("not an Ed25519 private key in PKCS#8 PEM form"))?;
        Self::new(key)
    }

    fn new(key: SigningKey) -> anyhow::Result<Self> {
        let verifying = key.verifying_key();
        let public_pem = verifying
            .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .context("could not encode the public key")?;
        Ok(Self {
            fingerprint: fingerprint(&verifying),
            public_pem,
            key,
        })
    }

    /// Lowercase hex SHA-256 of the 32 raw public key bytes.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The public key as SubjectPublicKeyInfo PEM (`openssl pkeyutl -pubin -inkey` reads it).
    pub fn public_key_pem(&self) -> &str {
        &self.public_pem
    }

    /// The 64-byte Ed25519 signature of `message` (pure Ed25519, no pre-hash: what
    /// `openssl pkeyutl -rawin` checks).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer as _;
        self.key.sign(message).to_bytes()
    }

    fn private_pem(&self) -> anyhow::Result<secrecy::SecretString> {
        let pem = self
            .key
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .map_err(|_| anyhow::anyhow!("could not encode the private key"))?;
        Ok(SecretString::from(pem.as_str()))
    }
}

/// Lowercase hex SHA-256 of the 32 raw public key bytes.
pub fn fingerprint(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The fingerprint of a public key PEM, computed from the key itself (never trusted from a
/// stored column, which someone could pair with another key).
pub fn fingerprint_of_pem(public_pem: &str) -> Result<String, String> {
    VerifyingKey::from_public_key_pem(public_pem.trim())
        .map(|key| fingerprint(&key))
        .map_err(|_| "not an Ed25519 public key PEM".to_string())
}

/// Checks an Ed25519 `signature` of `message` against a public key PEM; the error says why.
pub fn verify(public_pem: &str, message: &[u8], signature: &[u8]) -> Result<(), String> {
    let key = VerifyingKey::from_public_key_pem(public_pem.trim())
        .map_err(|_| "the stored public key is not an Ed25519 PEM".to_string())?;
    let signature = Signature::from_slice(signature)
        .map_err(|_| "the signature is not 64 bytes".to_string())?;
    key.verify_strict(message, &signature)
        .map_err(|_| "the signature does not verify".to_string())
}

/// The signing key for this start: from `PAR_SIGNING_KEY`, from the key file, or a new key
/// written to the key file when the database knows no key yet. Registers its public key.
pub async fn load(config: &SigningConfig, db: &Db, clock: &dyn Clock) -> anyhow::Result<Signer> {
    let signer = match &config.key_pem {
        Some(pem) => Signer::from_pem(pem.expose_secret()).context("PAR_SIGNING_KEY is invalid")?,
        None if config.key_file.exists() => read_key_file(&config.key_file)?,
        None => {
            let known = store::known(db).await?;
            // Another instance sharing the file may have created and registered it since the
            // check above; it links the file before registering, so look again.
            if known.keys > 0 && config.key_file.exists() {
                read_key_file(&config.key_file)?
            } else if known.keys > 0 {
                bail!(
                    "the signing key file {} is missing, but the database already holds {} \
                     signing key(s) and {} signed checkpoint(s). Restore the file from your \
                     backup (or give the key as PAR_SIGNING_KEY); a new key is not generated \
                     silently, because the signatures made so far could then no longer be \
                     matched to a key this server holds",
                    config.key_file.display(),
                    known.keys,
                    known.checkpoints
                );
            } else {
                create_key_file(&config.key_file)?
            }
        }
    };
    store::register(db, clock, &signer).await?;
    Ok(signer)
}

/// Writes a new key to `path`, unless another process sharing the file (a second instance
/// starting at the same moment) got there first: then its key is used. The key is written
/// whole to a file of this process's own and linked into place, so nobody reads half a key.
fn create_key_file(path: &Path) -> anyhow::Result<Signer> {
    let signer = Signer::generate()?;
    let mut own = path.as_os_str().to_owned();
    own.push(format!(".{}.new", std::process::id()));
    let own = PathBuf::from(own);
    write_key_file(&own, &signer, false)?;
    let linked = std::fs::hard_link(&own, path);
    // Best effort: the key is in place (or was not ours to place) either way.
    let _ = std::fs::remove_file(&own);
    match linked {
        Ok(()) => {
            tracing::info!(
                file = %path.display(),
                fingerprint = %signer.fingerprint(),
                "created a new signing key"
            );
            Ok(signer)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read_key_file(path),
        Err(error) => Err(error)
            .with_context(|| format!("could not create the signing key file {}", path.display())),
    }
}

/// Reads a key file, refusing one that other users can read.
fn read_key_file(path: &Path) -> anyhow::Result<Signer> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("could not read {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "the signing key file {} can be read by other users (mode {:o}); \
                 run `chmod 600` on it",
                path.display(),
                mode & 0o777
            );
        }
    }
    let pem = SecretString::from(
        std::fs::read_to_string(path)
            .with_context(|| format!("could not read the signing key file {}", path.display()))?,
    );
    Signer::from_pem(pem.expose_secret())
        .with_context(|| format!("the signing key file {} is invalid", path.display()))
}

/// Writes the private key with mode 0600. A new file must not exist yet (`replace: false`);
/// a replacement is written beside it and renamed over it, so a crash leaves one whole file.
fn write_key_file(path: &Path, signer: &Signer, replace: bool) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    let target = if replace {
        temporary_path(path)
    } else {
        path.to_path_buf()
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let pem = signer.private_pem()?;
    let mut file = options
        .open(&target)
        .with_context(|| format!("could not create the signing key file {}", target.display()))?;
    file.write_all(pem.expose_secret().as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("could not write {}", target.display()))?;
    Ok(())
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_keeps_the_key() {
        let signer = Signer::generate().unwrap();
        let pem = signer.private_pem().unwrap();
        let again = Signer::from_pem(pem.expose_secret()).unwrap();
        assert_eq!(again.fingerprint(), signer.fingerprint());
        assert_eq!(again.public_key_pem(), signer.public_key_pem());
        assert!(signer
            .public_key_pem()
            .starts_with("-----BEGIN PUBLIC KEY-----"));
    }

    #[test]
    fn signatures_verify_with_the_public_pem_only() {
        let signer = Signer::generate().unwrap();
        let signature = signer.sign(b"hello\n");
        assert_eq!(
            verify(signer.public_key_pem(), b"hello\n", &signature),
            Ok(())
        );
        assert!(verify(signer.public_key_pem(), b"hellO\n", &signature).is_err());
    }

    #[test]
    fn the_fingerprint_is_computed_from_the_pem() {
        let signer = Signer::generate().unwrap();
        assert_eq!(
            fingerprint_of_pem(signer.public_key_pem()).unwrap(),
            signer.fingerprint()
        );
        assert_eq!(signer.fingerprint().len(), 64);
    }

    #[test]
    fn a_bad_pem_error_does_not_echo_it() {
        let error =
            Signer::from_pem("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----")
                .unwrap_err()
                .to_string();
        assert!(!error.contains("c2VjcmV0"), "{error}");
    }
}
