//! A development OpenID Connect provider inside the application, for `demo` and the tests.
//!
//! It speaks the same protocol as a real provider (discovery, authorize, token with PKCE,
//! JWKS with an RS256 key generated per run, userinfo, end-session), so the relying party code
//! is exercised exactly as in production. `serve` never mounts it and refuses an issuer that
//! advertises it (`par_development_provider` in its discovery document).

mod page;
pub mod routes;

use std::{collections::HashMap, sync::Mutex};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rsa::{
    pkcs1v15::SigningKey,
    signature::{SignatureEncoding as _, Signer as _},
    traits::PublicKeyParts as _,
    RsaPrivateKey,
};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::{
    clock::{Clock, SystemClock},
    config::{AuthConfig, ClientAuth},
};

/// Path prefix of the provider inside the application.
pub const PREFIX: &str = "/dev-idp";
/// Group whose members the demo makes admins.
pub const ADMIN_GROUP: &str = "par-admins";

/// A person the development provider can sign in as.
#[derive(Debug, Clone, Copy)]
pub struct DemoPerson {
    pub subject: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    pub email_verified: bool,
    pub groups: &'static [&'static str],
    /// Shown on the chooser page.
    pub about: &'static str,
}

/// Parameters of an authorization request (query on GET, hidden fields on POST).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// Index into [`PEOPLE`], set by the chooser's buttons.
    pub person: Option<usize>,
}

/// The demo's Postmark account admin, who gets the manual revocation tasks.
pub const FULFILMENT_EMAIL: &str = "petra.postmark@example.com";

/// The demo's people. Admin through a group, auditor through the email list.
pub const PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        subject: "demo-ada",
        name: "Ada Admin",
        email: "ada.admin@example.com",
        email_verified: true,
        groups: &[ADMIN_GROUP, "it"],
        about: "admin (member of the par-admins group)",
    },
    DemoPerson {
        subject: "demo-aubrey",
        name: "Aubrey Auditor",
        email: "aubrey.auditor@example.com",
        email_verified: true,
        groups: &["finance"],
        about: "auditor (listed in the auditor emails)",
    },
    DemoPerson {
        subject: "demo-rita",
        name: "Rita Reviewer",
        email: "rita.reviewer@example.com",
        email_verified: true,
        groups: &["marketing"],
        about: "reviewer: a manager with no special role",
    },
    DemoPerson {
        subject: "demo-manny",
        name: "Manny Manager",
        email: "manny.manager@example.com",
        email_verified: true,
        groups: &["engineering"],
        about: "reviewer: a server owner with no special role",
    },
    DemoPerson {
        subject: "demo-uma",
        name: "Uma Unverified",
        email: "uma.unverified@example.com",
        email_verified: false,
        groups: &[],
        about: "email not verified: sign-in is refused",
    },
    DemoPerson {
        subject: "demo-petra",
        name: "Petra Postmark",
        email: FULFILMENT_EMAIL,
        email_verified: true,
        groups: &["it"],
        about: "Postmark account admin: carries out manual revocations (fulfilment emails)",
    },
];

/// A deliberate defect in the next ID token, so tests can prove each check refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFault {
    WrongNonce,
    WrongIssuer,
    WrongAudience,
    Expired,
    BadSignature,
    /// Leave email out of the ID token (the relying party must ask userinfo).
    OmitEmail,
}

#[derive(Debug)]
struct Grant {
    person: usize,
    nonce: Option<String>,
    code_challenge: String,
    redirect_uri: String,
    expires_at: i64,
}

/// The provider's state: its client registration, key, and outstanding codes and tokens.
pub struct DevIdp {
    issuer: String,
    client_id: String,
    client_secret: SecretString,
    redirect_uri: String,
    post_logout_redirect_uri: String,
    key: SigningKey<Sha256>,
    public_jwk: Value,
    codes: Mutex<HashMap<String, Grant>>,
    /// Access token → (person, expiry).
    access_tokens: Mutex<HashMap<String, (usize, i64)>>,
    fault: Mutex<Option<TokenFault>>,
    clock: SystemClock,
    /// Whether discovery says this is the development provider (so `serve` refuses it).
    marked: bool,
}

impl std::fmt::Debug for DevIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIdp")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl DevIdp {
    /// A provider for the application at `public_url`, with a fresh RSA key and client secret.
    pub fn new(public_url: &Url) -> anyhow::Result<Self> {
        let base = public_url.as_str().trim_end_matches('/');
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)?;
        let kid = random_token(8);
        let public_jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        });
        Ok(Self {
            issuer: format!("{base}{PREFIX}"),
            client_id: "postmark-access-review-demo".to_string(),
            client_secret: SecretString::from(random_token(32)),
            redirect_uri: format!("{base}/auth/callback"),
            post_logout_redirect_uri: format!("{base}/"),
            key: SigningKey::<Sha256>::new(private),
            public_jwk,
            codes: Mutex::new(HashMap::new()),
            access_tokens: Mutex::new(HashMap::new()),
            fault: Mutex::new(None),
            clock: SystemClock,
            marked: true,
        })
    }

    /// The same provider without the development marker in its discovery document: for tests
    /// that sign in to real `serve` processes, which refuse a marked provider. Only code that
    /// links this library can make one; no configuration can.
    pub fn unmarked(mut self) -> Self {
        self.marked = false;
        self
    }

    /// The client secret `serve` needs as `PAR_OIDC_CLIENT_SECRET` (tests).
    pub fn client_secret(&self) -> &str {
        self.client_secret.expose_secret()
    }

    /// The relying-party configuration that signs in through this provider.
    pub fn auth_config(&self) -> anyhow::Result<AuthConfig> {
        Ok(AuthConfig {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            client_auth: ClientAuth::Basic,
            scopes: vec!["email".to_string(), "profile".to_string()],
            groups_claim: Some("groups".to_string()),
            admin_group: Some(ADMIN_GROUP.to_string()),
            auditor_group: None,
            admin_emails: Vec::new(),
            auditor_emails: crate::email::Email::parse("aubrey.auditor@example.com")
                .into_iter()
                .collect(),
            fulfilment_emails: crate::email::Email::parse(FULFILMENT_EMAIL)
                .into_iter()
                .collect(),
            session_idle: std::time::Duration::from_secs(8 * 3600),
            session_max: std::time::Duration::from_secs(24 * 3600),
            rate_limit_per_minute: 120,
            trusted_proxy_hops: 0,
            trust_unverified_email: false,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Makes the next ID token defective (tests only).
    pub fn inject_fault(&self, fault: TokenFault) {
        *self.fault.lock().unwrap_or_else(|p| p.into_inner()) = Some(fault);
    }

    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    fn discovery(&self) -> Value {
        let i = &self.issuer;
        json!({
            "issuer": i,
            "authorization_endpoint": format!("{i}/authorize"),
            "token_endpoint": format!("{i}/token"),
            "userinfo_endpoint": format!("{i}/userinfo"),
            "jwks_uri": format!("{i}/jwks"),
            "end_session_endpoint": format!("{i}/logout"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code"],
            "claims_supported": ["sub", "email", "email_verified", "name", "groups"],
            "authorization_response_iss_parameter_supported": true,
            "par_development_provider": self.marked,
        })
    }

    fn issue_code(&self, grant: Grant) -> String {
        let code = random_token(32);
        let mut codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.now();
        codes.retain(|_, g| g.expires_at > now);
        codes.insert(code.clone(), grant);
        code
    }

    /// Redeems a code once: a replayed code finds nothing.
    fn redeem_code(&self, code: &str) -> Option<Grant> {
        let grant = self
            .codes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(code)?;
        (grant.expires_at > self.now()).then_some(grant)
    }

    fn id_token(&self, person: &DemoPerson, nonce: Option<&str>) -> String {
        let fault = self.fault.lock().unwrap_or_else(|p| p.into_inner()).take();
        let now = self.now();
        let mut claims = json!({
            "iss": self.issuer,
            "sub": person.subject,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "email": person.email,
            "email_verified": person.email_verified,
            "name": person.name,
            "groups": person.groups,
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        match fault {
            Some(TokenFault::WrongNonce) => claims["nonce"] = json!("not-the-nonce-you-sent"),
            Some(TokenFault::WrongIssuer) => claims["iss"] = json!("https://impostor.example"),
            Some(TokenFault::WrongAudience) => claims["aud"] = json!("some-other-client"),
            Some(TokenFault::Expired) => {
                claims["iat"] = json!(now - 900);
                claims["exp"] = json!(now - 600);
            }
            Some(TokenFault::OmitEmail) => {
                if let Some(map) = claims.as_object_mut() {
                    map.remove("email");
                    map.remove("email_verified");
                }
            }
            Some(TokenFault::BadSignature) | None => {}
        }
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.public_jwk["kid"]});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = self.key.sign(signing_input.as_bytes()).to_vec();
        if fault == Some(TokenFault::BadSignature) {
            if let Some(byte) = signature.last_mut() {
                *byte ^= 0x01;
            }
        }
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn userinfo(&self, person: &DemoPerson) -> Value {
        json!({
            "sub": person.subject,
            "email": person.email,
            "email_verified": person.email_verified,
            "name": person.name,
            "groups": person.groups,
        })
    }

    fn client_secret_matches(&self, id: &str, secret: &str) -> bool {
        let expected = self.client_secret.expose_secret().as_bytes();
        // Length-independent comparison of the secret.
        let same = expected.len() == secret.len()
            && expected
                .iter()
                .zip(secret.as_bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        id == self.client_id && same
    }
}

/// `BASE64URL(SHA256(verifier))`, the S256 PKCE transform.
fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn random_token(bytes: usize) -> String {
    use rand::RngCore as _;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}
