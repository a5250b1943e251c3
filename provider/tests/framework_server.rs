//! The framework server end to end on msgpack values, with an in-memory resource: the plan order,
//! requires-replace, create/update/delete routing, partial failures, import, validation paths,
//! state upgrades and private state round trips.

use async_trait::async_trait;
use mesh_provider::framework::data_source::DynDataSource;
use mesh_provider::framework::resource::DynResource;
use mesh_provider::framework::server::{Provider, RawValue, Server};
use mesh_provider::framework::value::{msgpack, Attr, Type, Value};
use mesh_provider::framework::{
    Attribute, AttributePath, Block, DataSource, Diagnostic, Diagnostics, Failure, NestedBlock,
    Nesting, Private, Registered, RegisteredData, Resource, Schema, Validator,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// The "cloud": name -> items.
#[derive(Default)]
struct Store {
    things: Mutex<BTreeMap<String, BTreeSet<String>>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Model {
    id: Attr<String>,
    name: Attr<String>,
    items: Attr<BTreeSet<String>>,
    revision: Attr<String>,
}

struct Thing;

#[async_trait]
impl Resource for Thing {
    type Model = Model;
    type Client = Store;
    type Id = String;
    type Spec = (String, BTreeSet<String>);
    type Found = BTreeSet<String>;

    fn type_name(&self) -> &'static str {
        "test_thing"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("A thing.")
                .attribute(
                    Attribute::string("id")
                        .computed()
                        .use_state_for_unknown()
                        .describe("Id."),
                )
                .attribute(
                    Attribute::string("name")
                        .required()
                        .requires_replace()
                        .describe("Name.")
                        .validate(Validator::length_between(1, 5)),
                )
                .attribute(
                    Attribute::new("items", Type::set(Type::String))
                        .required()
                        .describe("Items."),
                )
                .attribute(
                    Attribute::string("revision")
                        .computed()
                        .describe("Revision."),
                ),
        )
        .version(1)
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        if config
            .items
            .known()
            .is_some_and(|i| i.contains("forbidden"))
        {
            diags.error_at(AttributePath::attr("items"), "Forbidden item", "no");
        }
    }

    fn spec(&self, m: &Model) -> Result<(String, BTreeSet<String>), Diagnostics> {
        match (&m.name, &m.items) {
            (Attr::Known(n), Attr::Known(i)) => Ok((n.clone(), i.clone())),
            _ => Err(Diagnostic::provider_bug("unknown at apply").into()),
        }
    }

    fn id(&self, state: &Model) -> Result<String, Diagnostics> {
        Ok(state.name.known().cloned().unwrap_or_default())
    }

    async fn parse_id(&self, _: &Store, raw: &str) -> Result<String, Diagnostics> {
        if raw.contains('/') {
            return Err(mesh_provider::framework::invalid_import_id(
                format!("{raw:?} has a '/'."),
                "names",
            ));
        }
        Ok(raw.to_string())
    }

    async fn find(
        &self,
        store: &Store,
        id: &String,
    ) -> Result<Option<BTreeSet<String>>, Diagnostics> {
        Ok(store.things.lock().unwrap().get(id).cloned())
    }

    fn flatten(&self, id: &String, items: BTreeSet<String>, prior: &Model) -> Model {
        Model {
            id: Attr::Known(format!("thing/{id}")),
            name: Attr::Known(id.clone()),
            items: Attr::Known(items),
            revision: prior.revision.clone(),
        }
    }

    async fn create(
        &self,
        store: &Store,
        (name, items): (String, BTreeSet<String>),
        planned: Model,
        private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        store.things.lock().unwrap().insert(name.clone(), items);
        private.0.insert("created".into(), true.into());
        Ok(Model {
            id: Attr::Known(format!("thing/{name}")),
            revision: Attr::Known("1".into()),
            ..planned
        })
    }

    async fn update(
        &self,
        store: &Store,
        prior: Model,
        _spec: (String, BTreeSet<String>),
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        if planned.items.known().is_some_and(|i| i.contains("explode")) {
            // Fails part-way: says what exists (the prior object, untouched).
            return Err(Failure::partial(
                prior,
                Diagnostic::error("boom", "half done"),
            ));
        }
        let name = planned.name.known().cloned().unwrap_or_default();
        store
            .things
            .lock()
            .unwrap()
            .insert(name, planned.items.known().cloned().unwrap_or_default());
        let rev = prior
            .revision
            .known()
            .and_then(|r| r.parse::<u32>().ok())
            .unwrap_or(0)
            + 1;
        Ok(Model {
            revision: Attr::Known(rev.to_string()),
            ..planned
        })
    }

    async fn delete(
        &self,
        store: &Store,
        state: Model,
        _private: &Private,
    ) -> Result<(), Diagnostics> {
        store
            .things
            .lock()
            .unwrap()
            .remove(state.name.known().map(String::as_str).unwrap_or_default());
        Ok(())
    }

    fn upgrade_state(
        &self,
        version: i64,
        mut state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        assert_eq!(version, 0);
        // v0 called `name` `title`.
        if let Some(obj) = state.as_object_mut() {
            if let Some(title) = obj.remove("title") {
                obj.insert("name".into(), title);
            }
        }
        Ok(state)
    }
}

#[derive(Deserialize)]
struct NoConfig {}

struct TestProvider;

#[async_trait]
impl Provider for TestProvider {
    type Config = NoConfig;
    type Client = Store;
    fn schema(&self) -> Schema {
        Schema::new(Block::new("test"))
    }
    async fn configure(&self, _config: NoConfig, _diags: &mut Diagnostics) -> Option<Store> {
        // One thing made outside Terraform, for import.
        let store = Store::default();
        store
            .things
            .lock()
            .unwrap()
            .insert("existing".into(), BTreeSet::from(["x".to_string()]));
        Some(store)
    }
    fn resources(&self) -> Vec<Box<dyn DynResource<Store>>> {
        vec![Box::new(Registered::new(Thing))]
    }
    fn data_sources(&self) -> Vec<Box<dyn DynDataSource<Store>>> {
        vec![Box::new(RegisteredData::new(ThingSource))]
    }
}

/// `data "test_thing"`: reads a thing by name.
struct ThingSource;

#[derive(Debug, Default, Serialize, Deserialize)]
struct SourceModel {
    name: Attr<String>,
    items: Attr<BTreeSet<String>>,
}

#[async_trait]
impl DataSource for ThingSource {
    type Model = SourceModel;
    type Client = Store;
    fn type_name(&self) -> &'static str {
        "test_thing"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("Reads a thing.")
                .attribute(
                    Attribute::string("name")
                        .required()
                        .describe("Name.")
                        .validate(Validator::length_between(1, 8)),
                )
                .attribute(
                    Attribute::new("items", Type::set(Type::String))
                        .computed()
                        .describe("Items."),
                ),
        )
    }
    async fn read(&self, store: &Store, config: SourceModel) -> Result<SourceModel, Diagnostics> {
        let name = config.name.known().cloned().unwrap_or_default();
        match store.things.lock().unwrap().get(&name) {
            Some(items) => Ok(SourceModel {
                items: Attr::Known(items.clone()),
                ..config
            }),
            None => Err(
                Diagnostic::error("No such thing", format!("No thing {name:?}."))
                    .at(AttributePath::attr("name"))
                    .into(),
            ),
        }
    }
}

/// A provider whose block breaks Terraform's NestingSingle rule (min 0, max 1).
struct BrokenProvider;

#[async_trait]
impl Provider for BrokenProvider {
    type Config = NoConfig;
    type Client = Store;
    fn schema(&self) -> Schema {
        Schema::new(Block::new("broken").block(
            NestedBlock::new("endpoints", Nesting::Single, Block::new("Endpoints.")).items(0, 1),
        ))
    }
    async fn configure(&self, _config: NoConfig, _diags: &mut Diagnostics) -> Option<Store> {
        // One thing made outside Terraform, for import.
        let store = Store::default();
        store
            .things
            .lock()
            .unwrap()
            .insert("existing".into(), BTreeSet::from(["x".to_string()]));
        Some(store)
    }
    fn resources(&self) -> Vec<Box<dyn DynResource<Store>>> {
        vec![Box::new(Registered::new(Thing))]
    }
}

#[test]
fn schemas_that_break_terraforms_rules_are_never_served() {
    let good = Server::new(TestProvider).provider_schemas();
    assert!(good.diags.is_empty(), "{}", good.diags);
    assert!(good.resources.contains_key("test_thing"));

    let broken = Server::new(BrokenProvider).provider_schemas();
    assert!(
        broken.resources.is_empty(),
        "a broken provider served schemas"
    );
    let text = broken.diags.to_string();
    assert!(
        text.contains(
            "invalid schema for provider: endpoints: MinItems and MaxItems must match in NestingSingle mode"
        ),
        "{text}"
    );
}

/// `test_thing`'s schema over a model that lacks `revision` and has a field the schema lacks.
struct Mismatched;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct MismatchedModel {
    id: Attr<String>,
    name: Attr<String>,
    items: Attr<BTreeSet<String>>,
    #[serde(rename = "colour")]
    color: Attr<String>,
}

#[async_trait]
impl Resource for Mismatched {
    type Model = MismatchedModel;
    type Client = Store;
    type Id = String;
    type Spec = ();
    type Found = ();
    fn spec(&self, _: &MismatchedModel) -> Result<(), Diagnostics> {
        Ok(())
    }
    fn id(&self, _: &MismatchedModel) -> Result<String, Diagnostics> {
        Ok(String::new())
    }
    async fn parse_id(&self, _: &Store, raw: &str) -> Result<String, Diagnostics> {
        Ok(raw.to_string())
    }
    async fn find(&self, _: &Store, _: &String) -> Result<Option<()>, Diagnostics> {
        Ok(None)
    }
    fn flatten(&self, _: &String, _: (), prior: &MismatchedModel) -> MismatchedModel {
        prior.clone()
    }
    fn type_name(&self) -> &'static str {
        "test_mismatched"
    }
    fn schema(&self) -> Schema {
        Thing.schema()
    }
    async fn create(
        &self,
        _: &Store,
        _: (),
        planned: MismatchedModel,
        _: &mut Private,
    ) -> Result<MismatchedModel, Failure<MismatchedModel>> {
        Ok(planned)
    }
    async fn read(
        &self,
        _: &Store,
        state: MismatchedModel,
        _: &mut Private,
    ) -> Result<Option<MismatchedModel>, Diagnostics> {
        Ok(Some(state))
    }
    async fn update(
        &self,
        _: &Store,
        _: MismatchedModel,
        _: (),
        planned: MismatchedModel,
        _: &mut Private,
    ) -> Result<MismatchedModel, Failure<MismatchedModel>> {
        Ok(planned)
    }
    async fn delete(&self, _: &Store, _: MismatchedModel, _: &Private) -> Result<(), Diagnostics> {
        Ok(())
    }
    async fn import(&self, _: &Store, _: &str) -> Result<MismatchedModel, Diagnostics> {
        Err(Diagnostic::error("no", "no").into())
    }
}

#[test]
fn a_model_that_disagrees_with_its_schema_is_named() {
    assert_eq!(
        Registered::new(Thing).model_problems(),
        Vec::<String>::new()
    );
    assert_eq!(
        Registered::new(Mismatched).model_problems(),
        [
            "`revision` is in the schema but the model has no field for it",
            "the model field `colour` is not in the schema",
        ]
    );
}

fn ty() -> Type {
    Thing.schema().ty()
}

fn obj(id: Value, name: &str, items: &[&str], revision: Value) -> Value {
    Value::Object(BTreeMap::from([
        ("id".to_string(), id),
        ("name".to_string(), Value::String(name.into())),
        (
            "items".to_string(),
            Value::set(items.iter().map(|i| Value::String(i.to_string())).collect()),
        ),
        ("revision".to_string(), revision),
    ]))
}

fn raw(v: &Value) -> RawValue {
    RawValue::msgpack(msgpack::encode(v, &ty()).expect("encode"))
}

fn decode(bytes: &[u8]) -> Value {
    msgpack::decode(bytes, &ty()).expect("decode")
}

async fn configured() -> Server<TestProvider> {
    let server = Server::new(TestProvider);
    let config = RawValue::msgpack(
        msgpack::encode(
            &Value::Object(BTreeMap::new()),
            &Schema::new(Block::new("")).ty(),
        )
        .unwrap(),
    );
    let diags = server.configure_provider(&config).await;
    assert!(diags.is_empty(), "{diags}");
    server
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

#[tokio::test]
async fn create_then_noop_then_update_in_place_then_replace_then_destroy() {
    let server = configured().await;
    let config = obj(Value::Null, "a", &["x"], Value::Null);

    // Create: computed values unknown in the plan.
    let plan = server
        .plan_resource_change(
            "test_thing",
            &RawValue::default(),
            &raw(&config),
            &raw(&config),
            &[],
        )
        .await;
    assert!(plan.diags.is_empty(), "{}", plan.diags);
    let planned = decode(&plan.planned_state);
    assert!(planned.get_attr("id").unwrap().is_unknown());
    assert!(planned.get_attr("revision").unwrap().is_unknown());
    let applied = server
        .apply_resource_change(
            "test_thing",
            &RawValue::default(),
            &raw(&planned),
            &plan.planned_private,
        )
        .await;
    assert!(applied.diags.is_empty(), "{}", applied.diags);
    let state = decode(&applied.state);
    assert_eq!(state, obj(s("thing/a"), "a", &["x"], s("1")));
    assert_eq!(
        Private::from_bytes(&applied.private).0.get("created"),
        Some(&serde_json::json!(true))
    );

    // Same config: Terraform proposes prior computed values; the plan equals the state.
    let plan = server
        .plan_resource_change(
            "test_thing",
            &raw(&state),
            &raw(&state),
            &raw(&config),
            &applied.private,
        )
        .await;
    assert_eq!(decode(&plan.planned_state), state);
    assert!(plan.requires_replace.is_empty());
    assert_eq!(
        plan.planned_private, applied.private,
        "private state round-trips through plan"
    );

    // Items change: in place; id kept, revision unknown.
    let config2 = obj(Value::Null, "a", &["x", "y"], Value::Null);
    let proposed = obj(s("thing/a"), "a", &["x", "y"], s("1"));
    let plan = server
        .plan_resource_change(
            "test_thing",
            &raw(&state),
            &raw(&proposed),
            &raw(&config2),
            &[],
        )
        .await;
    let planned = decode(&plan.planned_state);
    assert!(plan.requires_replace.is_empty());
    assert_eq!(planned.get_attr("id"), Some(&s("thing/a")));
    assert!(planned.get_attr("revision").unwrap().is_unknown());
    let applied = server
        .apply_resource_change("test_thing", &raw(&state), &raw(&planned), &[])
        .await;
    let state = decode(&applied.state);
    assert_eq!(state, obj(s("thing/a"), "a", &["x", "y"], s("2")));

    // Name change: requires replace, reported at the attribute.
    let config3 = obj(Value::Null, "b", &["x"], Value::Null);
    let proposed = obj(s("thing/a"), "b", &["x"], s("2"));
    let plan = server
        .plan_resource_change(
            "test_thing",
            &raw(&state),
            &raw(&proposed),
            &raw(&config3),
            &[],
        )
        .await;
    assert_eq!(plan.requires_replace, vec![AttributePath::attr("name")]);

    // Destroy plan and apply.
    let plan = server
        .plan_resource_change(
            "test_thing",
            &raw(&state),
            &RawValue::msgpack(vec![0xc0]),
            &RawValue::msgpack(vec![0xc0]),
            &[],
        )
        .await;
    assert_eq!(plan.planned_state, vec![0xc0]);
    let applied = server
        .apply_resource_change(
            "test_thing",
            &raw(&state),
            &RawValue::msgpack(vec![0xc0]),
            &[],
        )
        .await;
    assert!(applied.diags.is_empty());
    assert_eq!(applied.state, vec![0xc0]);
}

#[tokio::test]
async fn read_of_a_vanished_object_is_null_and_drift_is_reported() {
    let server = configured().await;
    let state = obj(s("thing/gone"), "gone", &["x"], s("1"));
    let read = server.read_resource("test_thing", &raw(&state), &[]).await;
    assert!(read.diags.is_empty());
    assert_eq!(read.state, vec![0xc0], "a vanished object reads as null");
}

#[tokio::test]
async fn failed_update_keeps_what_the_resource_says_exists() {
    let server = configured().await;
    let config = obj(Value::Null, "a", &["x"], Value::Null);
    let plan = server
        .plan_resource_change(
            "test_thing",
            &RawValue::default(),
            &raw(&config),
            &raw(&config),
            &[],
        )
        .await;
    let applied = server
        .apply_resource_change(
            "test_thing",
            &RawValue::default(),
            &raw(&decode(&plan.planned_state)),
            &[],
        )
        .await;
    let state = decode(&applied.state);
    let planned = obj(s("thing/a"), "a", &["x", "explode"], Value::unknown());
    let failed = server
        .apply_resource_change("test_thing", &raw(&state), &raw(&planned), &[])
        .await;
    assert!(failed.diags.has_errors());
    assert_eq!(
        decode(&failed.state),
        state,
        "the state is what exists, not the plan"
    );
}

#[tokio::test]
async fn validation_points_at_attributes() {
    let server = configured().await;
    let bad = obj(Value::Null, "toolongname", &["forbidden"], Value::Null);
    let diags = server.validate_resource_config("test_thing", &raw(&bad));
    assert!(diags.has_errors());
    let paths: Vec<String> = diags
        .iter()
        .filter_map(|d| d.path.as_ref().map(ToString::to_string))
        .collect();
    assert!(paths.contains(&"name".to_string()), "{paths:?}");

    // Unknown values are not validated.
    let unknown = obj(Value::Null, "ok", &["x"], Value::Null);
    let mut unknown = unknown;
    if let Value::Object(m) = &mut unknown {
        m.insert("name".into(), Value::unknown());
    }
    assert!(server
        .validate_resource_config("test_thing", &raw(&unknown))
        .is_empty());

    // The resource's own check runs once attribute validators pass.
    let forbidden = obj(Value::Null, "ok", &["forbidden"], Value::Null);
    let diags = server.validate_resource_config("test_thing", &raw(&forbidden));
    assert_eq!(
        diags.iter().next().and_then(|d| d.path.clone()),
        Some(AttributePath::attr("items"))
    );

    let diags = server.validate_resource_config("test_nope", &raw(&forbidden));
    assert!(diags.has_errors());
}

#[tokio::test]
async fn import_finds_the_object_and_flattens_it() {
    let server = configured().await;
    let (imported, diags) = server.import_resource_state("test_thing", "existing").await;
    assert!(diags.is_empty(), "{diags}");
    assert_eq!(imported.len(), 1);
    let state = decode(&imported[0].state);
    assert_eq!(state.get_attr("name"), Some(&s("existing")));
    assert_eq!(state.get_attr("id"), Some(&s("thing/existing")));
    assert_eq!(
        state.get_attr("items"),
        Some(&Value::set(vec![s("x")])),
        "import reads what exists through find and flatten"
    );
}

#[tokio::test]
async fn import_refuses_what_find_does_not_find_and_ids_that_do_not_parse() {
    let server = configured().await;
    let (imported, diags) = server.import_resource_state("test_thing", "nothing").await;
    assert!(imported.is_empty() || decode(&imported[0].state).is_null());
    assert!(diags.has_errors());
    assert!(
        diags.to_string().contains("No test_thing nothing exists"),
        "{diags}"
    );

    let (_, diags) = server.import_resource_state("test_thing", "a/b").await;
    assert!(diags.to_string().contains("Invalid import id"), "{diags}");
    assert!(diags.to_string().contains("has a '/'"), "{diags}");
}

#[tokio::test]
async fn state_upgrades_step_by_step_and_drops_removed_attributes() {
    let server = configured().await;
    let v0 = br#"{"id":"thing/a","title":"a","items":["x"],"revision":"1","legacy":true}"#;
    let out = server.upgrade_resource_state("test_thing", 0, v0);
    assert!(out.diags.is_empty(), "{}", out.diags);
    assert_eq!(decode(&out.state), obj(s("thing/a"), "a", &["x"], s("1")));

    // Current version passes through.
    let v1 = br#"{"id":"thing/a","name":"a","items":["x"],"revision":"1"}"#;
    let out = server.upgrade_resource_state("test_thing", 1, v1);
    assert_eq!(decode(&out.state), obj(s("thing/a"), "a", &["x"], s("1")));

    // A newer state than we know is refused.
    let out = server.upgrade_resource_state("test_thing", 7, v1);
    assert!(out.diags.has_errors());
}

#[tokio::test]
async fn data_sources_are_served_validated_and_read() {
    let server = configured().await;
    let schemas = server.provider_schemas();
    assert!(schemas.diags.is_empty(), "{}", schemas.diags);
    assert!(schemas.data_sources.contains_key("test_thing"));
    let ty = schemas.data_sources["test_thing"].ty();
    let config = |name: &str| {
        let v = Value::Object(BTreeMap::from([
            ("name".to_string(), s(name)),
            ("items".to_string(), Value::Null),
        ]));
        RawValue::msgpack(msgpack::encode(&v, &ty).unwrap())
    };

    let out = server
        .read_data_source("test_thing", &config("existing"))
        .await;
    assert!(out.diags.is_empty(), "{}", out.diags);
    let state = msgpack::decode(&out.state, &ty).unwrap();
    assert_eq!(state.get_attr("items"), Some(&Value::set(vec![s("x")])));

    // Missing: an error at the argument that named it.
    let out = server
        .read_data_source("test_thing", &config("nothing"))
        .await;
    assert!(out.diags.has_errors());
    assert!(out
        .diags
        .iter()
        .any(|d| d.path == Some(AttributePath::attr("name"))));

    // Validation runs before the read, and on its own, at the attribute.
    let diags = server.validate_data_resource_config("test_thing", &config("far-too-long"));
    assert!(
        diags
            .iter()
            .any(|d| d.path == Some(AttributePath::attr("name"))),
        "{diags}"
    );
    let out = server
        .read_data_source("test_thing", &config("far-too-long"))
        .await;
    assert!(out.diags.has_errors());

    let diags = server.validate_data_resource_config("test_nope", &config("a"));
    assert!(diags.to_string().contains("no data source"), "{diags}");
}
