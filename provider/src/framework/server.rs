//! The framework's native server: every provider RPC in framework types. The transport converts
//! the wire messages to calls here and back; this layer decodes values against schemas, routes
//! to resources and keeps the configured provider.
//!
//! Architecture invariant: no gRPC types here. Values arrive as [`RawValue`] (msgpack or JSON
//! bytes) and leave as msgpack bytes.

use super::data_source::DynDataSource;
use super::diag::{Diagnostic, Diagnostics};
use super::path::AttributePath;
use super::resource::{validate_block, DynResource, Private};
use super::schema::Schema;
use super::schema_rules::{self, SchemaKind};
use super::value::{self, Type, Value};
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// A provider: its configuration schema, how to configure it, and its resources.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider configuration model.
    type Config: DeserializeOwned + Send;
    /// What resources receive once configured (AWS clients).
    type Client: Send + Sync + 'static;

    /// The provider block's schema.
    fn schema(&self) -> Schema;

    /// Checks beyond attribute validators. Values may be unknown.
    fn validate(&self, _config: &Self::Config, _diags: &mut Diagnostics) {}

    /// Builds the client from a configuration. Values may still be unknown (a provider argument
    /// taken from a resource not yet created); return `None` without errors to defer.
    async fn configure(
        &self,
        config: Self::Config,
        diags: &mut Diagnostics,
    ) -> Option<Self::Client>;

    /// The managed resource types.
    fn resources(&self) -> Vec<Box<dyn DynResource<Self::Client>>>;

    /// The data source types.
    fn data_sources(&self) -> Vec<Box<dyn DynDataSource<Self::Client>>> {
        Vec::new()
    }
}

/// A value as it arrives from Terraform: msgpack, or JSON when msgpack is empty.
#[derive(Debug, Clone, Default)]
pub struct RawValue {
    /// msgpack bytes.
    pub msgpack: Vec<u8>,
    /// JSON bytes (used only when msgpack is empty).
    pub json: Vec<u8>,
}

impl RawValue {
    /// A msgpack-encoded value.
    pub fn msgpack(bytes: Vec<u8>) -> Self {
        Self {
            msgpack: bytes,
            json: Vec::new(),
        }
    }

    fn decode(&self, ty: &Type, what: &str) -> Result<Value, Diagnostics> {
        let result = if !self.msgpack.is_empty() {
            value::msgpack::decode(&self.msgpack, ty)
        } else if !self.json.is_empty() {
            value::json::decode(&self.json, ty)
        } else {
            Ok(Value::Null)
        };
        result
            .map_err(|e| Diagnostic::provider_bug(format!("cannot decode the {what}: {e}")).into())
    }
}

/// The schemas Terraform asks for.
#[derive(Debug)]
pub struct ProviderSchemas {
    /// The provider block.
    pub provider: Schema,
    /// Managed resources by type name.
    pub resources: BTreeMap<String, Schema>,
    /// Data sources by type name.
    pub data_sources: BTreeMap<String, Schema>,
    /// Problems building them.
    pub diags: Diagnostics,
}

/// Result of planning, encoded.
#[derive(Debug, Default)]
pub struct PlanResponse {
    /// msgpack of the planned state.
    pub planned_state: Vec<u8>,
    /// Paths forcing replacement.
    pub requires_replace: Vec<AttributePath>,
    /// Private bytes for apply.
    pub planned_private: Vec<u8>,
    /// Diagnostics.
    pub diags: Diagnostics,
}

/// Result of apply, read or state upgrade, encoded.
#[derive(Debug, Default)]
pub struct StateResponse {
    /// msgpack of the new state.
    pub state: Vec<u8>,
    /// Private bytes.
    pub private: Vec<u8>,
    /// Diagnostics.
    pub diags: Diagnostics,
}

/// One imported resource, encoded.
#[derive(Debug)]
pub struct Imported {
    /// Resource type.
    pub type_name: String,
    /// msgpack of its state.
    pub state: Vec<u8>,
    /// Private bytes.
    pub private: Vec<u8>,
}

/// The server: a provider, its resources, and the configured client once ConfigureProvider ran.
pub struct Server<P: Provider> {
    provider: P,
    schema: Schema,
    resources: BTreeMap<&'static str, Box<dyn DynResource<P::Client>>>,
    data_sources: BTreeMap<&'static str, Box<dyn DynDataSource<P::Client>>>,
    client: RwLock<Option<Arc<P::Client>>>,
    /// Schema rules broken by the provider or a resource: served as errors instead of schemas.
    broken: Diagnostics,
}

impl<P: Provider> Server<P> {
    /// A server for `provider`.
    pub fn new(provider: P) -> Self {
        let schema = provider.schema();
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| (r.type_name(), r))
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| (d.type_name(), d))
            .collect();
        let broken = schema_problems(&schema, &resources, &data_sources);
        Self {
            provider,
            schema,
            resources,
            data_sources,
            client: RwLock::new(None),
            broken,
        }
    }

    /// GetProviderSchema. A schema that breaks Terraform's rules is never served: Terraform would
    /// refuse the provider with a less helpful message, or (1.0) accept what later versions
    /// refuse.
    pub fn provider_schemas(&self) -> ProviderSchemas {
        if self.broken.has_errors() {
            return ProviderSchemas {
                provider: Schema::new(Default::default()),
                resources: BTreeMap::new(),
                data_sources: BTreeMap::new(),
                diags: self.broken.clone(),
            };
        }
        ProviderSchemas {
            provider: self.schema.clone(),
            resources: self
                .resources
                .iter()
                .map(|(name, r)| (name.to_string(), r.schema().clone()))
                .collect(),
            data_sources: self
                .data_sources
                .iter()
                .map(|(name, d)| (name.to_string(), d.schema().clone()))
                .collect(),
            diags: Diagnostics::new(),
        }
    }

    fn data_source(&self, type_name: &str) -> Result<&dyn DynDataSource<P::Client>, Diagnostics> {
        self.data_sources
            .get(type_name)
            .map(|d| d.as_ref())
            .ok_or_else(|| {
                Diagnostic::error(
                    "Unknown data source",
                    format!("This provider has no data source {type_name:?}."),
                )
                .into()
            })
    }

    /// ValidateDataResourceConfig.
    pub fn validate_data_resource_config(&self, type_name: &str, config: &RawValue) -> Diagnostics {
        let source = match self.data_source(type_name) {
            Ok(d) => d,
            Err(d) => return d,
        };
        match config.decode(&source.schema().ty(), "data source configuration") {
            Ok(value) => source.validate(&value),
            Err(d) => d,
        }
    }

    /// ReadDataSource.
    pub async fn read_data_source(&self, type_name: &str, config: &RawValue) -> StateResponse {
        let source = match self.data_source(type_name) {
            Ok(d) => d,
            Err(diags) => return error_state(diags),
        };
        let ty = source.schema().ty();
        let config = match config.decode(&ty, "data source configuration") {
            Ok(v) => v,
            Err(diags) => return error_state(diags),
        };
        let mut diags = source.validate(&config);
        if diags.has_errors() {
            return error_state(diags);
        }
        let client = match self.require_client() {
            Ok(c) => c,
            Err(diags) => return error_state(diags),
        };
        let (state, more) = source.read(&client, config).await;
        diags.extend(more);
        if diags.has_errors() {
            return error_state(diags);
        }
        finish_state(state, Private::default(), diags, &ty)
    }

    fn resource(&self, type_name: &str) -> Result<&dyn DynResource<P::Client>, Diagnostics> {
        self.resources
            .get(type_name)
            .map(|r| r.as_ref())
            .ok_or_else(|| {
                Diagnostic::error(
                    "Unknown resource type",
                    format!("This provider has no resource type {type_name:?}."),
                )
                .into()
            })
    }

    fn client(&self) -> Option<Arc<P::Client>> {
        self.client.read().ok().and_then(|c| c.clone())
    }

    fn require_client(&self) -> Result<Arc<P::Client>, Diagnostics> {
        self.client().ok_or_else(|| {
            Diagnostic::error(
                "Provider not configured",
                "The mesh provider's configuration is not known yet (it depends on values known only after apply), so it cannot reach AWS. Apply the resources it depends on first, e.g. with -target.",
            )
            .into()
        })
    }

    /// ValidateProviderConfig.
    pub fn validate_provider_config(&self, config: &RawValue) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let value = match config.decode(&self.schema.ty(), "provider configuration") {
            Ok(v) => v,
            Err(d) => return d,
        };
        validate_block(
            &self.schema.block,
            &value,
            &AttributePath::root(),
            &mut diags,
        );
        if diags.has_errors() {
            return diags;
        }
        match decode_model::<P::Config>(&value, "provider configuration") {
            Ok(model) => self.provider.validate(&model, &mut diags),
            Err(d) => diags.extend(d),
        }
        diags
    }

    /// ConfigureProvider.
    pub async fn configure_provider(&self, config: &RawValue) -> Diagnostics {
        let mut diags = self.validate_provider_config(config);
        if diags.has_errors() {
            return diags;
        }
        let value = match config.decode(&self.schema.ty(), "provider configuration") {
            Ok(v) => v,
            Err(d) => return d,
        };
        let model = match decode_model::<P::Config>(&value, "provider configuration") {
            Ok(m) => m,
            Err(d) => return d,
        };
        let client = self.provider.configure(model, &mut diags).await;
        if let Ok(mut slot) = self.client.write() {
            *slot = client.map(Arc::new);
        }
        diags
    }

    /// ValidateResourceConfig.
    pub fn validate_resource_config(&self, type_name: &str, config: &RawValue) -> Diagnostics {
        let resource = match self.resource(type_name) {
            Ok(r) => r,
            Err(d) => return d,
        };
        match config.decode(&resource.schema().ty(), "resource configuration") {
            Ok(value) => resource.validate(&value),
            Err(d) => d,
        }
    }

    /// UpgradeResourceState: stored JSON to the current schema, answered in msgpack.
    pub fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        json: &[u8],
    ) -> StateResponse {
        let result = (|| {
            let resource = self.resource(type_name)?;
            if json.is_empty() {
                return Err(Diagnostic::error(
                    "Unsupported state format",
                    "This resource's state has no JSON form (pre-0.12 flatmap state); it cannot be upgraded by this provider.",
                )
                .into());
            }
            let ty = resource.schema().ty();
            let raw: serde_json::Value = serde_json::from_slice(json).map_err(|e| {
                Diagnostics::from(Diagnostic::provider_bug(format!(
                    "stored state is not JSON: {e}"
                )))
            })?;
            let upgraded = resource.upgrade(version, raw)?;
            let bytes = serde_json::to_vec(&upgraded)
                .map_err(|e| Diagnostics::from(Diagnostic::provider_bug(e)))?;
            let value = value::json::decode_lenient(&bytes, &ty).map_err(|e| {
                Diagnostics::from(Diagnostic::provider_bug(format!(
                    "stored state does not fit the schema: {e}"
                )))
            })?;
            encode(&value, &ty)
        })();
        match result {
            Ok(state) => StateResponse {
                state,
                ..StateResponse::default()
            },
            Err(diags) => StateResponse {
                diags,
                ..StateResponse::default()
            },
        }
    }

    /// ReadResource.
    pub async fn read_resource(
        &self,
        type_name: &str,
        state: &RawValue,
        private: &[u8],
    ) -> StateResponse {
        let resource = match self.resource(type_name) {
            Ok(r) => r,
            Err(diags) => return error_state(diags),
        };
        let ty = resource.schema().ty();
        let current = match state.decode(&ty, "state") {
            Ok(v) => v,
            Err(diags) => return error_state(diags),
        };
        let client = match self.require_client() {
            Ok(c) => c,
            Err(diags) => return error_state(diags),
        };
        let out = resource
            .read(&client, current, Private::from_bytes(private))
            .await;
        finish_state(out.state, out.private, out.diags, &ty)
    }

    /// PlanResourceChange.
    pub async fn plan_resource_change(
        &self,
        type_name: &str,
        prior: &RawValue,
        proposed: &RawValue,
        config: &RawValue,
        prior_private: &[u8],
    ) -> PlanResponse {
        let resource = match self.resource(type_name) {
            Ok(r) => r,
            Err(diags) => {
                return PlanResponse {
                    diags,
                    ..PlanResponse::default()
                }
            }
        };
        let ty = resource.schema().ty();
        let decoded = (|| {
            Ok::<_, Diagnostics>((
                prior.decode(&ty, "prior state")?,
                proposed.decode(&ty, "proposed new state")?,
                config.decode(&ty, "configuration")?,
            ))
        })();
        let (prior, proposed, config) = match decoded {
            Ok(v) => v,
            Err(diags) => {
                return PlanResponse {
                    diags,
                    ..PlanResponse::default()
                }
            }
        };
        let client = self.client();
        let out = resource
            .plan(
                client.as_deref(),
                prior,
                proposed,
                config,
                Private::from_bytes(prior_private),
            )
            .await;
        let mut diags = out.diags;
        let planned_state = match encode(&out.planned, &ty) {
            Ok(bytes) => bytes,
            Err(d) => {
                diags.extend(d);
                Vec::new()
            }
        };
        PlanResponse {
            planned_state,
            requires_replace: out.requires_replace,
            planned_private: out.private.to_bytes(),
            diags,
        }
    }

    /// ApplyResourceChange.
    pub async fn apply_resource_change(
        &self,
        type_name: &str,
        prior: &RawValue,
        planned: &RawValue,
        planned_private: &[u8],
    ) -> StateResponse {
        let resource = match self.resource(type_name) {
            Ok(r) => r,
            Err(diags) => return error_state(diags),
        };
        let ty = resource.schema().ty();
        let decoded = (|| {
            Ok::<_, Diagnostics>((
                prior.decode(&ty, "prior state")?,
                planned.decode(&ty, "planned state")?,
            ))
        })();
        let (prior, planned) = match decoded {
            Ok(v) => v,
            Err(diags) => return error_state(diags),
        };
        let client = match self.require_client() {
            Ok(c) => c,
            Err(diags) => {
                // Nothing was done: the state stays what it was.
                return finish_state(prior, Private::from_bytes(planned_private), diags, &ty);
            }
        };
        let out = resource
            .apply(
                &client,
                prior,
                planned,
                Private::from_bytes(planned_private),
            )
            .await;
        finish_state(out.state, out.private, out.diags, &ty)
    }

    /// ImportResourceState.
    pub async fn import_resource_state(
        &self,
        type_name: &str,
        id: &str,
    ) -> (Vec<Imported>, Diagnostics) {
        let resource = match self.resource(type_name) {
            Ok(r) => r,
            Err(diags) => return (Vec::new(), diags),
        };
        let client = match self.require_client() {
            Ok(c) => c,
            Err(diags) => return (Vec::new(), diags),
        };
        let ty = resource.schema().ty();
        let out = resource.import(&client, id).await;
        let mut diags = out.diags;
        if diags.has_errors() || out.state.is_null() {
            return (Vec::new(), diags);
        }
        match encode(&out.state, &ty) {
            Ok(state) => (
                vec![Imported {
                    type_name: type_name.to_string(),
                    state,
                    private: out.private.to_bytes(),
                }],
                diags,
            ),
            Err(d) => {
                diags.extend(d);
                (Vec::new(), diags)
            }
        }
    }
}

/// One provider-bug diagnostic per schema rule broken, naming the provider block or resource.
fn schema_problems<C>(
    provider: &Schema,
    resources: &BTreeMap<&'static str, Box<dyn DynResource<C>>>,
    data_sources: &BTreeMap<&'static str, Box<dyn DynDataSource<C>>>,
) -> Diagnostics {
    let owners = std::iter::once(("provider", SchemaKind::Provider, provider))
        .chain(
            resources
                .iter()
                .map(|(name, r)| (*name, SchemaKind::Resource, r.schema())),
        )
        .chain(
            data_sources
                .iter()
                .map(|(name, d)| (*name, SchemaKind::DataSource, d.schema())),
        );
    let mut diags = Diagnostics::new();
    for (owner, kind, schema) in owners {
        for violation in schema_rules::check(kind, schema) {
            diags.push(Diagnostic::provider_bug(format!(
                "invalid schema for {owner}: {violation}"
            )));
        }
    }
    let models = resources
        .iter()
        .map(|(name, r)| (name, r.model_problems()))
        .chain(
            data_sources
                .iter()
                .map(|(name, d)| (name, d.model_problems())),
        );
    for (name, problems) in models {
        for problem in problems {
            diags.push(Diagnostic::provider_bug(format!(
                "the model of {name} does not match its schema: {problem}"
            )));
        }
    }
    diags
}

fn decode_model<T: DeserializeOwned>(value: &Value, what: &str) -> Result<T, Diagnostics> {
    value::from_value(value).map_err(|e| {
        // A value that reached here passed the schema, so a mismatch is ours, except unknowns in
        // attributes the model needs known, which validators report first.
        Diagnostic::error(format!("Invalid {what}"), e.message.clone())
            .at(e.path.clone())
            .into()
    })
}

fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, Diagnostics> {
    value::msgpack::encode(value, ty)
        .map_err(|e| Diagnostic::provider_bug(format!("cannot encode a value: {e}")).into())
}

fn error_state(diags: Diagnostics) -> StateResponse {
    StateResponse {
        diags,
        ..StateResponse::default()
    }
}

fn finish_state(
    state: Value,
    private: Private,
    mut diags: Diagnostics,
    ty: &Type,
) -> StateResponse {
    let state = match encode(&state, ty) {
        Ok(bytes) => bytes,
        Err(d) => {
            diags.extend(d);
            Vec::new()
        }
    };
    StateResponse {
        state,
        private: private.to_bytes(),
        diags,
    }
}
