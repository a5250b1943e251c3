//! The `mesh` provider: its configuration block and the resources it serves.

use crate::aws::{self, AssumeRole, Clients, Secret, Service, Settings, WebIdentityConfig};
use crate::framework::data_source::{DynDataSource, RegisteredData};
use crate::framework::resource::DynResource;
use crate::framework::server;
use crate::framework::value::{Attr, Value};
use crate::framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, NestedBlock, Nesting, Registered,
    Schema, Validator,
};
use crate::resources;
use crate::resources::Mesh;
use crate::rules;
use async_trait::async_trait;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The provider's configuration, as the user wrote it (values may be unknown).
#[derive(Debug, Deserialize)]
pub struct Config {
    region: Attr<String>,
    profile: Attr<String>,
    endpoint: Attr<String>,
    max_retries: Attr<i64>,
    tag_catalog_id: Attr<String>,
    assume_role: Attr<AssumeRoleConfig>,
    assume_role_with_web_identity: Attr<WebIdentityBlock>,
    endpoints: Attr<BTreeMap<String, Attr<String>>>,
}

#[derive(Debug, Deserialize)]
struct WebIdentityBlock {
    role_arn: Attr<String>,
    session_name: Attr<String>,
    web_identity_token: Attr<String>,
    web_identity_token_file: Attr<String>,
}

#[derive(Debug, Deserialize)]
struct AssumeRoleConfig {
    role_arn: Attr<String>,
    session_name: Attr<String>,
    external_id: Attr<String>,
}

/// The `mesh` provider.
#[derive(Debug, Default)]
pub struct MeshProvider;

/// The provider's resources, registered.
pub fn resources() -> Vec<Box<dyn DynResource<Mesh>>> {
    vec![
        Box::new(Registered::new(resources::lf_tag::LfTag)),
        Box::new(Registered::new(resources::domain::Domain)),
        Box::new(Registered::new(resources::data_product::DataProduct)),
        Box::new(Registered::new(resources::tag_grant::TagGrant)),
        Box::new(Registered::new(resources::product_grant::ProductGrant)),
        Box::new(Registered::new(resources::lake_settings::LakeSettings)),
        Box::new(Registered::new(resources::guardrail::Guardrail)),
        Box::new(Registered::new(resources::product_link::ProductLink)),
    ]
}

/// Every data source the provider serves.
pub fn data_sources() -> Vec<Box<dyn DynDataSource<Mesh>>> {
    vec![Box::new(RegisteredData::new(
        crate::data_sources::domain::DomainSource,
    ))]
}

fn checked(check: fn(&str) -> Result<(), String>, summary: &'static str) -> Validator {
    Validator::string(summary, summary, move |s| check(s).err())
}

/// `session_name` of the role blocks: what STS accepts as a role session name.
fn session_name_attribute() -> Attribute {
    Attribute::string("session_name")
        .optional()
        .validate(Validator::length_between(2, 64))
        .validate(Validator::string(
            "session name characters",
            "Invalid session name",
            |s| {
                (!s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)))
                .then(|| format!("{s:?} may contain only letters, digits and + = , . @ _ -."))
            },
        ))
}

fn endpoint_attribute(name: &str, what: &str) -> Attribute {
    Attribute::string(name)
        .optional()
        .describe(format!(
            "Endpoint URL for {what}; overrides `endpoint` for this service."
        ))
        .validate(checked(aws::check_endpoint_url, "Invalid endpoint URL"))
}

impl MeshProvider {
    fn settings(config: Config) -> Option<Settings> {
        // Any unknown value defers configuration until it is known.
        let known = |a: Attr<String>| -> Option<Option<String>> {
            match a {
                Attr::Unknown => None,
                Attr::Null => Some(None),
                Attr::Known(v) => Some(Some(v)),
            }
        };
        let assume_role = match config.assume_role {
            Attr::Unknown => return None,
            Attr::Null => None,
            Attr::Known(role) => Some(AssumeRole {
                role_arn: known(role.role_arn)??,
                session_name: known(role.session_name)?,
                external_id: known(role.external_id)?,
            }),
        };
        let web_identity = match config.assume_role_with_web_identity {
            Attr::Unknown => return None,
            Attr::Null => None,
            Attr::Known(block) => Some(WebIdentityConfig {
                role_arn: known(block.role_arn)?,
                session_name: known(block.session_name)?,
                token: known(block.web_identity_token)?.map(Secret::new),
                token_file: known(block.web_identity_token_file)?,
            }),
        };
        let mut endpoints = Vec::new();
        match config.endpoints {
            Attr::Unknown => return None,
            Attr::Null => {}
            Attr::Known(map) => {
                for service in Service::ALL {
                    if let Some(url) = map.get(service.name()).cloned().map(known) {
                        if let Some(url) = url? {
                            endpoints.push((service, url));
                        }
                    }
                }
            }
        }
        let max_retries = match config.max_retries {
            Attr::Unknown => return None,
            Attr::Null => aws::DEFAULT_MAX_RETRIES,
            Attr::Known(n) => u32::try_from(n).unwrap_or(aws::DEFAULT_MAX_RETRIES),
        };
        Some(Settings {
            tag_catalog_id: known(config.tag_catalog_id)?,
            region: known(config.region)?,
            profile: known(config.profile)?,
            endpoint: known(config.endpoint)?,
            assume_role,
            web_identity,
            endpoints,
            max_retries,
        })
    }
}

#[async_trait]
impl server::Provider for MeshProvider {
    type Config = Config;
    type Client = Mesh;

    fn schema(&self) -> Schema {
        let endpoints = Service::ALL.iter().fold(
            Block::new("Per-service endpoint URLs, for emulators and private endpoints."),
            |block, service| block.attribute(endpoint_attribute(service.name(), service.name())),
        );
        Schema::new(
            Block::new(
                "The `mesh` provider runs a data mesh on AWS: Lake Formation LF-tags, domains, \
                 governed data products and their grants. It uses the standard AWS credential \
                 chain (environment, shared config and credentials files, SSO, container and \
                 instance roles), optionally assumes a role, and can point every AWS service at \
                 one `endpoint` (for a local emulator). Configure one provider alias per account.",
            )
            .attribute(
                Attribute::string("region")
                    .optional()
                    .describe("AWS region, e.g. `eu-west-1`. Defaults to `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the profile's region.")
                    .validate(Validator::string("AWS region name", "Invalid region", rules::check_region)),
            )
            .attribute(
                Attribute::string("profile")
                    .optional()
                    .describe("Named profile from the shared AWS config and credentials files. Defaults to `AWS_PROFILE`, then `default`."),
            )
            .attribute(
                Attribute::string("endpoint")
                    .optional()
                    .describe("One endpoint URL for every AWS service the provider calls, e.g. `http://127.0.0.1:5000` for a local emulator. Entries in `endpoints` win over it.")
                    .validate(checked(aws::check_endpoint_url, "Invalid endpoint URL")),
            )
            .attribute(
                Attribute::number("max_retries")
                    .optional()
                    .describe(format!(
                        "Retries of a throttled, concurrently modified or failed (5xx) AWS call, with exponential backoff and jitter. Default {}.",
                        aws::DEFAULT_MAX_RETRIES
                    ))
                    .validate(Validator::new("between 0 and 100", |v, path, diags| {
                        let ok = matches!(v, Value::Number(n) if n.as_i64().is_some_and(|n| (0..=100).contains(&n)));
                        if !ok {
                            diags.error_at(path.clone(), "Invalid max_retries", "`max_retries` must be a whole number between 0 and 100.");
                        }
                    })),
            )
            .attribute(
                Attribute::string("tag_catalog_id")
                    .optional()
                    .describe("The account whose Data Catalog holds the LF-tag ontology (the governance account). Every resource that attaches or grants on LF-tags checks and names tags in it. Defaults to the caller's account.")
                    .validate(rules::account_id_validator("Invalid account id")),
            )
            .block(
                NestedBlock::new(
                    "assume_role",
                    Nesting::Single,
                    Block::new("A role to assume with the resolved credentials, e.g. into a domain's account.")
                        .attribute(
                            Attribute::string("role_arn")
                                .required()
                                .describe("ARN of the IAM role to assume.")
                                .validate(checked(aws::check_role_arn, "Invalid role ARN")),
                        )
                        .attribute(session_name_attribute().describe(format!(
                            "Session name shown in CloudTrail. Default `{}`.",
                            aws::DEFAULT_SESSION_NAME
                        )))
                        .attribute(
                            Attribute::string("external_id")
                                .optional()
                                .sensitive()
                                .describe("External id required by the role's trust policy.")
                                .validate(Validator::length_between(2, 1224)),
                        ),
                ),
            )
            .block(NestedBlock::new(
                "assume_role_with_web_identity",
                Nesting::Single,
                Block::new(
                    "Credentials from a web identity (OIDC) token, as Terraform Cloud's dynamic \
                     credentials and CI systems issue them: the provider calls STS \
                     `AssumeRoleWithWebIdentity` (through `endpoint` / `endpoints.sts` when set) \
                     and uses the role's temporary credentials, refreshed before they expire. \
                     Unset arguments fall back to `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME` and \
                     `AWS_WEB_IDENTITY_TOKEN_FILE`. With `assume_role` too, that role is assumed \
                     with these credentials. Without this block, the standard credential chain \
                     also reads `AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE`.",
                )
                .attribute(
                    Attribute::string("role_arn")
                        .optional()
                        .describe("ARN of the role to assume. Default `AWS_ROLE_ARN`.")
                        .validate(checked(aws::check_role_arn, "Invalid role ARN")),
                )
                .attribute(session_name_attribute().describe(format!(
                    "Session name shown in CloudTrail. Default `AWS_ROLE_SESSION_NAME`, then `{}`.",
                    aws::DEFAULT_SESSION_NAME
                )))
                .attribute(
                    Attribute::string("web_identity_token")
                        .optional()
                        .sensitive()
                        .describe("The OIDC token itself. Conflicts with `web_identity_token_file`. Never logged.")
                        .validate(Validator::length_between(4, 20000)),
                )
                .attribute(
                    Attribute::string("web_identity_token_file")
                        .optional()
                        .describe("A file holding the OIDC token, read again at each refresh. Default `AWS_WEB_IDENTITY_TOKEN_FILE`.")
                        .validate(Validator::length_between(1, 4096)),
                ),
            ))
            .block(NestedBlock::new("endpoints", Nesting::Single, endpoints)),
        )
    }

    fn validate(&self, config: &Config, diags: &mut Diagnostics) {
        if let Attr::Known(block) = &config.assume_role_with_web_identity {
            if block.web_identity_token.is_known() && block.web_identity_token_file.is_known() {
                diags.error_at(
                    AttributePath::attr("assume_role_with_web_identity")
                        .then_attr("web_identity_token_file"),
                    "Conflicting web identity token",
                    "Set `web_identity_token` or `web_identity_token_file`, not both.",
                );
            }
        }
    }

    async fn configure(&self, config: Config, diags: &mut Diagnostics) -> Option<Mesh> {
        let settings = Self::settings(config)?;
        match Clients::new(&settings).await {
            Ok(clients) => Some(Mesh::new(clients)),
            Err(message) => {
                diags.push(Diagnostic::error(
                    "Cannot configure the mesh provider",
                    message,
                ));
                None
            }
        }
    }

    fn resources(&self) -> Vec<Box<dyn DynResource<Mesh>>> {
        resources()
    }

    fn data_sources(&self) -> Vec<Box<dyn DynDataSource<Mesh>>> {
        data_sources()
    }
}
