//! The AWS layer: clients for one configured provider (one account and region), every call
//! through [`Clients::call`] so retries, error mapping and TRACE logging happen in one place.
//!
//! Architecture invariant: nothing here knows Terraform values or gRPC; resources call AWS only
//! through this module.

mod error;
mod retry;
mod web_identity;

pub use error::{AwsError, ErrorKind, Found};
pub use retry::{RetryPolicy, DEFAULT_MAX_RETRIES};
pub use web_identity::{
    Secret, WebIdentity, WebIdentityConfig, WebIdentityCredentials, WebIdentityToken,
};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use std::future::Future;
use std::time::Instant;
use tokio::sync::OnceCell;

/// An AWS service the provider talks to, with its endpoint-override name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// AWS Glue.
    Glue,
    /// AWS Lake Formation.
    LakeFormation,
    /// Amazon S3.
    S3,
    /// AWS STS.
    Sts,
    /// AWS Organizations.
    Organizations,
    /// Amazon CloudWatch.
    CloudWatch,
}

impl Service {
    /// Every service the provider has a client for, in the order of the `endpoints` block (a
    /// service gets its endpoint attribute with its client).
    pub const ALL: [Service; 6] = [
        Service::Glue,
        Service::LakeFormation,
        Service::S3,
        Service::Sts,
        Service::Organizations,
        Service::CloudWatch,
    ];

    /// The name used in the `endpoints` block and in logs.
    pub fn name(self) -> &'static str {
        match self {
            Service::Glue => "glue",
            Service::LakeFormation => "lakeformation",
            Service::S3 => "s3",
            Service::Sts => "sts",
            Service::Organizations => "organizations",
            Service::CloudWatch => "cloudwatch",
        }
    }
}

/// A role to assume after resolving the base credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssumeRole {
    /// The role's ARN.
    pub role_arn: String,
    /// The session name; defaults to `terraform-provider-mesh`.
    pub session_name: Option<String>,
    /// The external id the role's trust policy requires.
    pub external_id: Option<String>,
}

/// Validated provider settings for the AWS layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Region; else the SDK's chain (AWS_REGION, AWS_DEFAULT_REGION, profile).
    pub region: Option<String>,
    /// Named profile from the shared config files.
    pub profile: Option<String>,
    /// Role to assume.
    pub assume_role: Option<AssumeRole>,
    /// Web identity to exchange for the base credentials (before `assume_role`, if any).
    pub web_identity: Option<WebIdentityConfig>,
    /// One endpoint URL for every service (a local emulator).
    pub endpoint: Option<String>,
    /// Per-service endpoint URLs; win over `endpoint`.
    pub endpoints: Vec<(Service, String)>,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The catalog (account id) holding the LF-tag ontology; `None`: the caller's.
    pub tag_catalog_id: Option<String>,
}

impl Settings {
    /// The endpoint URL for `service`, if overridden.
    pub fn endpoint_for(&self, service: Service) -> Option<&str> {
        self.endpoints
            .iter()
            .find(|(s, _)| *s == service)
            .map(|(_, url)| url.as_str())
            .or(self.endpoint.as_deref())
    }
}

/// The session name used when `assume_role.session_name` is unset.
pub const DEFAULT_SESSION_NAME: &str = "terraform-provider-mesh";

/// Clients of one configured provider.
pub struct Clients {
    region: String,
    retry: RetryPolicy,
    account_id: OnceCell<String>,
    lakeformation: aws_sdk_lakeformation::Client,
    glue: aws_sdk_glue::Client,
    s3: aws_sdk_s3::Client,
    organizations: aws_sdk_organizations::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    tag_catalog_id: Option<String>,
    sts: aws_sdk_sts::Client,
}

impl Clients {
    /// Resolves configuration (region, credentials chain, assumed role) and builds the clients.
    /// Credentials are resolved lazily by the SDK, on the first call.
    pub async fn new(settings: &Settings) -> Result<Self, String> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            // This layer retries; the SDK must not retry underneath it.
            .retry_config(RetryConfig::disabled());
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        let base = loader.load().await;
        let region = base
            .region()
            .map(|r| r.to_string())
            .ok_or_else(|| {
                "No AWS region is set. Set `region` in the provider block, or AWS_REGION / AWS_DEFAULT_REGION in the environment, or a region in the profile.".to_string()
            })?;

        // A web identity replaces the chain's credentials; an assumed role then chains on it.
        let base = match &settings.web_identity {
            None => base,
            Some(config) => {
                let identity = config.resolve(|name| std::env::var(name).ok())?;
                let mut sts = aws_sdk_sts::config::Builder::from(&base).retry_config(
                    RetryConfig::standard().with_max_attempts(settings.max_retries + 1),
                );
                sts.set_endpoint_url(endpoint(settings, Service::Sts));
                let provider = WebIdentityCredentials::new(
                    aws_sdk_sts::Client::from_conf(sts.build()),
                    identity,
                );
                base.into_builder()
                    .credentials_provider(SharedCredentialsProvider::new(provider))
                    .build()
            }
        };

        let sdk = match &settings.assume_role {
            None => base,
            Some(role) => {
                let mut sts_config = base.clone().into_builder();
                if let Some(url) = settings.endpoint_for(Service::Sts) {
                    sts_config = sts_config.endpoint_url(url);
                }
                let mut builder = aws_config::sts::AssumeRoleProvider::builder(&role.role_arn)
                    .session_name(role.session_name.as_deref().unwrap_or(DEFAULT_SESSION_NAME))
                    .region(Region::new(region.clone()));
                if let Some(id) = &role.external_id {
                    builder = builder.external_id(id);
                }
                let provider = builder.configure(&sts_config.build()).build().await;
                base.into_builder()
                    .credentials_provider(SharedCredentialsProvider::new(provider))
                    .build()
            }
        };
        crate::debug!(
            "configured AWS clients",
            region = region,
            profile = settings.profile,
            assume_role = settings.assume_role.as_ref().map(|r| r.role_arn.clone()),
            web_identity = settings.web_identity.is_some(),
            endpoint = settings.endpoint,
            max_retries = settings.max_retries,
        );
        Ok(Self {
            region,
            retry: RetryPolicy {
                max_retries: settings.max_retries,
                ..RetryPolicy::default()
            },
            account_id: OnceCell::new(),
            lakeformation: {
                let mut conf = aws_sdk_lakeformation::config::Builder::from(&sdk);
                conf.set_endpoint_url(endpoint(settings, Service::LakeFormation));
                aws_sdk_lakeformation::Client::from_conf(conf.build())
            },
            glue: {
                let mut conf = aws_sdk_glue::config::Builder::from(&sdk);
                conf.set_endpoint_url(endpoint(settings, Service::Glue));
                aws_sdk_glue::Client::from_conf(conf.build())
            },
            s3: {
                let mut conf = aws_sdk_s3::config::Builder::from(&sdk);
                let url = endpoint(settings, Service::S3);
                // A custom endpoint (an emulator, a private endpoint) rarely serves virtual-hosted
                // bucket names; path style works everywhere.
                conf.set_force_path_style(Some(url.is_some()));
                conf.set_endpoint_url(url);
                aws_sdk_s3::Client::from_conf(conf.build())
            },
            organizations: {
                let mut conf = aws_sdk_organizations::config::Builder::from(&sdk);
                conf.set_endpoint_url(endpoint(settings, Service::Organizations));
                aws_sdk_organizations::Client::from_conf(conf.build())
            },
            cloudwatch: {
                let mut conf = aws_sdk_cloudwatch::config::Builder::from(&sdk);
                conf.set_endpoint_url(endpoint(settings, Service::CloudWatch));
                aws_sdk_cloudwatch::Client::from_conf(conf.build())
            },
            tag_catalog_id: settings.tag_catalog_id.clone(),
            sts: {
                let mut conf = aws_sdk_sts::config::Builder::from(&sdk);
                conf.set_endpoint_url(endpoint(settings, Service::Sts));
                aws_sdk_sts::Client::from_conf(conf.build())
            },
        })
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The Lake Formation client. Call it through [`Clients::call`].
    pub fn lakeformation(&self) -> &aws_sdk_lakeformation::Client {
        &self.lakeformation
    }

    /// The Glue client. Call it through [`Clients::call`].
    pub fn glue(&self) -> &aws_sdk_glue::Client {
        &self.glue
    }

    /// The S3 client. Call it through [`Clients::call`].
    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }

    /// The Organizations client. Call it through [`Clients::call`].
    pub fn organizations(&self) -> &aws_sdk_organizations::Client {
        &self.organizations
    }

    /// The CloudWatch client. Call it through [`Clients::call`].
    pub fn cloudwatch(&self) -> &aws_sdk_cloudwatch::Client {
        &self.cloudwatch
    }

    /// The catalog holding the LF-tag ontology, when the provider names one (`tag_catalog_id`);
    /// `None` means the caller's own catalog.
    pub fn tag_catalog_id(&self) -> Option<&str> {
        self.tag_catalog_id.as_deref()
    }

    /// The caller's account id (STS GetCallerIdentity, once per provider).
    pub async fn account_id(&self) -> Result<String, AwsError> {
        self.account_id
            .get_or_try_init(|| async {
                let out = self
                    .call(Service::Sts, "GetCallerIdentity", || {
                        self.sts.get_caller_identity().send()
                    })
                    .await?;
                out.account.ok_or_else(|| AwsError {
                    service: "sts",
                    operation: "GetCallerIdentity",
                    code: None,
                    message: "the answer had no account id".into(),
                    status: None,
                    kind: ErrorKind::Other,
                })
            })
            .await
            .cloned()
    }

    /// Runs one AWS operation: retries retryable failures with backoff and jitter up to the
    /// configured count, maps the error once, and logs the operation at TRACE with its duration
    /// and retry count. `send` builds and sends the request afresh for each attempt.
    pub async fn call<T, E, F, Fut>(
        &self,
        service: Service,
        operation: &'static str,
        send: F,
    ) -> Result<T, AwsError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let started = Instant::now();
        let mut retries = 0u32;
        loop {
            let result = send().await;
            let error = match result {
                Ok(out) => {
                    crate::trace!(
                        "AWS call",
                        service = service.name(),
                        operation = operation,
                        duration_ms = started.elapsed().as_millis() as u64,
                        retries = retries,
                        outcome = "ok",
                    );
                    return Ok(out);
                }
                Err(e) => AwsError::from_sdk(service.name(), operation, &e),
            };
            if error.is_retryable() && retries < self.retry.max_retries {
                let delay = self.retry.backoff(retries);
                crate::debug!(
                    "retrying AWS call",
                    service = service.name(),
                    operation = operation,
                    retry = retries + 1,
                    delay_ms = delay.as_millis() as u64,
                    error_code = error.code,
                );
                tokio::time::sleep(delay).await;
                retries += 1;
                continue;
            }
            crate::trace!(
                "AWS call",
                service = service.name(),
                operation = operation,
                duration_ms = started.elapsed().as_millis() as u64,
                retries = retries,
                outcome = "error",
                error_code = error.code,
            );
            return Err(error);
        }
    }
}

fn endpoint(settings: &Settings, service: Service) -> Option<String> {
    settings.endpoint_for(service).map(str::to_string)
}

/// Checks that `s` is an AWS ARN: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`. Returns what
/// is wrong.
pub fn check_arn(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return Err(format!(
            "{s:?} is not an ARN; expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE."
        ));
    }
    if !matches!(
        parts[1],
        "aws"
            | "aws-cn"
            | "aws-us-gov"
            | "aws-iso"
            | "aws-iso-b"
            | "aws-iso-e"
            | "aws-iso-f"
            | "aws-eusc"
    ) {
        return Err(format!("{s:?} has an unknown partition {:?}.", parts[1]));
    }
    if parts[2].is_empty() || parts[5].is_empty() {
        return Err(format!(
            "{s:?} is not an ARN: the service and resource parts must not be empty."
        ));
    }
    let account = parts[4];
    let is_account = crate::rules::is_account_id(account);
    if !account.is_empty() && !is_account {
        return Err(format!(
            "{s:?} has an account id {:?} that is not 12 digits.",
            parts[4]
        ));
    }
    Ok(())
}

/// Checks that `s` is an IAM role ARN.
pub fn check_role_arn(s: &str) -> Result<(), String> {
    check_arn(s)?;
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.get(2) != Some(&"iam") || !parts.get(5).is_some_and(|r| r.starts_with("role/")) {
        return Err(format!(
            "{s:?} is an ARN but not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)."
        ));
    }
    Ok(())
}

/// Checks that `s` is an absolute http(s) URL with a host.
pub fn check_endpoint_url(s: &str) -> Result<(), String> {
    let url = url::Url::parse(s).map_err(|e| format!("{s:?} is not a URL: {e}."))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{s:?} must use http or https, not {:?}.",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{s:?} has no host."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns() {
        assert!(check_arn("arn:aws:iam::123456789012:role/Admin").is_ok());
        assert!(check_arn("arn:aws:s3:::bucket").is_ok());
        assert!(check_arn("not-an-arn").is_err());
        assert!(check_arn("arn:aws:iam::12345:role/x").is_err());
        assert!(check_arn("arn:moon:iam::123456789012:role/x").is_err());
        assert!(check_role_arn("arn:aws:iam::123456789012:user/x").is_err());
        assert!(check_role_arn("arn:aws:iam::123456789012:role/path/x").is_ok());
    }

    #[test]
    fn urls() {
        assert!(check_endpoint_url("http://127.0.0.1:5000").is_ok());
        assert!(check_endpoint_url("https://glue.eu-west-1.amazonaws.com").is_ok());
        assert!(check_endpoint_url("127.0.0.1:5000").is_err());
        assert!(check_endpoint_url("ftp://x").is_err());
        assert!(check_endpoint_url("not a url").is_err());
    }

    #[test]
    fn per_service_endpoint_wins() {
        let s = Settings {
            endpoint: Some("http://all".into()),
            endpoints: vec![(Service::Glue, "http://glue".into())],
            ..Settings::default()
        };
        assert_eq!(s.endpoint_for(Service::Glue), Some("http://glue"));
        assert_eq!(s.endpoint_for(Service::S3), Some("http://all"));
    }
}
