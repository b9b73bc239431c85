//! The application as an OpenID Connect relying party.
//!
//! Works with any conformant provider from its issuer URL, client id and secret: discovery,
//! authorization code flow with PKCE (S256), `state` and `nonce`, ID token signature, `iss`,
//! `aud`, `azp`, expiry and nonce checks (by `openidconnect`), the RFC 9207 `iss` response
//! parameter, and email from the ID token or else the userinfo endpoint.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use base64::Engine as _;
use openidconnect::{
    core::{
        CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
        CoreClientAuthMethod, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
        CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode,
        CoreResponseType, CoreSubjectIdentifierType,
    },
    AdditionalClaims, AdditionalProviderMetadata, AuthType, AuthorizationCode,
    ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier,
    ProviderMetadata, RedirectUrl, Scope, TokenResponse as _, UserInfoClaims,
};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::RwLock;
use url::Url;

use crate::config::{AuthConfig, ClientAuth};

/// How long discovered metadata (and the provider's signing keys) are reused.
const METADATA_TTL: Duration = Duration::from_secs(15 * 60);

/// Discovery fields beyond OpenID Connect Discovery 1.0 core.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtraMetadata {
    /// RP-Initiated Logout 1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<Url>,
    /// RFC 9207: the provider adds `iss` to authorization responses.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// Set only by the in-repo development provider, which `serve` refuses.
    #[serde(default)]
    pub par_development_provider: bool,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type ConfiguredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Any claims; the configured groups claim is read from here.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RawClaims(serde_json::Map<String, Value>);

impl AdditionalClaims for RawClaims {}

struct Discovered {
    at: Instant,
    issuer: String,
    extra: ExtraMetadata,
    client: ConfiguredClient,
}

/// `serve` found the in-repo development provider behind the configured issuer.
#[derive(Debug, thiserror::Error)]
#[error("this is the development identity provider, which only the demo and the tests may use")]
pub struct DevelopmentProviderRefused;

/// A sign-in in progress, kept in the visitor's session until the provider redirects back.
/// `Debug` shows none of its secrets (state, nonce, PKCE verifier).
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: String,
    pub started_at: i64,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("next", &self.next)
            .field("started_at", &self.started_at)
            .finish_non_exhaustive()
    }
}

/// A verified person, as the provider asserted them (`Debug` leaves out the ID token).
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: String,
    /// `None` when the provider does not say (Entra ID never does).
    pub email_verified: Option<bool>,
    pub name: String,
    pub groups: Vec<String>,
    /// The raw ID token, kept server-side as `id_token_hint` for sign-out at the provider.
    pub id_token: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .field("name", &self.name)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

/// Why a sign-in was refused. `code()` goes to the audit log, `Display` to the person.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the sign-in request did not match this browser's session (state); please start again"
    )]
    State,
    #[error("the identity provider reported an error: {0}")]
    ProviderError(String),
    #[error("the response came from an unexpected issuer")]
    IssuerParameter,
    #[error("the identity provider did not accept the authorization code")]
    CodeRejected,
    #[error("the identity provider returned no ID token")]
    NoIdToken,
    #[error("the ID token failed verification ({0})")]
    IdToken(&'static str),
    #[error("the identity provider did not give an email address")]
    NoEmail,
    #[error("your email address is not verified at the identity provider")]
    EmailUnverified,
    #[error("the identity provider's user information is about someone else")]
    UserinfoSubject,
    #[error("sign-in is not available right now; please try again later")]
    Unavailable,
}

impl Refusal {
    /// Short, stable reason for the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::State => "state_mismatch",
            Refusal::ProviderError(_) => "provider_error",
            Refusal::IssuerParameter => "iss_parameter_mismatch",
            Refusal::CodeRejected => "code_rejected",
            Refusal::NoIdToken => "no_id_token",
            Refusal::IdToken(reason) => reason,
            Refusal::NoEmail => "no_email",
            Refusal::EmailUnverified => "email_unverified",
            Refusal::UserinfoSubject => "userinfo_subject_mismatch",
            Refusal::Unavailable => "provider_unavailable",
        }
    }
}

fn id_token_reason(error: &ClaimsVerificationError) -> &'static str {
    match error {
        ClaimsVerificationError::Expired(_) => "id_token_expired",
        ClaimsVerificationError::InvalidAudience(_) => "id_token_wrong_audience",
        ClaimsVerificationError::InvalidIssuer(_) => "id_token_wrong_issuer",
        ClaimsVerificationError::InvalidNonce(_) => "id_token_wrong_nonce",
        ClaimsVerificationError::SignatureVerification(
            openidconnect::SignatureVerificationError::NoMatchingKey,
        ) => "id_token_unknown_key",
        ClaimsVerificationError::SignatureVerification(_) => "id_token_bad_signature",
        _ => "id_token_invalid",
    }
}

/// The relying party: configuration plus cached discovery.
pub struct OidcClient {
    config: AuthConfig,
    redirect_uri: RedirectUrl,
    http: reqwest::Client,
    allow_development_provider: bool,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

impl OidcClient {
    pub fn new(
        config: AuthConfig,
        public_url: &Url,
        allow_development_provider: bool,
    ) -> anyhow::Result<Self> {
        let redirect_uri = RedirectUrl::new(format!(
            "{}/auth/callback",
            public_url.as_str().trim_end_matches('/')
        ))?;
        // No redirects: a provider URL must not bounce our requests elsewhere.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .user_agent(concat!(
                "postmark-access-review/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Self {
            config,
            redirect_uri,
            http,
            allow_development_provider,
            discovered: RwLock::new(None),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// Fetches (or reuses) the provider's metadata and keys.
    async fn discovered(&self) -> anyhow::Result<Arc<Discovered>> {
        self.discover(false).await
    }

    /// Discovery with a cache; `force` refetches (the provider rotated its keys). When a
    /// refetch fails, the previous metadata stays in use rather than stopping all sign-ins.
    async fn discover(&self, force: bool) -> anyhow::Result<Arc<Discovered>> {
        let cached = self.discovered.read().await.clone();
        if let Some(d) = &cached {
            if !force && d.at.elapsed() < METADATA_TTL {
                return Ok(d.clone());
            }
        }
        match self.fetch_metadata().await {
            Ok(fresh) => {
                *self.discovered.write().await = Some(fresh.clone());
                Ok(fresh)
            }
            Err(error) if error.is::<DevelopmentProviderRefused>() => Err(error),
            Err(error) => match cached {
                Some(stale) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "discovery refresh failed; using cached metadata"
                    );
                    Ok(stale)
                }
                None => Err(error),
            },
        }
    }

    async fn fetch_metadata(&self) -> anyhow::Result<Arc<Discovered>> {
        let issuer = IssuerUrl::new(self.config.issuer.clone())?;
        let metadata = Metadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| anyhow::anyhow!("OpenID Connect discovery failed: {e}"))?;
        let extra = metadata.additional_metadata().clone();
        let issuer = metadata.issuer().as_str().to_string();
        if extra.par_development_provider && !self.allow_development_provider {
            return Err(DevelopmentProviderRefused.into());
        }
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(
                self.config.client_secret.expose_secret().to_string(),
            )),
        )
        .set_redirect_uri(self.redirect_uri.clone())
        .set_auth_type(match self.config.client_auth {
            ClientAuth::Basic => AuthType::BasicAuth,
            ClientAuth::Post => AuthType::RequestBody,
        });
        Ok(Arc::new(Discovered {
            at: Instant::now(),
            issuer,
            extra,
            client,
        }))
    }

    /// Checks the provider at startup (refusing the development provider).
    pub async fn check(&self) -> anyhow::Result<()> {
        self.discovered().await.map(|_| ())
    }

    /// Starts a sign-in: the URL to send the browser to and what to remember until it returns.
    pub async fn begin(&self, next: &str, now_unix: i64) -> anyhow::Result<(Url, PendingLogin)> {
        let discovered = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = discovered
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok((
            url,
            PendingLogin {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                next: next.to_string(),
                started_at: now_unix,
            },
        ))
    }

    /// Completes a sign-in from the callback parameters.
    pub async fn finish(
        &self,
        pending: &PendingLogin,
        code: &str,
        iss: Option<&str>,
    ) -> Result<Identity, Refusal> {
        let discovered = self.discovered().await.map_err(|e| {
            tracing::error!(error = format!("{e:#}"), "identity provider unavailable");
            Refusal::Unavailable
        })?;
        let issuer = discovered.issuer.clone();
        // RFC 9207: when present, `iss` must be our provider; when promised, it must be present.
        match iss {
            Some(iss) if iss != issuer => return Err(Refusal::IssuerParameter),
            None if discovered
                .extra
                .authorization_response_iss_parameter_supported =>
            {
                return Err(Refusal::IssuerParameter)
            }
            _ => {}
        }

        let token = discovered
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|_| Refusal::Unavailable)?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "token exchange failed");
                Refusal::CodeRejected
            })?;
        let id_token = token.id_token().ok_or(Refusal::NoIdToken)?;
        let nonce = Nonce::new(pending.nonce.clone());
        let verifier = discovered.client.id_token_verifier();
        let claims = match id_token.claims(&verifier, &nonce) {
            Ok(claims) => claims.clone(),
            // A key we do not know yet: the provider rotated keys since discovery.
            Err(ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            )) => {
                let refreshed = self
                    .discover(true)
                    .await
                    .map_err(|_| Refusal::Unavailable)?;
                let verifier = refreshed.client.id_token_verifier();
                id_token
                    .claims(&verifier, &nonce)
                    .map_err(|e| Refusal::IdToken(id_token_reason(&e)))?
                    .clone()
            }
            Err(e) => return Err(Refusal::IdToken(id_token_reason(&e))),
        };
        let subject = claims.subject().as_str().to_string();
        // The signature is verified above, so the payload can be read for extra claims.
        let raw_claims = jwt_payload(&id_token.to_string()).unwrap_or_default();

        let mut email = claims.email().map(|e| e.as_str().to_string());
        let mut email_verified = claims.email_verified();
        let mut name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string())
            .or_else(|| claims.preferred_username().map(|u| u.as_str().to_string()));
        let mut groups = self.groups_from(&raw_claims);

        let needs_userinfo = email.is_none()
            || email_verified.is_none()
            || (self.config.groups_claim.is_some() && groups.is_none());
        if needs_userinfo {
            if let Ok(request) = discovered
                .client
                .user_info(token.access_token().clone(), Some(claims.subject().clone()))
            {
                let info: UserInfoClaims<RawClaims, CoreGenderClaim> = request
                    .request_async(&self.http)
                    .await
                    .map_err(|e| match e {
                        openidconnect::UserInfoError::ClaimsVerification(
                            ClaimsVerificationError::InvalidSubject(_),
                        ) => Refusal::UserinfoSubject,
                        other => {
                            tracing::warn!(error = %other, "userinfo request failed");
                            Refusal::Unavailable
                        }
                    })?;
                if email.is_none() {
                    email = info.email().map(|e| e.as_str().to_string());
                    email_verified = info.email_verified();
                } else if email_verified.is_none()
                    && info.email().map(|e| e.as_str()) == email.as_deref()
                {
                    email_verified = info.email_verified();
                }
                name = name.or_else(|| {
                    info.name()
                        .and_then(|n| n.get(None))
                        .map(|n| n.as_str().to_string())
                });
                if groups.is_none() {
                    groups = self.groups_from(&info.additional_claims().0);
                }
            }
        }
        let email = email.ok_or(Refusal::NoEmail)?;
        if email_verified == Some(false) {
            return Err(Refusal::EmailUnverified);
        }
        Ok(Identity {
            issuer,
            subject,
            name: name.unwrap_or_else(|| email.clone()),
            email,
            email_verified,
            groups: groups.unwrap_or_default(),
            id_token: id_token.to_string(),
        })
    }

    /// Where to send the browser after the local session ended, if the provider supports
    /// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
    pub async fn end_session_url(
        &self,
        post_logout_redirect: &Url,
        id_token_hint: Option<&str>,
    ) -> Option<Url> {
        let discovered = self.discovered().await.ok()?;
        let mut url = discovered.extra.end_session_endpoint.clone()?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &self.config.client_id)
                .append_pair("post_logout_redirect_uri", post_logout_redirect.as_str());
            if let Some(hint) = id_token_hint {
                query.append_pair("id_token_hint", hint);
            }
        }
        Some(url)
    }

    fn groups_from(&self, claims: &serde_json::Map<String, Value>) -> Option<Vec<String>> {
        let claim = self.config.groups_claim.as_deref()?;
        match claims.get(claim)? {
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
            ),
            Value::String(one) => Some(vec![one.clone()]),
            _ => None,
        }
    }
}

/// Decodes the (already verified) payload of a compact JWS.
fn jwt_payload(token: &str) -> Option<serde_json::Map<String, Value>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_output_leaves_out_tokens_and_sign_in_secrets() {
        let identity = Identity {
            issuer: "https://idp.example.com".into(),
            subject: "ada".into(),
            email: "ada@example.com".into(),
            email_verified: None,
            name: "Ada".into(),
            groups: vec![],
            id_token: "eyJhbGciOi.secret-id-token.sig".into(),
        };
        let shown = format!("{identity:?}");
        assert!(!shown.contains("secret-id-token"), "{shown}");
        let pending = PendingLogin {
            state: "secret-state".into(),
            nonce: "secret-nonce".into(),
            pkce_verifier: "secret-verifier".into(),
            next: "/reviews".into(),
            started_at: 0,
        };
        let shown = format!("{pending:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("/reviews"));
    }
}
