//! The blueprint (`mesh.yaml`): the platform team's policy for the whole mesh, stated once.
//!
//! Parsing is two-phase. serde (through `serde_path_to_error`) turns the YAML into typed structs
//! that refuse unknown fields, wrong types and malformed scalars (account ids, compatibility
//! names); then [`Blueprint::parse`] checks what types cannot: references between fields
//! (required tag keys exist in the ontology, domains are values of the `domain` tag, ...), the
//! naming rule compiles and is also valid for Terraform's RE2 engine, names fit the bucket naming
//! convention. Every problem names the field path (`domains[1].account_id`) and the line: a key
//! given twice at its second occurrence, a second YAML document where it starts. Messages speak
//! YAML (mapping, sequence, whole number), never the Rust types behind them.
//!
//! ```yaml
//! mesh: meshcraft
//! provider_version: "~> 0.1"
//! governance:
//!   account_id: "111111111111"
//! ontology:
//!   tags:
//!     domain: [commerce, finance]
//!     sensitivity: [public, internal, confidential]
//!   required: [sensitivity]
//!   sensitivity_tag: sensitivity
//! regions:
//!   allowed: [us-east-1]
//! products:
//!   name_pattern: "^[a-z][a-z0-9_]{2,62}$"
//! contract:
//!   min_compatibility: BACKWARD
//!   storage_format: parquet
//!   data_format: AVRO
//! sla:
//!   max_freshness_minutes: 1440
//! domains:
//!   - name: commerce
//!     account_id: "444455556666"
//!     owner: { team: commerce-data, email: commerce-data@example.com }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use mesh_provider::rules;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// The key of the LF-tag that `mesh_domain` and `mesh_data_product` always set to the domain.
pub const DOMAIN_TAG: &str = "domain";

/// The longest S3 bucket name.
const MAX_BUCKET_LEN: usize = 63;

/// The largest counted repetition RE2 accepts (`{n,m}`).
const RE2_MAX_REPEAT: u32 = 1000;

/// The largest `sla.freshness_minutes` the provider's `mesh_data_product` accepts (one year).
pub const PROVIDER_MAX_FRESHNESS_MINUTES: u32 = rules::MAX_FRESHNESS_MINUTES as u32;

// ---------------------------------------------------------------------------------------------
// The blueprint
// ---------------------------------------------------------------------------------------------

/// A parsed and validated blueprint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Blueprint {
    /// The mesh's name: lowercase letters, digits and hyphens; prefixes bucket and policy names.
    pub mesh: String,
    /// The `meshcraft/mesh` provider version constraint the modules require, e.g. `~> 0.1`.
    pub provider_version: String,
    /// The governance account.
    pub governance: Governance,
    /// The LF-tag ontology.
    pub ontology: Ontology,
    /// The AWS regions data may live in.
    pub regions: Regions,
    /// Rules for data products.
    pub products: ProductPolicy,
    /// The contract policy.
    pub contract: ContractPolicy,
    /// Service level bounds.
    pub sla: SlaPolicy,
    /// The domains, in blueprint order.
    pub domains: Vec<Domain>,
}

/// The governance account's part of the blueprint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Governance {
    /// The account holding the ontology, the lake settings and the guardrail.
    pub account_id: AccountId,
}

/// The LF-tag ontology: the tag keys, their values, and which keys every product carries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ontology {
    /// Each tag key and its allowed values, in blueprint order.
    pub tags: OrderedMap<Vec<String>>,
    /// Tag keys every data product must carry.
    #[serde(default)]
    pub required: Vec<String>,
    /// The tag key whose values are the sensitivity levels (least to most sensitive).
    #[serde(default = "default_sensitivity_tag")]
    pub sensitivity_tag: String,
}

fn default_sensitivity_tag() -> String {
    "sensitivity".into()
}

impl Ontology {
    /// The allowed values of a tag key.
    pub fn values(&self, key: &str) -> Option<&[String]> {
        self.tags.get(key).map(Vec::as_slice)
    }

    /// The sensitivity levels, least to most sensitive.
    pub fn sensitivity_levels(&self) -> &[String] {
        self.values(&self.sensitivity_tag).unwrap_or(&[])
    }
}

/// Where data may live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regions {
    /// The AWS regions products and domains may be in, e.g. `eu-west-1`.
    pub allowed: Vec<String>,
    /// The ontology key that records a region (e.g. `region`); the modules set it from their
    /// `region` variable through `tag_values`.
    #[serde(default)]
    pub tag: Option<String>,
    /// For each allowed region, its value of `tag` (e.g. `eu-west-1: eu`).
    #[serde(default)]
    pub tag_values: OrderedMap<String>,
}

/// Rules for data products.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductPolicy {
    /// The naming rule: a regular expression product names must match, anchored with `^` and
    /// `$`, valid for both Rust's `regex` and Terraform's RE2 `regex()`.
    pub name_pattern: String,
    /// A product name that follows the rule, used in the generated examples (default `orders`).
    #[serde(default = "default_example_name")]
    pub example_name: String,
}

fn default_example_name() -> String {
    "orders".into()
}

/// The contract policy: what every product's contract must guarantee and how its data is kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractPolicy {
    /// The weakest schema compatibility mode a product may use.
    #[serde(deserialize_with = "compatibility_by_name")]
    pub min_compatibility: Compatibility,
    /// The storage format of every product's table (`mesh_data_product.format`).
    pub storage_format: StorageFormat,
    /// The data format of every product's schema contract in the Glue Schema Registry
    /// (`mesh_data_product.schema_contract.data_format`). Required: it cannot change once a
    /// product's schema exists, so the platform team states it rather than inherit a default.
    pub data_format: DataFormat,
}

/// Service level bounds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    /// The largest `freshness_minutes` a product may promise.
    pub max_freshness_minutes: u32,
}

/// A domain: its name, account and owner.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    /// Domain name: lowercase letters, digits and underscores, starting with a letter.
    pub name: String,
    /// The domain's AWS account.
    pub account_id: AccountId,
    /// The owning team.
    pub owner: Owner,
}

/// An owning team.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    /// Team name.
    pub team: String,
    /// Contact address.
    pub email: String,
}

impl Blueprint {
    /// Reads and validates the blueprint at `path`.
    pub fn load(path: &Path) -> Result<Blueprint, BlueprintError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| BlueprintError {
            file: file.clone(),
            problems: vec![Problem {
                field: String::new(),
                line: None,
                message: format!("cannot read the blueprint: {e}"),
            }],
        })?;
        Blueprint::parse(&text, &file)
    }

    /// Parses and validates blueprint text; `file` names it in messages.
    pub fn parse(text: &str, file: &str) -> Result<Blueprint, BlueprintError> {
        // A second document first: its problems would otherwise hide behind the first's.
        if well_formed_documents(text) > 1 {
            return Err(BlueprintError {
                file: file.to_string(),
                problems: vec![several_documents(text, None)],
            });
        }
        let blueprint: Blueprint = serde_path_to_error::deserialize(
            serde_yaml::Deserializer::from_str(text),
        )
        .map_err(|e| BlueprintError {
            file: file.to_string(),
            problems: vec![problem_from_serde(e, text)],
        })?;
        let mut problems = Vec::new();
        blueprint.validate(&mut |path: FieldPath, message: String| {
            problems.push(Problem {
                field: path.to_string(),
                line: locate(text, &path.0),
                message,
            })
        });
        if problems.is_empty() {
            Ok(blueprint)
        } else {
            Err(BlueprintError {
                file: file.to_string(),
                problems,
            })
        }
    }

    /// The domain named `name`.
    pub fn domain(&self, name: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.name == name)
    }

    /// The bucket of a domain by the naming convention `<mesh>-<domain>-<account id>`
    /// (underscores become hyphens: bucket names have none).
    pub fn bucket_name(&self, domain: &Domain) -> String {
        format!("{}-{}-{}", self.mesh, domain.name, domain.account_id.0).replace('_', "-")
    }

    /// The region tag's value for each allowed region, when the blueprint names a region tag.
    pub fn region_tag(&self) -> Option<(&str, &OrderedMap<String>)> {
        self.regions
            .tag
            .as_deref()
            .map(|tag| (tag, &self.regions.tag_values))
    }

    fn validate(&self, report: &mut dyn FnMut(FieldPath, String)) {
        let root = FieldPath::default();
        if !is_mesh_name(&self.mesh) {
            report(
                root.key("mesh"),
                format!(
                    "{:?} is not a mesh name: use 2 to 32 lowercase letters, digits and hyphens, \
                     starting with a letter and not ending with a hyphen (it prefixes bucket names)",
                    self.mesh
                ),
            );
        }
        if let Err(e) = check_version_constraint(&self.provider_version) {
            report(root.key("provider_version"), e);
        }
        self.validate_ontology(root.key("ontology"), report);
        self.validate_regions(root.key("regions"), report);
        let pattern = root.key("products").key("name_pattern");
        match check_name_pattern(&self.products.name_pattern) {
            Err(e) => report(pattern, e),
            Ok(rule) => {
                if !rule.is_match(&self.products.example_name) {
                    report(
                        root.key("products").key("example_name"),
                        format!(
                            "the example product name `{}` does not match name_pattern; set \
                             products.example_name to a name that does",
                            self.products.example_name
                        ),
                    );
                }
            }
        }
        let max_freshness = self.sla.max_freshness_minutes;
        if max_freshness == 0 {
            report(
                root.key("sla").key("max_freshness_minutes"),
                "must be at least 1 (minutes)".into(),
            );
        } else if max_freshness > PROVIDER_MAX_FRESHNESS_MINUTES {
            report(
                root.key("sla").key("max_freshness_minutes"),
                format!(
                    "{max_freshness} minutes is more than the provider allows: \
                     mesh_data_product's sla.freshness_minutes is at most \
                     {PROVIDER_MAX_FRESHNESS_MINUTES} (one year)"
                ),
            );
        }
        self.validate_domains(root.key("domains"), report);
    }

    fn validate_ontology(&self, at: FieldPath, report: &mut dyn FnMut(FieldPath, String)) {
        let tags = at.key("tags");
        if self.ontology.tags.is_empty() {
            report(
                tags.clone(),
                "the ontology needs at least one tag key".into(),
            );
        }
        for (key, values) in self.ontology.tags.iter() {
            let at_key = tags.key(key);
            if let Some(e) = check_tag_key(key) {
                report(at_key.clone(), e);
            }
            if values.is_empty() {
                report(
                    at_key.clone(),
                    format!("tag key `{key}` needs at least one value"),
                );
            }
            if values.len() > 1000 {
                report(
                    at_key.clone(),
                    format!("tag key `{key}` has {} values; at most 1000", values.len()),
                );
            }
            let mut seen = BTreeSet::new();
            for (i, value) in values.iter().enumerate() {
                if let Some(e) = check_tag_value(value) {
                    report(at_key.index(i), e);
                }
                if !seen.insert(value) {
                    report(at_key.index(i), format!("value `{value}` is listed twice"));
                }
            }
        }
        match self.ontology.values(DOMAIN_TAG) {
            None => report(
                tags,
                format!(
                    "the ontology needs the `{DOMAIN_TAG}` tag key: every domain's database and \
                     products are tagged `{DOMAIN_TAG} = <domain name>`"
                ),
            ),
            Some(values) => {
                for (i, domain) in self.domains.iter().enumerate() {
                    // An invalid name is reported by the domain checks already.
                    if is_domain_name(&domain.name) && !values.contains(&domain.name) {
                        report(
                            FieldPath::default().key("domains").index(i).key("name"),
                            format!(
                                "domain `{}` is not a value of the ontology's `{DOMAIN_TAG}` tag \
                                 (ontology.tags.{DOMAIN_TAG}: {})",
                                domain.name,
                                values.join(", ")
                            ),
                        );
                    }
                }
            }
        }
        let mut seen = BTreeSet::new();
        for (i, key) in self.ontology.required.iter().enumerate() {
            let at_req = at.key("required").index(i);
            if self.ontology.values(key).is_none() {
                report(
                    at_req.clone(),
                    format!(
                        "`{key}` is not a key of ontology.tags ({})",
                        self.ontology.tags.keys().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            if !seen.insert(key) {
                report(at_req, format!("`{key}` is listed twice"));
            }
        }
        let sensitivity = &self.ontology.sensitivity_tag;
        if self.ontology.values(sensitivity).is_none() {
            report(
                at.key("sensitivity_tag"),
                format!(
                    "`{sensitivity}` is not a key of ontology.tags: the sensitivity levels are \
                     the values of that tag key"
                ),
            );
        } else if sensitivity == DOMAIN_TAG {
            report(
                at.key("sensitivity_tag"),
                format!("`{DOMAIN_TAG}` names the domain; it cannot hold sensitivity levels"),
            );
        }
    }

    fn validate_regions(&self, at: FieldPath, report: &mut dyn FnMut(FieldPath, String)) {
        let allowed = at.key("allowed");
        if self.regions.allowed.is_empty() {
            report(allowed.clone(), "list at least one AWS region".into());
        }
        let mut seen = BTreeSet::new();
        for (i, region) in self.regions.allowed.iter().enumerate() {
            if !is_aws_region(region) {
                report(
                    allowed.index(i),
                    format!("{region:?} is not an AWS region name (e.g. eu-west-1)"),
                );
            }
            if !seen.insert(region) {
                report(allowed.index(i), format!("`{region}` is listed twice"));
            }
        }
        let tag_values = at.key("tag_values");
        let Some(tag) = &self.regions.tag else {
            if !self.regions.tag_values.is_empty() {
                report(
                    tag_values,
                    "tag_values needs `tag`: the ontology key the values belong to".into(),
                );
            }
            return;
        };
        let Some(values) = self.ontology.values(tag) else {
            report(
                at.key("tag"),
                format!("`{tag}` is not a key of ontology.tags"),
            );
            return;
        };
        if tag == DOMAIN_TAG || *tag == self.ontology.sensitivity_tag {
            report(
                at.key("tag"),
                format!("`{tag}` already has a meaning (domain or sensitivity); use another key"),
            );
        }
        for region in &self.regions.allowed {
            if self.regions.tag_values.get(region).is_none() {
                report(
                    tag_values.clone(),
                    format!("allowed region `{region}` has no value of tag `{tag}`"),
                );
            }
        }
        for (region, value) in self.regions.tag_values.iter() {
            if !self.regions.allowed.contains(region) {
                report(
                    tag_values.key(region),
                    format!("`{region}` is not in regions.allowed"),
                );
            } else if !values.contains(value) {
                report(
                    tag_values.key(region),
                    format!(
                        "`{value}` is not a value of the ontology's `{tag}` tag ({})",
                        values.join(", ")
                    ),
                );
            }
        }
    }

    fn validate_domains(&self, at: FieldPath, report: &mut dyn FnMut(FieldPath, String)) {
        if self.domains.is_empty() {
            report(at.clone(), "list at least one domain".into());
        }
        let mut first_index = BTreeMap::new();
        for (i, domain) in self.domains.iter().enumerate() {
            let at_domain = at.index(i);
            let name = at_domain.key("name");
            if !is_domain_name(&domain.name) {
                report(
                    name.clone(),
                    format!(
                        "{:?} is not a domain name: use 1 to 64 lowercase letters, digits and \
                         underscores, starting with a letter",
                        domain.name
                    ),
                );
            } else {
                let bucket = self.bucket_name(domain);
                if bucket.len() > MAX_BUCKET_LEN {
                    report(
                        name.clone(),
                        format!(
                            "the domain's bucket `{bucket}` (<mesh>-<domain>-<account id>) is \
                             {} characters; S3 allows {MAX_BUCKET_LEN}: shorten the mesh or domain name",
                            bucket.len()
                        ),
                    );
                }
            }
            if let Some(first) = first_index.insert(&domain.name, i) {
                first_index.insert(&domain.name, first);
                report(
                    name,
                    format!(
                        "domain `{}` is defined twice (first as domains[{first}])",
                        domain.name
                    ),
                );
            }
            if domain.owner.team.trim().is_empty() {
                report(
                    at_domain.key("owner").key("team"),
                    "the owning team must not be empty".into(),
                );
            }
            if !is_email(&domain.owner.email) {
                report(
                    at_domain.key("owner").key("email"),
                    format!("{:?} is not an email address", domain.owner.email),
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Typed scalars
// ---------------------------------------------------------------------------------------------

/// A 12-digit AWS account id. YAML must quote it: unquoted, a leading zero would be lost.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AccountId(pub String);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AccountIdVisitor;
        impl Visitor<'_> for AccountIdVisitor {
            type Value = AccountId;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a 12-digit AWS account id as a quoted string, e.g. \"111111111111\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AccountId, E> {
                if rules::is_account_id(v) {
                    Ok(AccountId(v.to_string()))
                } else {
                    Err(E::custom(format!(
                        "{v:?} is not an AWS account id: exactly 12 digits"
                    )))
                }
            }
        }
        deserializer.deserialize_str(AccountIdVisitor)
    }
}

/// A schema compatibility mode of `mesh_data_product` (the Glue Schema Registry's), ordered by
/// what it guarantees: the provider's own type ([`Compatibility::at_least`]).
pub use mesh_provider::contract::schema::Compatibility;

/// The storage format of a product's table (`mesh_data_product.format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFormat {
    /// Apache Parquet.
    Parquet,
    /// Apache ORC.
    Orc,
    /// JSON lines.
    Json,
    /// CSV.
    Csv,
    /// Apache Avro.
    Avro,
}

impl StorageFormat {
    /// Every format, in the order the provider documents them.
    pub const ALL: [StorageFormat; 5] = [
        StorageFormat::Parquet,
        StorageFormat::Orc,
        StorageFormat::Json,
        StorageFormat::Csv,
        StorageFormat::Avro,
    ];

    /// The provider's name, e.g. `parquet`.
    pub const fn as_str(self) -> &'static str {
        match self {
            StorageFormat::Parquet => "parquet",
            StorageFormat::Orc => "orc",
            StorageFormat::Json => "json",
            StorageFormat::Csv => "csv",
            StorageFormat::Avro => "avro",
        }
    }
}

/// The data format of a product's schema contract in the Glue Schema Registry
/// (`mesh_data_product.schema_contract.data_format`, the data-product module's `schema_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// Apache Avro schemas.
    Avro,
    /// JSON Schema.
    Json,
}

impl DataFormat {
    /// Every format the provider accepts.
    pub const ALL: [DataFormat; 2] = [DataFormat::Avro, DataFormat::Json];

    /// The provider's (and Glue's) name, e.g. `AVRO`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DataFormat::Avro => "AVRO",
            DataFormat::Json => "JSON",
        }
    }
}

/// Deserializes a closed set of names (compatibility modes, formats) from a YAML string, with
/// messages that list the names instead of serde's enum vocabulary.
macro_rules! deserialize_by_name {
    (fn $name:ident, $ty:ty) => {
        fn $name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
            struct ByName($ty);
            deserialize_by_name!(@impl ByName, $ty, |v| ByName(v));
            ByName::deserialize(deserializer).map(|b| b.0)
        }
    };
    ($ty:ty) => {
        deserialize_by_name!(@impl $ty, $ty, |v| v);
    };
    (@impl $target:ty, $ty:ty, $wrap:expr) => {
        impl<'de> Deserialize<'de> for $target {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                const NAMES: &[&str] = &{
                    let mut names = [""; <$ty>::ALL.len()];
                    let mut i = 0;
                    while i < names.len() {
                        names[i] = <$ty>::ALL[i].as_str();
                        i += 1;
                    }
                    names
                };
                struct NameVisitor;
                impl Visitor<'_> for NameVisitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str(&quoted_list(NAMES))
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        <$ty>::ALL
                            .into_iter()
                            .find(|m| m.as_str() == v)
                            .ok_or_else(|| E::unknown_variant(v, NAMES))
                    }
                }
                deserializer.deserialize_str(NameVisitor).map($wrap)
            }
        }
    };
}

deserialize_by_name!(fn compatibility_by_name, Compatibility);
deserialize_by_name!(StorageFormat);
deserialize_by_name!(DataFormat);

/// The names as serde lists expected variants: `` `a` or `b` ``, `` one of `a`, `b`, `c` ``.
fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        many => format!("one of {}", many.join(", ")),
    }
}

/// A YAML mapping with string keys that keeps its order and refuses duplicate keys (which a
/// plain map would silently collapse to the last one).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedMap<V>, A::Error> {
                let mut entries: Vec<(String, V)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(de::Error::custom(format!("duplicate key `{key}`")));
                    }
                    let value = map.next_value()?;
                    entries.push((key, value));
                }
                Ok(OrderedMap(entries))
            }
        }
        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Everything wrong with a blueprint.
#[derive(Debug, Clone)]
pub struct BlueprintError {
    /// The blueprint file, as given.
    pub file: String,
    /// The problems, in the order found.
    pub problems: Vec<Problem>,
}

/// One problem: a field, its line, and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The field path, e.g. `domains[1].account_id`; empty for the file as a whole.
    pub field: String,
    /// The 1-based line of the field, when known.
    pub line: Option<usize>,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl fmt::Display for BlueprintError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&self.file)?;
            if let Some(line) = p.line {
                write!(f, ":{line}")?;
            }
            f.write_str(": ")?;
            if !p.field.is_empty() {
                write!(f, "{}: ", p.field)?;
            }
            f.write_str(&p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for BlueprintError {}

fn problem_from_serde(e: serde_path_to_error::Error<serde_yaml::Error>, text: &str) -> Problem {
    let segments: Vec<Seg> = e
        .path()
        .iter()
        .filter_map(|s| match s {
            serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
            serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            serde_path_to_error::Segment::Unknown => None,
        })
        .collect();
    let path = e.path().to_string();
    let inner = e.into_inner();
    let mut line = inner.location().map(|l| l.line());
    // serde_yaml's text repeats its own path and the location; keep only the message.
    let mut message = inner.to_string();
    if let Some(loc) = inner.location() {
        let suffix = format!(" at line {} column {}", loc.line(), loc.column());
        if let Some(stripped) = message.strip_suffix(&suffix) {
            message = stripped.to_string();
        }
    }
    if let Some((prefix, rest)) = message.split_once(": ") {
        // serde_yaml's path is ours or its parent (for an unknown field, ours names the field).
        if !prefix.contains(' ') && (path.starts_with(prefix) || prefix == ".") {
            message = rest.to_string();
        }
    }
    message = plain_words(&message);
    // The path without serde_path_to_error's `?` for a key that is not a name.
    let mut field = FieldPath(segments.clone()).to_string();
    if message.contains("more than one document") {
        return several_documents(text, line);
    }
    // serde_yaml places an error raised inside a mapping at the mapping's start; a repeated key
    // is better shown where it is repeated.
    let repeated = ["duplicate key `", "duplicate field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|m| m.strip_suffix('`'))
        .map(str::to_string);
    if let Some(key) = repeated {
        line = locate_repeat(text, &segments, &key).or(line);
        let mut at = segments;
        at.push(Seg::Key(key.clone()));
        field = FieldPath(at).to_string();
        message = format!("`{key}` is given twice; keep one");
    }
    Problem {
        field,
        line,
        message,
    }
}

/// serde's messages in YAML words: no Rust type names.
fn plain_words(message: &str) -> String {
    let mut message = message.to_string();
    for (name, noun, fields) in STRUCTS.iter().map(|s| s()) {
        let rust = format!("expected struct {name}");
        if message.contains(&rust) {
            let words = format!(
                "expected a mapping with {noun} fields: {}",
                fields.join(", ")
            );
            message = message.replace(&rust, &words);
        }
    }
    for (rust, yaml) in [
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected field identifier", "expected a field name"),
        (
            "invalid type: unit value",
            "invalid type: an empty value (null)",
        ),
    ] {
        message = message.replace(rust, yaml);
    }
    // A struct this table does not know yet still reads as YAML.
    if let Some(at) = message.find("expected struct ") {
        message.truncate(at);
        message.push_str("expected a mapping");
    }
    message
}

/// Each blueprint struct's Rust name, how messages call it, and its YAML fields (read from the
/// derived `Deserialize`, so they cannot drift from the structs).
type StructWords = fn() -> (&'static str, &'static str, &'static [&'static str]);

const STRUCTS: &[StructWords] = &[
    || introspect::<Blueprint>("the blueprint's"),
    || introspect::<Governance>("the governance"),
    || introspect::<Ontology>("the ontology"),
    || introspect::<Regions>("the regions"),
    || introspect::<ProductPolicy>("the products"),
    || introspect::<ContractPolicy>("the contract"),
    || introspect::<SlaPolicy>("the sla"),
    || introspect::<Domain>("a domain's"),
    || introspect::<Owner>("an owner's"),
];

/// The name and fields a derived `Deserialize` passes to `deserialize_struct`.
fn introspect<T: for<'de> Deserialize<'de>>(
    noun: &'static str,
) -> (&'static str, &'static str, &'static [&'static str]) {
    /// A deserializer that only records what `deserialize_struct` is asked for.
    struct Recorder<'a>(&'a mut (&'static str, &'static [&'static str]));

    #[derive(Debug)]
    struct Stop;
    impl fmt::Display for Stop {
        fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("introspection")
        }
    }
    impl std::error::Error for Stop {}
    impl de::Error for Stop {
        fn custom<M: fmt::Display>(_: M) -> Self {
            Stop
        }
    }

    impl<'de> Deserializer<'de> for Recorder<'_> {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            *self.0 = (name, fields);
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    let mut seen: (&'static str, &'static [&'static str]) = ("", &[]);
    // The error is the point: the recorder stops the derived code once it has named its fields.
    let _ = T::deserialize(Recorder(&mut seen));
    (seen.0, noun, seen.1)
}

/// How many YAML documents the text holds, counting up to 2; 1 when the first is not well-formed
/// YAML (the typed parse reports that).
fn well_formed_documents(text: &str) -> usize {
    let mut documents = serde_yaml::Deserializer::from_str(text);
    let Some(first) = documents.next() else {
        return 0;
    };
    if de::IgnoredAny::deserialize(first).is_err() {
        // Not YAML: the typed parse says where.
        return 1;
    }
    // Anything after a good first document is a second one, even a malformed one (content after
    // a `...` end marker without a `---`).
    1 + usize::from(documents.next().is_some())
}

/// The problem of a file holding several YAML documents, at the line the second one starts.
fn several_documents(text: &str, line: Option<usize>) -> Problem {
    Problem {
        field: String::new(),
        line: second_document_line(text).or(line).or(Some(1)),
        message: "a blueprint is a single YAML document, and a second one starts here: remove \
                  this `---` (or `...`) line and what follows, or merge the documents"
            .into(),
    }
}

/// The 1-based line where a second YAML document starts: a `---` after the first document's
/// content (or its own `---`), or content after a `...` end marker.
fn second_document_line(text: &str) -> Option<usize> {
    let mut in_document = false;
    let mut ended = false;
    for (i, line) in text.lines().enumerate() {
        let marker = |m: &str| {
            line == m || line.starts_with(&format!("{m} ")) || line.starts_with(&format!("{m}\t"))
        };
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || line.starts_with('%') {
            continue;
        }
        if marker("---") {
            if in_document || ended {
                return Some(i + 1);
            }
            in_document = true;
        } else if marker("...") {
            ended = true;
            in_document = false;
        } else if ended {
            return Some(i + 1);
        } else {
            in_document = true;
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Field paths and their lines
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// A field path, displayed like `serde_path_to_error` does: `domains[1].account_id`.
#[derive(Debug, Clone, Default, PartialEq)]
struct FieldPath(Vec<Seg>);

impl FieldPath {
    fn key(&self, k: &str) -> FieldPath {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_string()));
        p
    }

    fn index(&self, i: usize) -> FieldPath {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// One line of YAML as the locator sees it: where its content starts, whether it is a list
/// item (`- `), and the mapping key it holds, if any.
struct YamlLine<'a> {
    indent: usize,
    dash: Option<usize>,
    key: Option<(usize, &'a str)>,
}

fn scan_line(line: &str) -> Option<YamlLine<'_>> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let mut rest = &line[indent..];
    if rest.is_empty() || rest.starts_with('#') || rest.starts_with("---") {
        return None;
    }
    let mut col = indent;
    let mut dash = None;
    if rest == "-" || rest.starts_with("- ") {
        dash = Some(indent);
        let after = rest[1..].trim_start_matches(' ');
        col += rest.len() - after.len();
        rest = after;
    }
    let key = mapping_key(rest).map(|k| (col, k));
    Some(YamlLine { indent, dash, key })
}

/// The key of `key: value` (plain or quoted), if the text starts with one.
fn mapping_key(text: &str) -> Option<&str> {
    if let Some(q) = text.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let end = text[1..].find(q)? + 1;
        let after = text[end + 1..].trim_start_matches(' ');
        return after.starts_with(':').then(|| &text[1..end]);
    }
    if text.starts_with(['[', '{', '&', '*', '!', '|', '>']) {
        return None;
    }
    let colon = text
        .match_indices(':')
        .find(|(i, _)| text[i + 1..].is_empty() || text[i + 1..].starts_with([' ', '\t']))?
        .0;
    let key = text[..colon].trim_end();
    (!key.is_empty() && !key.contains(" #")).then_some(key)
}

/// The 1-based line of a field in block-style YAML: a cheap walk over indentation, good enough
/// to point at a field of a blueprint. Falls back to the deepest part of the path found (a
/// flow-style `[a, b]` list points at its key).
fn locate(text: &str, path: &[Seg]) -> Option<usize> {
    let lines: Vec<Option<YamlLine>> = text.lines().map(scan_line).collect();
    walk(&lines, path).best
}

/// The 1-based line where `key` is given a second time in the mapping at `parent` (the key
/// serde refuses as a duplicate); else the parent's line.
fn locate_repeat(text: &str, parent: &[Seg], key: &str) -> Option<usize> {
    let lines: Vec<Option<YamlLine>> = text.lines().map(scan_line).collect();
    let found = walk(&lines, parent);
    if !found.complete {
        return found.best;
    }
    // The mapping's keys sit at the column of its first key.
    let first = (found.start..found.end).find_map(|i| lines[i].as_ref());
    let Some((col, _)) = first.and_then(|l| l.key) else {
        return found.best;
    };
    (found.start..found.end)
        .filter(|&i| {
            lines[i]
                .as_ref()
                .and_then(|l| l.key)
                .is_some_and(|(c, k)| c == col && k == key)
        })
        .nth(1)
        .map(|i| i + 1)
        .or(found.best)
}

/// Where a walk down a field path ended.
struct Walk {
    /// The 1-based line of the deepest part of the path found.
    best: Option<usize>,
    /// Whether every part of the path was found.
    complete: bool,
    /// The lines (0-based, end exclusive) holding the found node's children.
    start: usize,
    end: usize,
}

fn walk(lines: &[Option<YamlLine>], path: &[Seg]) -> Walk {
    let mut start = 0;
    let mut end = lines.len();
    let mut best = None;
    for seg in path {
        let first = (start..end).find_map(|i| lines[i].as_ref().map(|l| (i, l)));
        let incomplete = Walk {
            best,
            complete: false,
            start,
            end,
        };
        let Some((_, first_line)) = first else {
            return incomplete;
        };
        let found = match seg {
            Seg::Key(k) => {
                let Some((col, _)) = first_line.key else {
                    return incomplete;
                };
                (start..end)
                    .rfind(|&i| {
                        lines[i]
                            .as_ref()
                            .and_then(|l| l.key)
                            .is_some_and(|(c, key)| c == col && key == k)
                    })
                    .map(|i| (i, col))
            }
            Seg::Index(n) => {
                let Some(col) = first_line.dash else {
                    return incomplete;
                };
                (start..end)
                    .filter(|&i| lines[i].as_ref().is_some_and(|l| l.dash == Some(col)))
                    .nth(*n)
                    .map(|i| (i, col))
            }
        };
        let Some((line, col)) = found else {
            return incomplete;
        };
        best = Some(line + 1);
        // The node's children: the following lines indented deeper than the key (or dash).
        let block_end = (line + 1..end)
            .find(|&i| lines[i].as_ref().is_some_and(|l| l.indent <= col))
            .unwrap_or(end);
        match seg {
            // A list item's own line holds its first key.
            Seg::Index(_) => start = line,
            Seg::Key(_) => start = line + 1,
        }
        end = block_end;
    }
    Walk {
        best,
        complete: true,
        start,
        end,
    }
}

// ---------------------------------------------------------------------------------------------
// Field rules
// ---------------------------------------------------------------------------------------------

fn is_mesh_name(s: &str) -> bool {
    (2..=32).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_domain_name(s: &str) -> bool {
    rules::check_domain_name(s).is_none()
}

fn is_aws_region(s: &str) -> bool {
    rules::check_region(s).is_none()
}

fn is_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s.contains(char::is_whitespace)
            && !domain.contains('@')
    })
}

/// Lake Formation's rule for tag keys (the provider's).
fn check_tag_key(key: &str) -> Option<String> {
    rules::check_tag_key(key)
}

/// Lake Formation's rule for tag values (the provider's).
fn check_tag_value(value: &str) -> Option<String> {
    rules::check_tag_value(value)
}

/// A Terraform version constraint: comma-separated `[op] version` with op one of
/// `= != > >= < <= ~>` and version 1 to 3 numbers with an optional pre-release.
fn check_version_constraint(s: &str) -> Result<(), String> {
    let bad = || {
        format!(
            "{s:?} is not a Terraform version constraint: e.g. \"~> 0.1\" or \">= 0.1.0, < 1.0.0\""
        )
    };
    if s.trim().is_empty() {
        return Err(bad());
    }
    for part in s.split(',') {
        let part = part.trim();
        let version = ["~>", ">=", "<=", "!=", ">", "<", "="]
            .iter()
            .find_map(|op| part.strip_prefix(op))
            .unwrap_or(part)
            .trim();
        let (core, pre) = match version.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (version, None),
        };
        let numbers: Vec<&str> = core.split('.').collect();
        let numbers_ok = (1..=3).contains(&numbers.len())
            && numbers
                .iter()
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        let pre_ok = pre.is_none_or(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        });
        if !numbers_ok || !pre_ok {
            return Err(bad());
        }
    }
    Ok(())
}

/// The naming rule must compile, be valid RE2 as Terraform's `regex()` (Go 1.16) reads it, and
/// be anchored at both ends: `regex()` searches, so an unanchored rule would accept any name
/// containing a match.
fn check_name_pattern(pattern: &str) -> Result<regex::Regex, String> {
    let rule = regex::Regex::new(pattern)
        .map_err(|e| format!("{pattern:?} is not a valid regular expression: {e}"))?;
    let ast = regex_syntax::ast::parse::Parser::new()
        .parse(pattern)
        .map_err(|e| format!("{pattern:?} is not a valid regular expression: {e}"))?;
    re2_compatible(&ast)
        .map_err(|why| format!("{pattern:?} cannot be used by Terraform's regex() (RE2): {why}"))?;
    if !anchored(&ast) {
        return Err(format!(
            "{pattern:?} must be anchored with ^ at the start and $ at the end: Terraform's \
             regex() finds a match anywhere in the name otherwise"
        ));
    }
    Ok(rule)
}

/// Rust-only regex syntax that Go's RE2 (as in Terraform 1.0) refuses or reads differently.
fn re2_compatible(ast: &regex_syntax::ast::Ast) -> Result<(), String> {
    use regex_syntax::ast::{
        AssertionKind, Ast, Flag, FlagsItemKind, GroupKind, HexLiteralKind, LiteralKind,
        RepetitionKind, RepetitionRange,
    };
    let check_flags = |items: &[regex_syntax::ast::FlagsItem]| -> Result<(), String> {
        for item in items {
            if let FlagsItemKind::Flag(flag) = &item.kind {
                match flag {
                    Flag::CaseInsensitive
                    | Flag::MultiLine
                    | Flag::DotMatchesNewLine
                    | Flag::SwapGreed => {}
                    Flag::Unicode | Flag::CRLF | Flag::IgnoreWhitespace => {
                        return Err("only the flags i, m, s and U exist in RE2".into())
                    }
                }
            }
        }
        Ok(())
    };
    let check_literal = |lit: &regex_syntax::ast::Literal| -> Result<(), String> {
        match &lit.kind {
            LiteralKind::HexFixed(HexLiteralKind::X) | LiteralKind::HexBrace(HexLiteralKind::X) => {
                Ok(())
            }
            LiteralKind::HexFixed(_) | LiteralKind::HexBrace(_) => {
                Err("\\u and \\U escapes do not exist in RE2: use \\x{...}".into())
            }
            _ => Ok(()),
        }
    };
    match ast {
        Ast::Empty(_) | Ast::Dot(_) | Ast::ClassPerl(_) => Ok(()),
        Ast::Literal(lit) => check_literal(lit),
        Ast::Flags(set) => check_flags(&set.flags.items),
        Ast::Assertion(a) => match a.kind {
            AssertionKind::StartLine
            | AssertionKind::EndLine
            | AssertionKind::StartText
            | AssertionKind::EndText
            | AssertionKind::WordBoundary
            | AssertionKind::NotWordBoundary => Ok(()),
            _ => Err("only the word boundaries \\b and \\B exist in RE2".into()),
        },
        Ast::ClassUnicode(c) => unicode_class_ok(c),
        Ast::ClassBracketed(c) => class_set_ok(&c.kind),
        Ast::Repetition(r) => {
            if let RepetitionKind::Range(range) = &r.op.kind {
                let (RepetitionRange::Exactly(n)
                | RepetitionRange::AtLeast(n)
                | RepetitionRange::Bounded(_, n)) = *range;
                if n > RE2_MAX_REPEAT {
                    return Err(format!(
                        "RE2 allows repetition counts up to {RE2_MAX_REPEAT}"
                    ));
                }
            }
            re2_compatible(&r.ast)
        }
        Ast::Group(g) => {
            match &g.kind {
                GroupKind::CaptureName {
                    starts_with_p: false,
                    ..
                } => return Err("named groups are written (?P<name>...) in RE2".into()),
                GroupKind::NonCapturing(flags) => check_flags(&flags.items)?,
                _ => {}
            }
            re2_compatible(&g.ast)
        }
        Ast::Alternation(a) => a.asts.iter().try_for_each(re2_compatible),
        Ast::Concat(c) => c.asts.iter().try_for_each(re2_compatible),
    }
}

fn unicode_class_ok(c: &regex_syntax::ast::ClassUnicode) -> Result<(), String> {
    use regex_syntax::ast::ClassUnicodeKind;
    // Go knows general categories and scripts but not Rust's binary properties or `\p{k=v}`;
    // the general categories are the portable subset.
    const CATEGORIES: &[&str] = &[
        "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N",
        "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm",
        "So", "Z", "Zl", "Zp", "Zs",
    ];
    let ok = match &c.kind {
        ClassUnicodeKind::OneLetter(l) => CATEGORIES.contains(&l.to_string().as_str()),
        ClassUnicodeKind::Named(name) => CATEGORIES.contains(&name.as_str()),
        ClassUnicodeKind::NamedValue { .. } => false,
    };
    if ok {
        Ok(())
    } else {
        Err(
            "use a Unicode general category (\\pL, \\p{Lu}, \\p{Nd}, ...); other Unicode \
             classes may not exist in RE2"
                .into(),
        )
    }
}

fn class_set_ok(set: &regex_syntax::ast::ClassSet) -> Result<(), String> {
    use regex_syntax::ast::{ClassSet, ClassSetItem};
    fn item_ok(item: &ClassSetItem) -> Result<(), String> {
        match item {
            ClassSetItem::Bracketed(_) => {
                Err("nested classes like [a[bc]] are read differently by RE2".into())
            }
            ClassSetItem::Unicode(c) => unicode_class_ok(c),
            ClassSetItem::Union(u) => u.items.iter().try_for_each(item_ok),
            ClassSetItem::Literal(l)
            | ClassSetItem::Range(regex_syntax::ast::ClassSetRange { start: l, .. })
                if matches!(
                    l.kind,
                    regex_syntax::ast::LiteralKind::HexFixed(
                        regex_syntax::ast::HexLiteralKind::UnicodeShort
                            | regex_syntax::ast::HexLiteralKind::UnicodeLong
                    )
                ) =>
            {
                Err("\\u and \\U escapes do not exist in RE2: use \\x{...}".into())
            }
            _ => Ok(()),
        }
    }
    match set {
        ClassSet::Item(item) => item_ok(item),
        ClassSet::BinaryOp(_) => {
            Err("class set operations (&&, --, ~~) do not exist in RE2".into())
        }
    }
}

/// Whether every way through the pattern starts with `^`/`\A` and ends with `$`/`\z`.
fn anchored(ast: &regex_syntax::ast::Ast) -> bool {
    use regex_syntax::ast::{AssertionKind, Ast};
    fn significant(asts: &[Ast]) -> Vec<&Ast> {
        asts.iter()
            .filter(|a| !matches!(a, Ast::Flags(_)))
            .collect()
    }
    fn starts(ast: &Ast) -> bool {
        match ast {
            Ast::Assertion(a) => {
                matches!(a.kind, AssertionKind::StartLine | AssertionKind::StartText)
            }
            Ast::Concat(c) => significant(&c.asts).first().is_some_and(|a| starts(a)),
            Ast::Alternation(a) => a.asts.iter().all(starts),
            Ast::Group(g) => starts(&g.ast),
            _ => false,
        }
    }
    fn ends(ast: &Ast) -> bool {
        match ast {
            Ast::Assertion(a) => matches!(a.kind, AssertionKind::EndLine | AssertionKind::EndText),
            Ast::Concat(c) => significant(&c.asts).last().is_some_and(|a| ends(a)),
            Ast::Alternation(a) => a.asts.iter().all(ends),
            Ast::Group(g) => ends(&g.ast),
            _ => false,
        }
    }
    starts(ast) && ends(ast)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example blueprint's shape, small enough to edit line by line in tests.
    const GOOD: &str = r#"mesh: meshcraft
provider_version: "~> 0.1"
governance:
  account_id: "111111111111"
ontology:
  tags:
    domain: [commerce, finance, logistics]
    sensitivity: [public, internal, confidential]
    region: [eu, us]
  required: [sensitivity]
  sensitivity_tag: sensitivity
regions:
  allowed: [us-east-1, eu-west-1]
  tag: region
  tag_values:
    us-east-1: us
    eu-west-1: eu
products:
  name_pattern: "^[a-z][a-z0-9_]{2,62}$"
contract:
  min_compatibility: BACKWARD
  storage_format: parquet
  data_format: AVRO
sla:
  max_freshness_minutes: 1440
domains:
  - name: commerce
    account_id: "444455556666"
    owner:
      team: commerce-data
      email: commerce-data@example.com
  - name: finance
    account_id: "777788889999"
    owner:
      team: finance-data
      email: finance-data@example.com
"#;

    fn parse(text: &str) -> Result<Blueprint, BlueprintError> {
        Blueprint::parse(text, "mesh.yaml")
    }

    /// Replaces one exact snippet of GOOD (which must occur).
    fn with(from: &str, to: &str) -> String {
        assert!(GOOD.contains(from), "test bug: {from:?} not in GOOD");
        GOOD.replacen(from, to, 1)
    }

    /// Parses text that must fail, and returns its first problem (a mistake can make later
    /// checks fail too).
    fn first_problem(text: &str) -> Problem {
        match parse(text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e.problems[0].clone(),
        }
    }

    /// Parses text that must fail, and returns its only problem.
    fn problem(text: &str) -> Problem {
        match parse(text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => {
                assert_eq!(e.problems.len(), 1, "expected one problem, got:\n{e}");
                e.problems[0].clone()
            }
        }
    }

    #[track_caller]
    fn assert_problem(p: &Problem, field: &str, line: usize, needle: &str) {
        assert_eq!(p.field, field, "{p}");
        assert_eq!(p.line, Some(line), "{p}");
        assert!(p.message.contains(needle), "{p:?} lacks {needle:?}");
    }

    #[test]
    fn good_blueprint_parses() {
        let b = parse(GOOD).unwrap();
        assert_eq!(b.mesh, "meshcraft");
        assert_eq!(b.governance.account_id.0, "111111111111");
        assert_eq!(
            b.ontology.keys_in_order(),
            ["domain", "sensitivity", "region"]
        );
        assert_eq!(
            b.ontology.sensitivity_levels(),
            ["public", "internal", "confidential"]
        );
        assert_eq!(b.contract.min_compatibility, Compatibility::Backward);
        assert_eq!(b.contract.storage_format, StorageFormat::Parquet);
        assert_eq!(b.contract.data_format, DataFormat::Avro);
        assert_eq!(b.domains[1].account_id.0, "777788889999");
        assert_eq!(
            b.bucket_name(&b.domains[0]),
            "meshcraft-commerce-444455556666"
        );
        assert_eq!(b.region_tag().unwrap().1.get("eu-west-1").unwrap(), "eu");
    }

    impl Ontology {
        fn keys_in_order(&self) -> Vec<&str> {
            self.tags.keys().collect()
        }
    }

    #[test]
    fn error_display_names_file_line_and_field() {
        let e = parse(&with("\"777788889999\"", "\"7777\"")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "mesh.yaml:33: domains[1].account_id: \"7777\" is not an AWS account id: exactly 12 digits"
        );
    }

    #[test]
    fn unknown_top_level_field() {
        let p = problem(&with("sla:\n", "colour: blue\nsla:\n"));
        assert_problem(&p, "colour", 24, "unknown field `colour`");
        assert!(p.message.contains("expected one of"), "{p}");
    }

    #[test]
    fn unknown_nested_field() {
        let p = problem(&with(
            "      team: finance-data\n",
            "      team: finance-data\n      phone: 1\n",
        ));
        assert_problem(&p, "domains[1].owner.phone", 36, "unknown field `phone`");
        // The message does not repeat serde_yaml's own path.
        assert!(p.message.starts_with("unknown field"), "{p}");
    }

    #[test]
    fn missing_required_field() {
        let p = problem(&with("  - name: finance\n", "  - nom: finance\n"));
        assert_eq!(p.field, "domains[1].nom", "{p}");
        let p = problem(&with("  storage_format: parquet\n", ""));
        assert_eq!(p.field, "contract", "{p}");
        assert!(p.message.contains("missing field `storage_format`"), "{p}");
        assert!(p.line.is_some(), "{p}");
        // No default data format: it cannot change once a schema exists, so it is stated.
        let p = problem(&with("  data_format: AVRO\n", ""));
        assert_eq!(p.field, "contract", "{p}");
        assert!(p.message.contains("missing field `data_format`"), "{p}");
        // The pre-release name is gone, and says which names exist.
        let p = problem(&with("  storage_format: parquet\n", "  format: parquet\n"));
        assert_problem(&p, "contract.format", 22, "unknown field `format`");
        assert!(p.message.contains("`storage_format`"), "{p}");
        let p = problem(&with("mesh: meshcraft\n", ""));
        assert!(p.message.contains("missing field `mesh`"), "{p}");
        assert_eq!(p.line, Some(1), "{p}");
    }

    #[test]
    fn wrong_types() {
        let p = problem(&with(
            "max_freshness_minutes: 1440",
            "max_freshness_minutes: daily",
        ));
        assert_problem(
            &p,
            "sla.max_freshness_minutes",
            25,
            "expected a whole number",
        );
        let p = problem(&with(
            "max_freshness_minutes: 1440",
            "max_freshness_minutes: -5",
        ));
        assert_problem(&p, "sla.max_freshness_minutes", 25, "-5");
        let p = problem(&with(
            "  required: [sensitivity]",
            "  required: sensitivity",
        ));
        assert_problem(&p, "ontology.required", 10, "expected a sequence");
        let p = problem(&with("    region: [eu, us]", "    region: [eu, {us: 1}]"));
        assert_problem(&p, "ontology.tags.region[1]", 9, "invalid type: map");
        let p = problem(&with("domains:\n", "domains: commerce\n"));
        assert_eq!(p.field, "domains", "{p}");
        assert!(p.message.contains("expected a sequence"), "{p}");
    }

    #[test]
    fn account_ids_are_read_as_written() {
        // serde_yaml hands a plain scalar over as text, so an unquoted id keeps leading zeros.
        let b = parse(&with(
            "account_id: \"444455556666\"",
            "account_id: 044455556666",
        ))
        .unwrap();
        assert_eq!(b.domains[0].account_id.0, "044455556666");
        let p = problem(&with("account_id: \"444455556666\"", "account_id: [4444]"));
        assert_problem(&p, "domains[0].account_id", 28, "a 12-digit AWS account id");
    }

    #[test]
    fn bad_account_ids() {
        let p = problem(&with(
            "account_id: \"111111111111\"",
            "account_id: \"11111111111x\"",
        ));
        assert_problem(&p, "governance.account_id", 4, "exactly 12 digits");
        let p = problem(&with("\"777788889999\"", "\"7777888899990\""));
        assert_problem(&p, "domains[1].account_id", 33, "exactly 12 digits");
    }

    #[test]
    fn bad_compatibility_name() {
        let p = problem(&with(
            "min_compatibility: BACKWARD",
            "min_compatibility: BACKWARDS",
        ));
        assert_problem(
            &p,
            "contract.min_compatibility",
            21,
            "unknown variant `BACKWARDS`",
        );
        assert!(p.message.contains("BACKWARD_ALL"), "{p}");
    }

    #[test]
    fn bad_formats() {
        let p = problem(&with("storage_format: parquet", "storage_format: excel"));
        assert_problem(
            &p,
            "contract.storage_format",
            22,
            "unknown variant `excel`, expected one of `parquet`, `orc`, `json`, `csv`, `avro`",
        );
        let p = problem(&with("data_format: AVRO", "data_format: avro"));
        assert_problem(
            &p,
            "contract.data_format",
            23,
            "unknown variant `avro`, expected `AVRO` or `JSON`",
        );
        let p = problem(&with("data_format: AVRO", "data_format: PROTOBUF"));
        assert_problem(&p, "contract.data_format", 23, "expected `AVRO` or `JSON`");
        let p = problem(&with("data_format: AVRO", "data_format: {avro: 1}"));
        assert_problem(
            &p,
            "contract.data_format",
            23,
            "invalid type: map, expected `AVRO` or `JSON`",
        );
        let p = problem(&with(
            "min_compatibility: BACKWARD",
            "min_compatibility: [FULL]",
        ));
        assert_problem(
            &p,
            "contract.min_compatibility",
            21,
            "invalid type: sequence, expected one of `NONE`, `DISABLED`",
        );
        let b = parse(&with("data_format: AVRO", "data_format: JSON")).unwrap();
        assert_eq!(b.contract.data_format, DataFormat::Json);
        assert_eq!(b.contract.data_format.as_str(), "JSON");
    }

    #[test]
    fn bad_naming_rules() {
        let p = problem(&with("\"^[a-z][a-z0-9_]{2,62}$\"", "\"^[a-z(\""));
        assert_problem(
            &p,
            "products.name_pattern",
            19,
            "not a valid regular expression",
        );
        let p = problem(&with("\"^[a-z][a-z0-9_]{2,62}$\"", "\"[a-z]+\""));
        assert_problem(&p, "products.name_pattern", 19, "must be anchored");
        let p = problem(&with("\"^[a-z][a-z0-9_]{2,62}$\"", "\"^[a-z&&[^q]]+$\""));
        assert_problem(&p, "products.name_pattern", 19, "RE2");
        let p = problem(&with("\"^[a-z][a-z0-9_]{2,62}$\"", "\"^(?<n>[a-z]+)$\""));
        assert_problem(&p, "products.name_pattern", 19, "(?P<name>");
    }

    #[test]
    fn example_name_must_follow_the_rule() {
        let p = problem(&with("\"^[a-z][a-z0-9_]{2,62}$\"", "\"^p_[a-z]+$\""));
        assert_problem(
            &p,
            "products.example_name",
            18,
            "does not match name_pattern",
        );
        let b = parse(&with(
            "  name_pattern: \"^[a-z][a-z0-9_]{2,62}$\"\n",
            "  name_pattern: \"^p_[a-z]+$\"\n  example_name: p_orders\n",
        ))
        .unwrap();
        assert_eq!(b.products.example_name, "p_orders");
    }

    #[test]
    fn re2_rules() {
        for ok in [
            "^[a-z][a-z0-9_]{2,62}$",
            r"\A(?i)[a-z]+\z",
            "^(?:orders|payments)_[0-9]+$",
            "^a$|^b$",
            r"^\pL[\p{Ll}\d_]*$",
            "^(?P<x>[a-z])+$",
            r"^[[:lower:]]\x{61}$",
        ] {
            assert!(check_name_pattern(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("^(?x) a $", "flags"),
            (r"^\u0061$", "\\x{...}"),
            (r"^\b{start}a$", "word boundaries"),
            ("^a{1001}$", "up to 1000"),
            (r"^\p{Greek}$", "general category"),
            ("^[a[bc]]$", "nested"),
            ("^a$|b", "anchored"),
            ("^a", "anchored"),
        ] {
            let e = check_name_pattern(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn duplicate_domain() {
        let p = problem(&with("  - name: finance\n", "  - name: commerce\n"));
        assert_problem(
            &p,
            "domains[1].name",
            32,
            "defined twice (first as domains[0])",
        );
    }

    #[test]
    fn duplicate_tag_key() {
        let p = problem(&with(
            "    region: [eu, us]\n",
            "    region: [eu, us]\n    domain: [x]\n",
        ));
        assert_problem(&p, "ontology.tags.domain", 10, "`domain` is given twice");
    }

    #[test]
    fn required_tag_key_not_in_ontology() {
        let p = problem(&with(
            "required: [sensitivity]",
            "required: [sensitivity, owner]",
        ));
        assert_problem(
            &p,
            "ontology.required[1]",
            10,
            "`owner` is not a key of ontology.tags",
        );
    }

    #[test]
    fn sensitivity_tag_not_in_ontology() {
        let p = problem(&with(
            "sensitivity_tag: sensitivity",
            "sensitivity_tag: secrecy",
        ));
        assert_problem(&p, "ontology.sensitivity_tag", 11, "`secrecy` is not a key");
    }

    #[test]
    fn domain_not_in_domain_tag() {
        let p = problem(&with(
            "domain: [commerce, finance, logistics]",
            "domain: [commerce]",
        ));
        assert_problem(
            &p,
            "domains[1].name",
            32,
            "not a value of the ontology's `domain` tag",
        );
    }

    #[test]
    fn ontology_without_domain_tag() {
        let text = with("    domain: [commerce, finance, logistics]\n", "");
        let p = problem(&text);
        assert_problem(&p, "ontology.tags", 6, "needs the `domain` tag key");
    }

    #[test]
    fn bad_tag_values() {
        let p = first_problem(&with("region: [eu, us]", "region: [eu, \"u|s\"]"));
        assert_problem(&p, "ontology.tags.region[1]", 9, "contains '|'");
        let p = problem(&with("region: [eu, us]", "region: [eu, us, us]"));
        assert_problem(&p, "ontology.tags.region[2]", 9, "listed twice");
        let p = first_problem(&with("region: [eu, us]", "region: []"));
        assert_problem(&p, "ontology.tags.region", 9, "at least one value");
    }

    #[test]
    fn bad_regions() {
        let p = first_problem(&with(
            "allowed: [us-east-1, eu-west-1]",
            "allowed: [us-east-1, europe]",
        ));
        assert_problem(&p, "regions.allowed[1]", 13, "not an AWS region");
        let p = problem(&with("    eu-west-1: eu\n", "    eu-west-1: asia\n"));
        assert_problem(
            &p,
            "regions.tag_values.eu-west-1",
            17,
            "`asia` is not a value",
        );
        let p = problem(&with("    eu-west-1: eu\n", ""));
        assert_problem(&p, "regions.tag_values", 15, "`eu-west-1` has no value");
        let p = problem(&with("  tag: region\n", "  tag: zone\n"));
        assert_problem(&p, "regions.tag", 14, "`zone` is not a key");
        let p = problem(&with(
            "  allowed: [us-east-1, eu-west-1]\n",
            "  allowed: []\n  allowed: [us-east-1]\n",
        ));
        assert_problem(&p, "regions.allowed", 14, "`allowed` is given twice");
    }

    #[test]
    fn bad_names_and_constraint() {
        let p = problem(&with("mesh: meshcraft", "mesh: Mesh_Craft"));
        assert_problem(&p, "mesh", 1, "not a mesh name");
        let p = problem(&with("\"~> 0.1\"", "\"about 0.1\""));
        assert_problem(
            &p,
            "provider_version",
            2,
            "not a Terraform version constraint",
        );
        let p = problem(&with("  - name: finance\n", "  - name: Finance\n"));
        assert_problem(&p, "domains[1].name", 32, "not a domain name");
    }

    #[test]
    fn several_problems_are_reported_together() {
        let text = with("mesh: meshcraft", "mesh: M")
            .replace("email: finance-data@example.com", "email: nobody");
        let e = parse(&text).unwrap_err();
        let fields: Vec<&str> = e.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["mesh", "domains[1].owner.email"]);
        assert_eq!(e.problems[1].line, Some(36));
    }

    #[test]
    fn bucket_convention_must_fit() {
        let long = "a".repeat(41);
        let text = with(
            "domain: [commerce, finance, logistics]",
            &format!("domain: [commerce, finance, {long}]"),
        )
        .replace("  - name: finance\n", &format!("  - name: {long}\n"));
        let p = problem(&text);
        assert_problem(&p, "domains[1].name", 32, "S3 allows 63");
    }

    #[test]
    fn zero_freshness_bound() {
        let p = problem(&with(
            "max_freshness_minutes: 1440",
            "max_freshness_minutes: 0",
        ));
        assert_problem(&p, "sla.max_freshness_minutes", 25, "at least 1");
    }

    #[test]
    fn freshness_bound_within_the_providers() {
        let b = parse(&with(
            "max_freshness_minutes: 1440",
            "max_freshness_minutes: 525600",
        ))
        .unwrap();
        assert_eq!(b.sla.max_freshness_minutes, PROVIDER_MAX_FRESHNESS_MINUTES);
        let p = problem(&with(
            "max_freshness_minutes: 1440",
            "max_freshness_minutes: 525601",
        ));
        assert_problem(
            &p,
            "sla.max_freshness_minutes",
            25,
            "525601 minutes is more than the provider allows",
        );
        assert!(p.message.contains("at most 525600 (one year)"), "{p}");
        // Beyond a u32 it is still a blueprint error, not a panic.
        let p = problem(&with(
            "max_freshness_minutes: 1440",
            "max_freshness_minutes: 99999999999",
        ));
        assert_problem(
            &p,
            "sla.max_freshness_minutes",
            25,
            "expected a whole number",
        );
    }

    #[test]
    fn repeated_fields_point_at_the_repeat() {
        // In a nested mapping: the second `max_freshness_minutes`, not `sla:` or the first.
        let p = problem(&with(
            "  max_freshness_minutes: 1440\n",
            "  max_freshness_minutes: 1440\n  max_freshness_minutes: 60\n",
        ));
        assert_problem(
            &p,
            "sla.max_freshness_minutes",
            26,
            "`max_freshness_minutes` is given twice; keep one",
        );
        assert!(!p.message.contains("duplicate field"), "{p}");
        // At the top level, even far apart.
        let p = problem(&format!("{GOOD}mesh: other\n"));
        assert_problem(&p, "mesh", 37, "`mesh` is given twice");
        // Three times: serde stops at the second.
        let p = problem(&with(
            "  min_compatibility: BACKWARD\n",
            "  min_compatibility: BACKWARD\n  min_compatibility: FULL\n  min_compatibility: NONE\n",
        ));
        assert_problem(&p, "contract.min_compatibility", 22, "given twice");
        // In a list item, and in a mapping one level down.
        let p = problem(&with(
            "    account_id: \"777788889999\"\n",
            "    account_id: \"777788889999\"\n    name: again\n",
        ));
        assert_problem(&p, "domains[1].name", 34, "`name` is given twice");
        let p = problem(&with(
            "      team: finance-data\n",
            "      team: finance-data\n      team: others\n",
        ));
        assert_problem(&p, "domains[1].owner.team", 36, "`team` is given twice");
        // A repeated whole section.
        let p = problem(&format!("{GOOD}sla:\n  max_freshness_minutes: 5\n"));
        assert_problem(&p, "sla", 37, "`sla` is given twice");
        // A repeated tag key (a map, not a struct) reads the same.
        let p = problem(&with(
            "    region: [eu, us]\n",
            "    region: [eu, us]\n    region: [eu]\n",
        ));
        assert_problem(&p, "ontology.tags.region", 10, "`region` is given twice");
    }

    /// Words from Rust or serde's data model that mean nothing in a YAML file.
    const RUST_WORDS: &[&str] = &[
        "struct",
        "identifier",
        "Blueprint",
        "Governance",
        "ContractPolicy",
        "SlaPolicy",
        "u32",
        "unit value",
        "YAML tag",
        "variant identifier",
    ];

    #[track_caller]
    fn assert_plain(p: &Problem) {
        for word in RUST_WORDS {
            assert!(!p.message.contains(word), "{p} names {word:?}");
        }
        assert!(!p.field.contains('?'), "{p}");
    }

    #[test]
    fn messages_use_yaml_words_not_rust_types() {
        let p = problem("- a\n- b\n");
        assert_plain(&p);
        assert_eq!(p.line, Some(1), "{p}");
        assert!(
            p.message.contains(
                "invalid type: sequence, expected a mapping with the blueprint's fields: mesh, \
                 provider_version, governance, ontology, regions, products, contract, sla, domains"
            ),
            "{p}"
        );
        let p = problem("just text\n");
        assert_plain(&p);
        assert!(
            p.message
                .contains("expected a mapping with the blueprint's fields"),
            "{p}"
        );
        let p = problem("~\n");
        assert_plain(&p);
        assert!(p.message.contains("an empty value (null)"), "{p}");
        // A key that is not a name.
        let p = problem(&with("mesh: meshcraft\n", "[a]: 1\nmesh: meshcraft\n"));
        assert_plain(&p);
        assert_eq!(p.line, Some(1), "{p}");
        assert!(p.message.contains("expected a field name"), "{p}");
        // Each section and list item of the wrong shape.
        let p = problem(&with(
            "governance:\n  account_id: \"111111111111\"\n",
            "governance: 5\n",
        ));
        assert_plain(&p);
        assert_problem(
            &p,
            "governance",
            3,
            "invalid type: integer `5`, expected a mapping with the governance fields: account_id",
        );
        let p = problem(&with("  - name: finance\n", "  - finance\n"));
        assert_plain(&p);
        assert!(
            p.message
                .contains("expected a mapping with a domain's fields: name, account_id, owner"),
            "{p}"
        );
        let p = problem(&with(
            "sla:\n  max_freshness_minutes: 1440\n",
            "sla: daily\n",
        ));
        assert_plain(&p);
        assert_problem(&p, "sla", 24, "expected a mapping with the sla fields");
        let p = problem(&with(
            "    owner:\n      team: finance-data\n      email: finance-data@example.com\n",
            "    owner: [finance-data]\n",
        ));
        assert_plain(&p);
        assert!(p.message.contains("an owner's fields: team, email"), "{p}");
        for (from, to) in [
            ("ontology:\n", "ontology: 1\nx:\n"),
            ("regions:\n", "regions: 1\nx:\n"),
            ("products:\n", "products: 1\nx:\n"),
            ("contract:\n", "contract: 1\nx:\n"),
        ] {
            let p = first_problem(&with(from, to));
            assert_plain(&p);
            assert!(p.message.contains("expected a mapping with the"), "{p}");
        }
    }

    #[test]
    fn every_struct_has_plain_words() {
        for words in STRUCTS {
            let (name, _, fields) = words();
            assert!(!name.is_empty() && !fields.is_empty(), "{name}");
            assert_eq!(
                plain_words(&format!(
                    "invalid type: string \"x\", expected struct {name}"
                )),
                format!(
                    "invalid type: string \"x\", expected a mapping with {} fields: {}",
                    words().1,
                    fields.join(", ")
                )
            );
        }
        assert_eq!(
            plain_words("invalid type: map, expected struct Unknown"),
            "invalid type: map, expected a mapping"
        );
    }

    #[test]
    fn several_documents_are_refused_with_a_line() {
        let p = problem(&format!("{GOOD}---\nmesh: second\n"));
        assert_eq!(p.line, Some(37), "{p}");
        assert!(p.message.contains("a single YAML document"), "{p}");
        assert!(p.field.is_empty(), "{p}");
        // A leading `---` opens the first document; a trailing one starts a second.
        let p = problem(&format!("---\n{GOOD}---\n"));
        assert_eq!(p.line, Some(38), "{p}");
        // After an end marker, content is a second document.
        let p = problem(&format!("{GOOD}...\nmesh: b\n"));
        assert_eq!(p.line, Some(38), "{p}");
        // Reported before the first document's own problems.
        let p = problem("# the blueprint\nmesh: a\n...\nmesh: b\n");
        assert_eq!(p.line, Some(4), "{p}");
        assert!(p.message.contains("a single YAML document"), "{p}");
        assert_eq!(second_document_line("---\n# c\n\n---\n"), Some(4));
        assert_eq!(second_document_line("--- # one\na: 1\n"), None);
        assert_eq!(second_document_line("a: 1\n...\n"), None);
        // Alone, a leading marker is fine.
        assert!(parse(&format!("---\n{GOOD}")).is_ok());
    }

    #[test]
    fn not_yaml_at_all() {
        let p = problem("mesh: [unclosed\n");
        assert!(p.line.is_some(), "{p}");
        let p = problem("");
        assert!(!p.message.is_empty(), "{p}");
    }

    #[test]
    fn load_reports_unreadable_file() {
        let e = Blueprint::load(Path::new("/nonexistent/mesh.yaml")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/nonexistent/mesh.yaml: cannot read"),
            "{e}"
        );
    }

    #[test]
    fn locator_walks_blocks_and_lists() {
        let at = |p: &[Seg]| locate(GOOD, p);
        let k = |s: &str| Seg::Key(s.into());
        assert_eq!(
            at(&[k("domains"), Seg::Index(1), k("owner"), k("email")]),
            Some(36)
        );
        assert_eq!(at(&[k("domains"), Seg::Index(0), k("name")]), Some(27));
        assert_eq!(
            at(&[k("regions"), k("tag_values"), k("eu-west-1")]),
            Some(17)
        );
        // A flow list points at its key.
        assert_eq!(at(&[k("regions"), k("allowed"), Seg::Index(1)]), Some(13));
        assert_eq!(at(&[k("nowhere")]), None);
    }
}
