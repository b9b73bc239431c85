//! Everything sign-in needs at run time, shared through the application state.

use std::sync::Arc;

use url::Url;

use super::{
    dev_idp::DevIdp,
    oidc::OidcClient,
    rate_limit::{RateLimitState, RateLimiter},
};
use crate::config::AuthConfig;

pub struct AuthService {
    config: AuthConfig,
    oidc: OidcClient,
    limiter: Arc<RateLimiter>,
    dev_idp: Option<Arc<DevIdp>>,
    public_url: Url,
}

impl AuthService {
    /// Signs in through the configured provider (`serve`): the development provider is refused.
    pub fn production(config: AuthConfig, public_url: &Url) -> anyhow::Result<Self> {
        Self::build(config, public_url, None)
    }

    /// Signs in through the in-process development provider (`demo` and tests).
    pub fn development(public_url: &Url) -> anyhow::Result<Self> {
        Self::development_with(public_url, |_| {})
    }

    /// As [`development`](Self::development), with settings adjusted (tests).
    pub fn development_with(
        public_url: &Url,
        adjust: impl FnOnce(&mut AuthConfig),
    ) -> anyhow::Result<Self> {
        let idp = Arc::new(DevIdp::new(public_url)?);
        let mut config = idp.auth_config()?;
        adjust(&mut config);
        Self::build(config, public_url, Some(idp))
    }

    fn build(
        config: AuthConfig,
        public_url: &Url,
        dev_idp: Option<Arc<DevIdp>>,
    ) -> anyhow::Result<Self> {
        let oidc = OidcClient::new(config.clone(), public_url, dev_idp.is_some())?;
        Ok(Self {
            limiter: Arc::new(RateLimiter::new(config.rate_limit_per_minute)),
            config,
            oidc,
            dev_idp,
            public_url: public_url.clone(),
        })
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    pub fn oidc(&self) -> &OidcClient {
        &self.oidc
    }

    /// The state of the sign-in rate limit middleware.
    pub fn rate_limit(&self) -> RateLimitState {
        RateLimitState {
            limiter: self.limiter.clone(),
            trusted_proxy_hops: self.config.trusted_proxy_hops,
            warned: Default::default(),
        }
    }

    pub fn dev_idp(&self) -> Option<Arc<DevIdp>> {
        self.dev_idp.clone()
    }

    pub fn public_url(&self) -> &Url {
        &self.public_url
    }
}
