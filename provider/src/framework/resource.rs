//! The traits a resource implements, typed, and their object-safe twin the server holds.
//!
//! A resource is written against its own model struct (serde, with [`Attr`] for values that may
//! be null or unknown). The framework converts Terraform's values into that model and back,
//! runs validators and the plan order in [`super::plan`], and never lets a resource see msgpack.
//!
//! [`Attr`]: super::value::Attr

use super::diag::{Diagnostic, Diagnostics};
use super::path::AttributePath;
use super::plan;
use super::schema::{Block, Nesting, Schema};
use super::value::{self, Type, Value};
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;

/// Provider-private data stored beside a resource's state (opaque to Terraform).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Private(pub BTreeMap<String, serde_json::Value>);

impl Private {
    /// Decodes the bytes Terraform hands back; empty or unreadable bytes are an empty map (they
    /// are ours, but a provider downgrade must not wedge a resource).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        serde_json::from_slice(bytes)
            .map(Private)
            .unwrap_or_default()
    }

    /// The bytes Terraform stores; empty when there is nothing.
    pub fn to_bytes(&self) -> Vec<u8> {
        if self.0.is_empty() {
            Vec::new()
        } else {
            serde_json::to_vec(&self.0).unwrap_or_default()
        }
    }

    /// The typed value under `key`; `None` when absent or of another shape (stored by an older
    /// provider: treated as absent, as unreadable bytes are).
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.0
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Stores `value` under `key`.
    pub fn set<T: Serialize>(&mut self, key: &str, value: &T) {
        if let Ok(v) = serde_json::to_value(value) {
            self.0.insert(key.to_string(), v);
        }
    }

    /// Removes `key`; true when it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        self.0.remove(key).is_some()
    }

    /// True when `key` is there.
    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }
}

/// One resource's private state, typed: a serde value kept under its own key. The default value
/// is "nothing to say" and is not stored.
pub trait PrivateState: Serialize + DeserializeOwned + Default + PartialEq {
    /// The key it is kept under.
    const KEY: &'static str;
}

impl Private {
    /// The resource's private state; the default when absent or unreadable.
    pub fn load<T: PrivateState>(&self) -> T {
        self.get(T::KEY).unwrap_or_default()
    }

    /// Keeps `value` (removes the key when it is the default).
    pub fn store<T: PrivateState>(&mut self, value: &T) {
        if *value == T::default() {
            self.remove(T::KEY);
        } else {
            self.set(T::KEY, value);
        }
    }
}

/// What a create or update that failed part-way leaves behind.
#[derive(Debug)]
pub struct Failure<M> {
    /// What exists now: saved to state (Terraform taints it) so the next apply can converge.
    /// `None` when nothing was left behind (finished steps were undone, or none happened).
    pub state: Option<M>,
    /// Why it failed.
    pub diags: Diagnostics,
}

impl<M> Failure<M> {
    /// A failure that left nothing behind.
    pub fn clean(diags: impl Into<Diagnostics>) -> Self {
        Self {
            state: None,
            diags: diags.into(),
        }
    }

    /// A failure that left `state` behind.
    pub fn partial(state: M, diags: impl Into<Diagnostics>) -> Self {
        Self {
            state: Some(state),
            diags: diags.into(),
        }
    }
}

/// The resource's view of a plan, for its plan hook.
#[derive(Debug)]
pub struct PlanRequest<M> {
    /// Prior state; `None` on create.
    pub prior: Option<M>,
    /// The configuration (may hold unknowns).
    pub config: M,
    /// The plan so far; the hook may change it.
    pub planned: M,
    /// Extra paths that force replacement.
    pub requires_replace: Vec<AttributePath>,
    /// Problems found while planning.
    pub diags: Diagnostics,
    /// Private data: what the last read left (for example drift it saw in something that has no
    /// attribute of its own); what the hook leaves here goes to apply.
    pub private: Private,
}

/// A managed resource, typed, on one skeleton. `C` is the configured provider's client data.
///
/// Every resource names the same parts, and the framework drives them:
/// - [`Resource::Id`], parsed once: from a stored state by [`Resource::id`], from an import id by
///   [`Resource::parse_id`].
/// - [`Resource::Spec`], what the user declared with the schema's defaults applied (the plan
///   applied them): the framework decodes it with [`Resource::spec`] and hands it to `create`
///   and `update`, so no resource reads raw planned values for what it sends.
/// - [`Resource::find`], the only place that decides "not found", and the pure
///   [`Resource::flatten`] from what AWS holds to state. `read` and `import` are built from them
///   unless a resource has more to say (private state it keeps beside the found object).
///
/// Contracts:
/// - `create` and `update` return the full new state, every computed value known; on a failure
///   part-way they return what exists ([`Failure::partial`]) or undo what they did.
/// - `read` returns `Ok(None)` when the object is gone, so Terraform plans to recreate it.
/// - `delete` treats "already gone" as success.
/// - `import` refuses an id that names nothing; `read` runs after it.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The model: a serde struct whose fields match the schema's attributes by name.
    type Model: Serialize + DeserializeOwned + Default + Send + Sync + 'static;
    /// The configured provider's data (AWS clients).
    type Client: Send + Sync + 'static;
    /// The typed id of one object.
    type Id: std::fmt::Display + Send + Sync;
    /// What the user declared, defaults applied.
    type Spec: Send + Sync;
    /// The object as AWS holds it.
    type Found: Send + Sync;

    /// The resource type name, e.g. `mesh_lf_tag`.
    fn type_name(&self) -> &'static str;

    /// The schema.
    fn schema(&self) -> Schema;

    /// Checks of the configuration beyond attribute validators. Values may be unknown.
    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}

    /// The resource's plan hook, after the framework's defaults and unknowns. `client` is `None`
    /// when the provider could not be configured yet (unknown provider arguments).
    async fn modify_plan(
        &self,
        _client: Option<&Self::Client>,
        _req: &mut PlanRequest<Self::Model>,
    ) {
    }

    /// Fills what the plan could not know but apply can, before the spec is decoded: for
    /// example the caller's account as the default catalog, when the provider was not yet
    /// configured at plan time.
    async fn complete(
        &self,
        _client: &Self::Client,
        _planned: &mut Self::Model,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }

    /// Decodes the spec of a planned (or stored) model: every value the plan guarantees known.
    fn spec(&self, model: &Self::Model) -> Result<Self::Spec, Diagnostics>;

    /// The id of the object a stored state describes.
    fn id(&self, state: &Self::Model) -> Result<Self::Id, Diagnostics>;

    /// Parses an import id; the client is there for defaults such as the caller's account.
    async fn parse_id(&self, client: &Self::Client, raw: &str) -> Result<Self::Id, Diagnostics>;

    /// Looks the object up: `Ok(None)` when it does not exist. The only place that says so.
    async fn find(
        &self,
        client: &Self::Client,
        id: &Self::Id,
    ) -> Result<Option<Self::Found>, Diagnostics>;

    /// The state for what AWS holds. Pure. `prior` is the stored state (all null on import):
    /// it keeps what AWS does not echo back, such as the user's spelling.
    fn flatten(&self, id: &Self::Id, found: Self::Found, prior: &Self::Model) -> Self::Model;

    /// Creates the object.
    async fn create(
        &self,
        client: &Self::Client,
        spec: Self::Spec,
        planned: Self::Model,
        private: &mut Private,
    ) -> Result<Self::Model, Failure<Self::Model>>;

    /// Reads the object back; `Ok(None)` when it no longer exists.
    async fn read(
        &self,
        client: &Self::Client,
        state: Self::Model,
        _private: &mut Private,
    ) -> Result<Option<Self::Model>, Diagnostics> {
        let id = self.id(&state)?;
        Ok(self
            .find(client, &id)
            .await?
            .map(|found| self.flatten(&id, found, &state)))
    }

    /// Updates the object in place to `spec`.
    async fn update(
        &self,
        client: &Self::Client,
        prior: Self::Model,
        spec: Self::Spec,
        planned: Self::Model,
        private: &mut Private,
    ) -> Result<Self::Model, Failure<Self::Model>>;

    /// Deletes the object. `private` is what the last read or apply left (for example objects a
    /// failed change may have made that the state does not declare).
    async fn delete(
        &self,
        client: &Self::Client,
        state: Self::Model,
        private: &Private,
    ) -> Result<(), Diagnostics>;

    /// The state of an existing object named by an import id.
    async fn import(&self, client: &Self::Client, raw: &str) -> Result<Self::Model, Diagnostics> {
        let id = self.parse_id(client, raw).await?;
        match self.find(client, &id).await? {
            Some(found) => Ok(self.flatten(&id, found, &Self::Model::default())),
            None => Err(Diagnostic::error(
                "Cannot import an object that does not exist",
                format!("No {} {id} exists.", self.type_name()),
            )
            .into()),
        }
    }

    /// Upgrades stored state JSON one version step, from `version` to `version + 1`. Called only
    /// for state older than the schema version.
    fn upgrade_state(
        &self,
        version: i64,
        _state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        Err(Diagnostic::provider_bug(format!(
            "{} has no state upgrade from schema version {version}",
            self.type_name()
        ))
        .into())
    }
}

/// The error for an import id that does not parse: names the attribute and the accepted forms.
pub fn invalid_import_id(problem: impl std::fmt::Display, forms: &str) -> Diagnostics {
    Diagnostic::error(
        "Invalid import id",
        format!("{problem} Import ids are {forms}."),
    )
    .at(AttributePath::attr("id"))
    .into()
}

/// Result of planning.
#[derive(Debug, Default)]
pub struct PlanOutcome {
    /// The planned new state (null to destroy).
    pub planned: Value,
    /// Attribute changes that force replacement.
    pub requires_replace: Vec<AttributePath>,
    /// Private data for apply.
    pub private: Private,
    /// Diagnostics.
    pub diags: Diagnostics,
}

/// Result of apply, read or import.
#[derive(Debug, Default)]
pub struct StateOutcome {
    /// The new state (null when gone).
    pub state: Value,
    /// Private data.
    pub private: Private,
    /// Diagnostics.
    pub diags: Diagnostics,
}

/// The object-safe twin of [`Resource`], on cty values. The server holds these.
#[async_trait]
pub trait DynResource<C>: Send + Sync {
    /// Type name.
    fn type_name(&self) -> &'static str;
    /// Schema (computed once).
    fn schema(&self) -> &Schema;
    /// Where the typed model and the schema disagree (see [`Registered::model_problems`]).
    fn model_problems(&self) -> Vec<String>;
    /// Validates a configuration.
    fn validate(&self, config: &Value) -> Diagnostics;
    /// Plans a change.
    async fn plan(
        &self,
        client: Option<&C>,
        prior: Value,
        proposed: Value,
        config: Value,
        private: Private,
    ) -> PlanOutcome;
    /// Applies a planned change: create, update or delete.
    async fn apply(
        &self,
        client: &C,
        prior: Value,
        planned: Value,
        private: Private,
    ) -> StateOutcome;
    /// Refreshes state.
    async fn read(&self, client: &C, state: Value, private: Private) -> StateOutcome;
    /// Imports by id.
    async fn import(&self, client: &C, id: &str) -> StateOutcome;
    /// Upgrades stored state JSON from `version` to the current schema.
    fn upgrade(
        &self,
        version: i64,
        json: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics>;
}

/// A [`Resource`] with its schema computed once.
pub struct Registered<R: Resource> {
    resource: R,
    schema: Schema,
    ty: Type,
}

impl<R: Resource> Registered<R> {
    /// Registers a resource.
    pub fn new(resource: R) -> Self {
        let schema = resource.schema();
        let ty = schema.ty();
        Self {
            resource,
            schema,
            ty,
        }
    }

    /// Where the model and the schema disagree: an attribute or block the model has no field
    /// for (its value would be dropped), or a field the schema does not have (always null).
    pub fn model_problems(&self) -> Vec<String> {
        model_problems::<R::Model>(&self.schema)
    }

    fn decode(&self, value: &Value) -> Result<R::Model, Diagnostics> {
        decode_model(self.resource.type_name(), value)
    }

    fn encode(&self, model: &R::Model) -> Result<Value, Diagnostics> {
        value::to_value(model, &self.ty).map_err(|e| {
            Diagnostic::provider_bug(format!(
                "{}: the model does not fit the schema: {e}",
                self.resource.type_name()
            ))
            .into()
        })
    }

    fn encode_outcome(
        &self,
        result: Result<Option<R::Model>, Diagnostics>,
        private: Private,
    ) -> StateOutcome {
        let (state, diags) = match result {
            Ok(Some(model)) => match self.encode(&model) {
                Ok(v) => (v, Diagnostics::new()),
                Err(d) => (Value::Null, d),
            },
            Ok(None) => (Value::Null, Diagnostics::new()),
            Err(d) => (Value::Null, d),
        };
        StateOutcome {
            state,
            private,
            diags,
        }
    }

    fn encode_failure(&self, failure: Failure<R::Model>, private: Private) -> StateOutcome {
        let mut out = self.encode_outcome(Ok(failure.state), private);
        // A partial state is what exists: what the plan left unknown was never set, so it is null
        // (Terraform refuses unknown values after apply).
        nullify_unknowns(&mut out.state);
        out.diags.extend(failure.diags);
        out
    }
}

/// Where model `M` and `schema` disagree: an attribute or block the model has no field for
/// (its value would be dropped), or a field the schema does not have (always null).
pub fn model_problems<M: DeserializeOwned>(schema: &Schema) -> Vec<String> {
    let Some(fields) = value::struct_fields::<M>() else {
        return vec!["the model is not a plain struct, so it cannot be checked".into()];
    };
    let in_schema: std::collections::BTreeSet<&str> = schema
        .block
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .chain(schema.block.blocks.iter().map(|b| b.type_name.as_str()))
        .collect();
    let model: std::collections::BTreeSet<&str> = fields.iter().copied().collect();
    let mut problems: Vec<String> = in_schema
        .difference(&model)
        .map(|name| format!("`{name}` is in the schema but the model has no field for it"))
        .collect();
    problems.extend(
        model
            .difference(&in_schema)
            .map(|name| format!("the model field `{name}` is not in the schema")),
    );
    problems
}

/// Decodes a value of `type_name`'s schema into its model; a misfit is a provider bug.
pub fn decode_model<M: DeserializeOwned>(type_name: &str, value: &Value) -> Result<M, Diagnostics> {
    value::from_value(value).map_err(|e| {
        Diagnostic::provider_bug(format!(
            "{type_name}: the value does not fit the model: {e}"
        ))
        .into()
    })
}

/// Validates a configuration: the schema's attribute validators, then (once every value the
/// model needs is known) the typed `check`. Values known only later skip `check`: it runs at
/// plan or read.
pub fn validate_config<M: DeserializeOwned>(
    type_name: &str,
    schema: &Schema,
    config: &Value,
    check: impl FnOnce(&M, &mut Diagnostics),
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    validate_block(&schema.block, config, &AttributePath::root(), &mut diags);
    if diags.has_errors() {
        return diags;
    }
    match decode_model::<M>(type_name, config) {
        Ok(model) => check(&model, &mut diags),
        Err(_) if !config.is_wholly_known() => {}
        Err(d) => diags.extend(d),
    }
    diags
}

/// Replaces every unknown inside `value` with null.
pub fn nullify_unknowns(value: &mut Value) {
    match value {
        Value::Unknown(_) => *value = Value::Null,
        Value::List(v) | Value::Set(v) | Value::Tuple(v) => v.iter_mut().for_each(nullify_unknowns),
        Value::Map(m) | Value::Object(m) => m.values_mut().for_each(nullify_unknowns),
        Value::Dynamic(_, v) => nullify_unknowns(v),
        _ => {}
    }
}

/// Runs attribute validators over a block's value, recursing into nested blocks.
pub fn validate_block(block: &Block, value: &Value, at: &AttributePath, diags: &mut Diagnostics) {
    for attr in &block.attributes {
        let v = value.get_attr(&attr.name).unwrap_or(&Value::Null);
        let path = at.then_attr(&attr.name);
        for validator in &attr.validators {
            validator.run(v, &path, diags);
        }
    }
    for nested in &block.blocks {
        let v = value.get_attr(&nested.type_name).unwrap_or(&Value::Null);
        let path = at.then_attr(&nested.type_name);
        match (nested.nesting, v) {
            (Nesting::Single | Nesting::Group, v) if !v.is_null() && !v.is_unknown() => {
                validate_block(&nested.block, v, &path, diags)
            }
            (Nesting::List, Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    validate_block(&nested.block, item, &path.then_index(i), diags);
                }
            }
            (Nesting::Set, Value::Set(items)) => {
                for item in items {
                    validate_block(&nested.block, item, &path, diags);
                }
            }
            (Nesting::Map, Value::Map(items)) => {
                for (key, item) in items {
                    validate_block(&nested.block, item, &path.then_key(key.clone()), diags);
                }
            }
            _ => {}
        }
    }
}

#[async_trait]
impl<R: Resource> DynResource<R::Client> for Registered<R> {
    fn type_name(&self) -> &'static str {
        self.resource.type_name()
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn model_problems(&self) -> Vec<String> {
        Registered::model_problems(self)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate_config(
            self.resource.type_name(),
            &self.schema,
            config,
            |model: &R::Model, diags| self.resource.validate(model, diags),
        )
    }

    async fn plan(
        &self,
        client: Option<&R::Client>,
        prior: Value,
        proposed: Value,
        config: Value,
        mut private: Private,
    ) -> PlanOutcome {
        // Destroy: nothing to plan.
        if proposed.is_null() {
            return PlanOutcome {
                planned: Value::Null,
                private,
                ..PlanOutcome::default()
            };
        }
        let mut planned = proposed;
        plan::plan_computed(&self.schema.block, &prior, &config, &mut planned);

        let mut diags = Diagnostics::new();
        let decoded = (|| {
            let prior_model = if prior.is_null() {
                None
            } else {
                Some(self.decode(&prior)?)
            };
            Ok::<_, Diagnostics>((prior_model, self.decode(&config)?, self.decode(&planned)?))
        })();
        let mut extra_replace = Vec::new();
        match decoded {
            Ok((prior_model, config_model, planned_model)) => {
                let mut req = PlanRequest {
                    prior: prior_model,
                    config: config_model,
                    planned: planned_model,
                    requires_replace: Vec::new(),
                    diags: Diagnostics::new(),
                    private: private.clone(),
                };
                self.resource.modify_plan(client, &mut req).await;
                diags.extend(req.diags);
                extra_replace = req.requires_replace;
                private = req.private;
                match self.encode(&req.planned) {
                    Ok(v) => planned = v,
                    Err(d) => diags.extend(d),
                }
            }
            // An unknown the model cannot hold yet (say, an element of a list that comes from a
            // variable during validation walks): the hook runs once the values are known.
            Err(_) if !config.is_wholly_known() || !planned.is_wholly_known() => {}
            Err(d) => diags.extend(d),
        }

        let mut requires_replace = plan::requires_replace(&self.schema.block, &prior, &planned);
        if !prior.is_null() {
            requires_replace.extend(extra_replace);
        }
        requires_replace.sort();
        requires_replace.dedup();
        PlanOutcome {
            planned,
            requires_replace,
            private,
            diags,
        }
    }

    async fn apply(
        &self,
        client: &R::Client,
        prior: Value,
        planned: Value,
        mut private: Private,
    ) -> StateOutcome {
        if planned.is_null() {
            // Destroy.
            let result = match self.decode(&prior) {
                Ok(state) => self.resource.delete(client, state, &private).await,
                Err(d) => Err(d),
            };
            return match result {
                Ok(()) => StateOutcome::default(),
                // Still there: keep it in state so nothing is orphaned.
                Err(diags) => StateOutcome {
                    state: prior,
                    private,
                    diags,
                },
            };
        }
        let decoded = match self.decode(&planned) {
            Ok(mut m) => match self.resource.complete(client, &mut m).await {
                Ok(()) => self.resource.spec(&m).map(|spec| (m, spec)),
                Err(d) => Err(d),
            },
            Err(d) => Err(d),
        };
        let (planned_model, spec) = match decoded {
            Ok(both) => both,
            Err(diags) => {
                return StateOutcome {
                    state: prior,
                    private,
                    diags,
                }
            }
        };
        let result = if prior.is_null() {
            self.resource
                .create(client, spec, planned_model, &mut private)
                .await
        } else {
            match self.decode(&prior) {
                Ok(prior_model) => {
                    self.resource
                        .update(client, prior_model, spec, planned_model, &mut private)
                        .await
                }
                Err(diags) => Err(Failure::clean(diags)),
            }
        };
        match result {
            Ok(model) => self.encode_outcome(Ok(Some(model)), private),
            Err(failure) if failure.state.is_none() && !prior.is_null() => {
                // An update that failed without saying what exists: keep the prior state.
                StateOutcome {
                    state: prior,
                    private,
                    diags: failure.diags,
                }
            }
            Err(failure) => self.encode_failure(failure, private),
        }
    }

    async fn read(&self, client: &R::Client, state: Value, mut private: Private) -> StateOutcome {
        let result = match self.decode(&state) {
            Ok(model) => self.resource.read(client, model, &mut private).await,
            Err(d) => Err(d),
        };
        match result {
            // A failed read keeps the state it was given: never drop a resource on an error.
            Err(diags) => StateOutcome {
                state,
                private,
                diags,
            },
            ok => self.encode_outcome(ok, private),
        }
    }

    async fn import(&self, client: &R::Client, id: &str) -> StateOutcome {
        let result = self.resource.import(client, id).await.map(Some);
        let mut out = self.encode_outcome(result, Private::default());
        // What the import could not learn and the schema defaults, as a plan would default it.
        if !out.state.is_null() {
            plan::fill_defaults(&self.schema.block, &mut out.state);
        }
        out
    }

    fn upgrade(
        &self,
        version: i64,
        mut json: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        if version > self.schema.version {
            return Err(Diagnostic::error(
                "State is newer than this provider",
                format!(
                    "The stored {} state has schema version {version}, but this provider version only knows up to {}. Use a newer provider version.",
                    self.type_name(),
                    self.schema.version
                ),
            )
            .into());
        }
        for from in version..self.schema.version {
            json = self.resource.upgrade_state(from, json)?;
        }
        Ok(json)
    }
}

#[cfg(test)]
mod private_tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Seen {
        gone: bool,
    }

    impl PrivateState for Seen {
        const KEY: &'static str = "seen";
    }

    #[test]
    fn typed_private_state_round_trips_and_the_default_is_not_stored() {
        let mut private = Private::default();
        assert_eq!(private.load::<Seen>(), Seen::default());
        private.store(&Seen { gone: true });
        let bytes = private.to_bytes();
        assert_eq!(bytes, br#"{"seen":{"gone":true}}"#);
        assert_eq!(
            Private::from_bytes(&bytes).load::<Seen>(),
            Seen { gone: true }
        );
        private.store(&Seen::default());
        assert!(
            private.to_bytes().is_empty(),
            "nothing to say is stored as nothing"
        );
        // Another shape under the key (an older provider's): read as the default.
        private.set("seen", &[1, 2, 3]);
        assert_eq!(private.load::<Seen>(), Seen::default());
    }
}
