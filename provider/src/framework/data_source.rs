//! Data sources, typed, and their object-safe twin the server holds: the same model binding as
//! resources ([`super::resource`]), without a lifecycle. Terraform validates the configuration,
//! then reads: the configuration's arguments in, every computed attribute out.

use super::diag::{Diagnostic, Diagnostics};
use super::resource::{decode_model, model_problems, validate_config};
use super::schema::Schema;
use super::value::{self, Type, Value};
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A data source, typed. `Client` is the configured provider's client data.
///
/// Contract: `read` answers the whole model, every computed attribute known (null where there
/// is nothing), and reports a missing object as an error naming the argument that named it;
/// Terraform has no "gone" for data sources.
#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    /// The model: a serde struct whose fields match the schema's attributes by name.
    type Model: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// The configured provider's data (AWS clients).
    type Client: Send + Sync + 'static;

    /// The data source type name, e.g. `mesh_domain`.
    fn type_name(&self) -> &'static str;

    /// The schema: arguments (required or optional) and computed attributes.
    fn schema(&self) -> Schema;

    /// Checks of the configuration beyond attribute validators. Values may be unknown.
    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}

    /// Reads what the configuration asks for.
    async fn read(
        &self,
        client: &Self::Client,
        config: Self::Model,
    ) -> Result<Self::Model, Diagnostics>;
}

/// The object-safe twin of [`DataSource`], on cty values. The server holds these.
#[async_trait]
pub trait DynDataSource<C>: Send + Sync {
    /// Type name.
    fn type_name(&self) -> &'static str;
    /// Schema (computed once).
    fn schema(&self) -> &Schema;
    /// Where the typed model and the schema disagree.
    fn model_problems(&self) -> Vec<String>;
    /// Validates a configuration.
    fn validate(&self, config: &Value) -> Diagnostics;
    /// Reads: the state for a (wholly known) configuration.
    async fn read(&self, client: &C, config: Value) -> (Value, Diagnostics);
}

/// A [`DataSource`] with its schema computed once.
pub struct RegisteredData<D: DataSource> {
    source: D,
    schema: Schema,
    ty: Type,
}

impl<D: DataSource> RegisteredData<D> {
    /// Registers a data source.
    pub fn new(source: D) -> Self {
        let schema = source.schema();
        let ty = schema.ty();
        Self { source, schema, ty }
    }
}

#[async_trait]
impl<D: DataSource> DynDataSource<D::Client> for RegisteredData<D> {
    fn type_name(&self) -> &'static str {
        self.source.type_name()
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn model_problems(&self) -> Vec<String> {
        model_problems::<D::Model>(&self.schema)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate_config(
            self.source.type_name(),
            &self.schema,
            config,
            |model: &D::Model, diags| self.source.validate(model, diags),
        )
    }

    async fn read(&self, client: &D::Client, config: Value) -> (Value, Diagnostics) {
        let model = match decode_model::<D::Model>(self.source.type_name(), &config) {
            Ok(m) => m,
            Err(d) => return (Value::Null, d),
        };
        match self.source.read(client, model).await {
            Ok(state) => match value::to_value(&state, &self.ty) {
                Ok(v) => (v, Diagnostics::new()),
                Err(e) => (
                    Value::Null,
                    Diagnostic::provider_bug(format!(
                        "{}: the model does not fit the schema: {e}",
                        self.source.type_name()
                    ))
                    .into(),
                ),
            },
            Err(d) => (Value::Null, d),
        }
    }
}
