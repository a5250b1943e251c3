//! Credentials from a web identity token (OIDC): what Terraform Cloud's dynamic credentials and
//! CI systems hand a run. `AssumeRoleWithWebIdentity` trades the token for temporary credentials
//! of a role; the call is unsigned, so no other credentials are needed.
//!
//! The provider makes the call itself (rather than through the SDK's chain, which reads the token
//! only from a file and ignores the provider's endpoints) so that a token given inline works and
//! `endpoint` / `endpoints.sts` apply. The token is a secret: it is never logged, and its `Debug`
//! form is redacted.

use super::{AwsError, DEFAULT_SESSION_NAME};
use aws_credential_types::provider::{self, error::CredentialsError, future, ProvideCredentials};
use aws_credential_types::Credentials;
use std::fmt;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

/// A secret string whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(**redacted**)")
    }
}

/// Where the token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebIdentityToken {
    /// Given inline.
    Inline(Secret),
    /// Read from a file at every refresh (CI systems rotate it in place).
    File(PathBuf),
}

/// The `assume_role_with_web_identity` block as configured; unset values fall back to the
/// environment variables the AWS SDKs read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebIdentityConfig {
    /// Role to assume; else `AWS_ROLE_ARN`.
    pub role_arn: Option<String>,
    /// Session name; else `AWS_ROLE_SESSION_NAME`, else the provider's default.
    pub session_name: Option<String>,
    /// The token itself.
    pub token: Option<Secret>,
    /// A file holding the token; else `AWS_WEB_IDENTITY_TOKEN_FILE`.
    pub token_file: Option<String>,
}

/// A resolved web identity: everything needed to call STS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentity {
    /// Role to assume.
    pub role_arn: String,
    /// Session name shown in CloudTrail.
    pub session_name: String,
    /// The token's source.
    pub token: WebIdentityToken,
}

impl WebIdentityConfig {
    /// Fills unset values from `env` (the process environment in production) and checks that a
    /// role and exactly one token source remain.
    pub fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> Result<WebIdentity, String> {
        let env = |name: &str| env(name).filter(|v| !v.is_empty());
        let role_arn = self.role_arn.clone().or_else(|| env("AWS_ROLE_ARN")).ok_or(
            "`assume_role_with_web_identity` needs `role_arn` (or AWS_ROLE_ARN in the environment).",
        )?;
        let session_name = self
            .session_name
            .clone()
            .or_else(|| env("AWS_ROLE_SESSION_NAME"))
            .unwrap_or_else(|| DEFAULT_SESSION_NAME.to_string());
        let token = match (&self.token, &self.token_file) {
            (Some(_), Some(_)) => {
                return Err("Set `web_identity_token` or `web_identity_token_file`, not both.".into())
            }
            (Some(token), None) => WebIdentityToken::Inline(token.clone()),
            (None, Some(file)) => WebIdentityToken::File(PathBuf::from(file)),
            (None, None) => match env("AWS_WEB_IDENTITY_TOKEN_FILE") {
                Some(file) => WebIdentityToken::File(PathBuf::from(file)),
                None => return Err("`assume_role_with_web_identity` needs `web_identity_token` or `web_identity_token_file` (or AWS_WEB_IDENTITY_TOKEN_FILE in the environment).".into()),
            },
        };
        Ok(WebIdentity {
            role_arn,
            session_name,
            token,
        })
    }
}

/// Credentials of `identity`'s role, fetched with STS `AssumeRoleWithWebIdentity`. Cache them
/// (the SDK's identity cache does, refreshing before expiry).
#[derive(Debug)]
pub struct WebIdentityCredentials {
    sts: aws_sdk_sts::Client,
    identity: WebIdentity,
}

impl WebIdentityCredentials {
    /// A provider calling STS through `sts` (its endpoint and retries as configured).
    pub fn new(sts: aws_sdk_sts::Client, identity: WebIdentity) -> Self {
        Self { sts, identity }
    }

    async fn fetch(&self) -> provider::Result {
        let token = match &self.identity.token {
            WebIdentityToken::Inline(secret) => secret.expose().to_string(),
            WebIdentityToken::File(path) => tokio::fs::read_to_string(path)
                .await
                .map_err(|e| {
                    CredentialsError::provider_error(format!(
                        "cannot read the web identity token file {}: {e}",
                        path.display()
                    ))
                })?
                .trim()
                .to_string(),
        };
        if token.is_empty() {
            return Err(CredentialsError::provider_error(
                "the web identity token is empty",
            ));
        }
        let started = Instant::now();
        let result = self
            .sts
            .assume_role_with_web_identity()
            .role_arn(&self.identity.role_arn)
            .role_session_name(&self.identity.session_name)
            .web_identity_token(token)
            .send()
            .await;
        // The same TRACE line as every other AWS call; the token is in no field.
        crate::trace!(
            "AWS call",
            service = "sts",
            operation = "AssumeRoleWithWebIdentity",
            role_arn = self.identity.role_arn,
            duration_ms = started.elapsed().as_millis() as u64,
            outcome = if result.is_ok() { "ok" } else { "error" },
        );
        let out = result.map_err(|e| {
            let error = AwsError::from_sdk("sts", "AssumeRoleWithWebIdentity", &e);
            CredentialsError::provider_error(format!(
                "cannot assume {} with the web identity token: {error}",
                self.identity.role_arn
            ))
        })?;
        let creds = out.credentials.ok_or_else(|| {
            CredentialsError::provider_error("AssumeRoleWithWebIdentity answered no credentials")
        })?;
        let expiry = SystemTime::try_from(creds.expiration).ok();
        Ok(Credentials::new(
            creds.access_key_id,
            creds.secret_access_key,
            Some(creds.session_token),
            expiry,
            "AssumeRoleWithWebIdentity",
        ))
    }
}

impl ProvideCredentials for WebIdentityCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.fetch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn explicit_values_win_over_the_environment() {
        let config = WebIdentityConfig {
            role_arn: Some("arn:aws:iam::111111111111:role/Run".into()),
            session_name: Some("plan".into()),
            token: Some(Secret::new("t0ken")),
            token_file: None,
        };
        let resolved = config
            .resolve(env(&[
                ("AWS_ROLE_ARN", "arn:aws:iam::222222222222:role/Other"),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/run/token"),
                ("AWS_ROLE_SESSION_NAME", "env"),
            ]))
            .unwrap();
        assert_eq!(resolved.role_arn, "arn:aws:iam::111111111111:role/Run");
        assert_eq!(resolved.session_name, "plan");
        assert_eq!(
            resolved.token,
            WebIdentityToken::Inline(Secret::new("t0ken"))
        );
    }

    #[test]
    fn unset_values_come_from_the_environment() {
        let resolved = WebIdentityConfig::default()
            .resolve(env(&[
                ("AWS_ROLE_ARN", "arn:aws:iam::222222222222:role/Tfc"),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/run/token"),
            ]))
            .unwrap();
        assert_eq!(resolved.role_arn, "arn:aws:iam::222222222222:role/Tfc");
        assert_eq!(resolved.session_name, DEFAULT_SESSION_NAME);
        assert_eq!(resolved.token, WebIdentityToken::File("/run/token".into()));
    }

    #[test]
    fn missing_role_or_token_and_two_tokens_are_refused() {
        let no_role = WebIdentityConfig {
            token: Some(Secret::new("t")),
            ..WebIdentityConfig::default()
        };
        assert!(no_role.resolve(env(&[])).unwrap_err().contains("role_arn"));
        let no_token = WebIdentityConfig {
            role_arn: Some("arn:aws:iam::111111111111:role/Run".into()),
            ..WebIdentityConfig::default()
        };
        assert!(no_token
            .resolve(env(&[]))
            .unwrap_err()
            .contains("web_identity_token"));
        let both = WebIdentityConfig {
            token: Some(Secret::new("t")),
            token_file: Some("/f".into()),
            ..no_token
        };
        assert!(both.resolve(env(&[])).unwrap_err().contains("not both"));
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let config = WebIdentityConfig {
            token: Some(Secret::new("do-not-print-me")),
            ..WebIdentityConfig::default()
        };
        assert!(!format!("{config:?}").contains("do-not-print-me"));
    }
}
