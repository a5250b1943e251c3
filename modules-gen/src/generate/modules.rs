//! The four modules' interfaces (variables with their validations, outputs) and the blueprint
//! data their templates read. The interfaces are data, so variables.tf, outputs.tf and the
//! README tables come from one source; the policy lives in the validation conditions.

use serde::Serialize;
use serde_json::{json, Value};

use super::hcl;
use crate::blueprint::{Blueprint, Compatibility, DOMAIN_TAG};

/// The folders of the generated modules, in the order they are built on each other.
pub const MODULE_NAMES: [&str; 4] = ["governance", "domain", "data-product", "consumer-access"];

/// A module's interface and the data its templates render.
pub struct ModuleSpec {
    /// The folder name, e.g. `data-product`.
    pub name: &'static str,
    /// Input variables, in file order.
    pub variables: Vec<Variable>,
    /// Outputs, in file order.
    pub outputs: Vec<Output>,
    /// Extra data for the module's own templates (main.tf, the example, the README intro).
    pub context: Value,
}

/// A variable block.
#[derive(Serialize)]
pub struct Variable {
    /// Name.
    pub name: String,
    /// Terraform type expression.
    #[serde(rename = "type")]
    pub type_: String,
    /// What it is for.
    pub description: String,
    /// Default value as an HCL expression; none makes the variable required.
    pub default: Option<String>,
    /// Validation blocks.
    pub validations: Vec<Validation>,
}

/// A validation block.
#[derive(Serialize)]
pub struct Validation {
    /// The condition, one line of HCL.
    pub condition: String,
    /// The message: a sentence starting with a capital and ending with a period, as Terraform
    /// 1.0 requires.
    pub error_message: String,
}

/// An output block.
#[derive(Serialize)]
pub struct Output {
    /// Name.
    pub name: String,
    /// What it holds.
    pub description: String,
    /// Value, one line of HCL.
    pub value: String,
}

fn var(name: &str, type_: &str, description: impl Into<String>) -> Variable {
    Variable {
        name: name.into(),
        type_: type_.into(),
        description: description.into(),
        default: None,
        validations: Vec::new(),
    }
}

impl Variable {
    fn default(mut self, value: impl Into<String>) -> Self {
        self.default = Some(value.into());
        self
    }

    /// Adds a validation; the condition is wrapped in `try(..., false)` so that a value of the
    /// wrong shape fails with this message instead of an evaluation error.
    fn check(mut self, condition: impl Into<String>, message: impl Into<String>) -> Self {
        self.validations.push(Validation {
            condition: format!("try({}, false)", condition.into()),
            error_message: message.into(),
        });
        self
    }
}

fn out(name: &str, description: &str, value: impl Into<String>) -> Output {
    Output {
        name: name.into(),
        description: description.into(),
        value: value.into(),
    }
}

/// Blueprint facts the modules share.
struct Facts<'a> {
    bp: &'a Blueprint,
    domain_names: Vec<String>,
    /// The region tag key and each allowed region's value, when the blueprint has one.
    region_tag: Option<(String, Vec<(String, String)>)>,
}

impl<'a> Facts<'a> {
    fn new(bp: &'a Blueprint) -> Self {
        Facts {
            bp,
            domain_names: bp.domains.iter().map(|d| d.name.clone()).collect(),
            region_tag: bp.region_tag().map(|(tag, values)| {
                let entries = bp
                    .regions
                    .allowed
                    .iter()
                    .filter_map(|r| values.get(r).map(|v| (r.clone(), v.clone())))
                    .collect();
                (tag.to_string(), entries)
            }),
        }
    }

    /// Tag keys the modules set themselves, so callers may not: `domain`, and the region tag.
    fn module_set_keys(&self) -> Vec<&str> {
        let mut keys = vec![DOMAIN_TAG];
        if let Some((tag, _)) = &self.region_tag {
            keys.push(tag);
        }
        keys
    }

    /// "domain and region are set by the module", for descriptions and messages.
    fn set_by_module_text(&self) -> String {
        let keys = self.module_set_keys();
        let verb = if keys.len() == 1 { "is" } else { "are" };
        format!("{} {verb} set by the module", keys.join(" and "))
    }

    /// Ontology entries except `excluded` keys.
    fn ontology_without(&self, excluded: &[&str]) -> Vec<(String, Vec<String>)> {
        self.bp
            .ontology
            .tags
            .iter()
            .filter(|(k, _)| !excluded.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// `{ "key" = ["v1", "v2"], ... }` on one line, for `lookup()` in conditions.
    fn ontology_object(&self, excluded: &[&str]) -> String {
        let entries: Vec<(String, String)> = self
            .ontology_without(excluded)
            .into_iter()
            .map(|(k, v)| (k, hcl::string_list(&v)))
            .collect();
        hcl::inline_object(&entries)
    }

    /// `key: v1, v2; key2: v3` for messages.
    fn ontology_text(&self, excluded: &[&str]) -> String {
        self.ontology_without(excluded)
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn region_variable(&self, what: &str) -> Variable {
        let allowed = &self.bp.regions.allowed;
        let mut description = format!(
            "The AWS region of {what}: one of {}. Give the region of the `mesh` provider passed \
             to the module: Terraform 1.0 cannot check that they agree.",
            allowed.join(", ")
        );
        if let Some((tag, values)) = &self.region_tag {
            let pairs: Vec<String> = values.iter().map(|(r, v)| format!("{r} = {v}")).collect();
            description.push_str(&format!(
                " Recorded as the `{tag}` LF-tag ({}).",
                pairs.join(", ")
            ));
        } else {
            description
                .push_str(" Not recorded on the resources: the blueprint names no region tag.");
        }
        var("region", "string", description).check(
            format!("contains({}, var.region)", hcl::string_list(allowed)),
            format!(
                "The region must be one of the mesh's allowed regions: {}.",
                allowed.join(", ")
            ),
        )
    }

    fn domain_check(&self, expr: &str) -> String {
        format!("contains({}, {expr})", hcl::string_list(&self.domain_names))
    }

    /// Template data every module's templates may use.
    fn common(&self) -> Value {
        let region_tags = self.region_tag.as_ref().map(|(tag, values)| {
            let entries: Vec<(String, String)> = values
                .iter()
                .map(|(r, v)| (r.clone(), hcl::string(v)))
                .collect();
            json!({ "key": tag, "entries": hcl::object_lines(&entries, 4) })
        });
        let first = &self.bp.domains[0];
        // The consumer in examples: another domain when there is one.
        let consumer = self.bp.domains.get(1).unwrap_or(first);
        let aliases = Aliases::new(&first.name, &consumer.name);
        let role = |account: &str| format!("arn:aws:iam::{account}:role/MeshAdmin");
        json!({
            "mesh": self.bp.mesh,
            "governance_account_id": self.bp.governance.account_id.0,
            "provider_version": self.bp.provider_version,
            "region": self.bp.regions.allowed[0],
            "regions": self.bp.regions.allowed,
            "region_tag": region_tags,
            "domains": self.domain_names,
            "governance_alias": aliases.governance,
            "governance_role_arn": role(&self.bp.governance.account_id.0),
            "first_domain": {
                "name": first.name,
                "account_id": first.account_id.0,
                "alias": aliases.producer,
                "role_arn": role(&first.account_id.0),
            },
            "consumer_domain": {
                "name": consumer.name,
                "account_id": consumer.account_id.0,
                "alias": aliases.consumer,
                "role_arn": role(&consumer.account_id.0),
            },
            "example_product_id": format!("{}/{}", first.name, self.bp.products.example_name),
            "example_link_name": format!("{}_{}", first.name, self.bp.products.example_name),
            "example_product": self.bp.products.example_name,
            "name_pattern": self.bp.products.name_pattern,
            "min_compatibility": self.bp.contract.min_compatibility.as_str(),
            "storage_format": self.bp.contract.storage_format.as_str(),
            "data_format": self.bp.contract.data_format.as_str(),
            "max_freshness_minutes": self.bp.sla.max_freshness_minutes,
            "sensitivity_tag": self.bp.ontology.sensitivity_tag,
            "sensitivity_levels": self.bp.ontology.sensitivity_levels(),
        })
    }
}

/// The provider aliases of the generated examples, one per account role. They are unique by
/// construction, whatever the domains are called: the governance account's is `governance`, a
/// domain's is `domain_<name>` and, when the only domain also plays the consumer,
/// `consumer_<name>`; no domain name can make one prefix look like another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aliases {
    /// The governance account's alias.
    pub governance: String,
    /// The producing domain's alias.
    pub producer: String,
    /// The consuming domain's alias.
    pub consumer: String,
}

impl Aliases {
    /// The aliases for a producer and a consumer domain (the same one when the mesh has one).
    pub fn new(producer: &str, consumer: &str) -> Aliases {
        Aliases {
            governance: "governance".into(),
            producer: format!("domain_{producer}"),
            consumer: if consumer == producer {
                format!("consumer_{consumer}")
            } else {
                format!("domain_{consumer}")
            },
        }
    }
}

/// The four modules for a blueprint.
pub fn specs(bp: &Blueprint) -> Vec<ModuleSpec> {
    let facts = Facts::new(bp);
    vec![
        governance(&facts),
        domain(&facts),
        data_product(&facts),
        consumer_access(&facts),
    ]
}

fn with_common(facts: &Facts, extra: Value) -> Value {
    let mut context = facts.common();
    if let (Some(target), Value::Object(extra)) = (context.as_object_mut(), extra) {
        target.extend(extra);
    }
    context
}

// ---------------------------------------------------------------------------------------------
// governance
// ---------------------------------------------------------------------------------------------

fn governance(facts: &Facts) -> ModuleSpec {
    let bp = facts.bp;
    let variables = vec![
        var(
            "lake_admins",
            "list(string)",
            "Lake Formation administrators of the governance account: 1 to 30 IAM role or user \
             ARNs. Exactly this set is kept.",
        )
        .check(
            "length(var.lake_admins) >= 1 && length(var.lake_admins) <= 30 && alltrue([for a in \
             var.lake_admins : can(regex(\"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$\", a))])",
            "The lake admins must be 1 to 30 IAM role or user ARNs, e.g. \
             arn:aws:iam::111111111111:role/MeshAdmin.",
        ),
        var(
            "guardrail_target_ids",
            "list(string)",
            "Where the guardrail SCP is attached: the organizational units (ou-...), roots \
             (r-...) or 12-digit accounts holding the domain accounts.",
        )
        .check(
            "length(var.guardrail_target_ids) >= 1 && alltrue([for t in var.guardrail_target_ids \
             : can(regex(\"^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32}|[0-9]{12})$\", t))])",
            "The guardrail targets must be at least one organizational unit id (ou-...), root id \
             (r-...) or 12-digit account id.",
        ),
        var(
            "registration_principal_arns",
            "list(string)",
            "Principals (IAM role or user ARN patterns; `*` wildcards allowed) still allowed to \
             register and deregister Lake Formation data locations in the domain accounts: 1 to \
             48.",
        )
        .check(
            "length(var.registration_principal_arns) >= 1 && \
             length(var.registration_principal_arns) <= 48 && alltrue([for a in \
             var.registration_principal_arns : can(regex(\"^arn:\", a))])",
            "The registration principals must be 1 to 48 IAM ARN patterns, e.g. \
             arn:aws:iam::*:role/MeshAdmin.",
        ),
        var(
            "trusted_resource_owners",
            "list(string)",
            "Account ids (12 digits) whose resources the governance account trusts; null leaves \
             the setting as it is.",
        )
        .default("null")
        .check(
            "var.trusted_resource_owners == null ? true : alltrue([for a in \
             var.trusted_resource_owners : can(regex(\"^[0-9]{12}$\", a))])",
            "The trusted resource owners must be 12-digit account ids.",
        ),
    ];
    let outputs = vec![
        out(
            "ontology",
            "The LF-tag ontology as created: each tag key and its values.",
            "{ for key, tag in mesh_lf_tag.ontology : key => tag.values }",
        ),
        out(
            "lf_tag_ids",
            "Each LF-tag's id (CATALOG:KEY), by key.",
            "{ for key, tag in mesh_lf_tag.ontology : key => tag.id }",
        ),
        out(
            "governance_account_id",
            "The governance account, whose catalog holds the ontology: the domain accounts' \
             providers set tag_catalog_id to it.",
            hcl::string(&bp.governance.account_id.0),
        ),
        out(
            "guardrail_policy_id",
            "The guardrail service control policy's id (p-...).",
            "mesh_guardrail.lake_formation.policy_id",
        ),
        out(
            "guardrail_policy_json",
            "The guardrail's policy document.",
            "mesh_guardrail.lake_formation.policy_json",
        ),
    ];
    let ontology: Vec<(String, String)> = bp
        .ontology
        .tags
        .iter()
        .map(|(k, v)| (k.clone(), hcl::string_list(v)))
        .collect();
    // The MeshAdmin role of the governance account, then of each domain account, once each.
    let mut registration_arns: Vec<String> = Vec::new();
    for account in
        std::iter::once(&bp.governance.account_id).chain(bp.domains.iter().map(|d| &d.account_id))
    {
        let arn = format!("arn:aws:iam::{account}:role/MeshAdmin");
        if !registration_arns.contains(&arn) {
            registration_arns.push(arn);
        }
    }
    let context = with_common(
        facts,
        json!({
            "ontology_entries": hcl::object_lines(&ontology, 4),
            "ontology_keys": bp.ontology.tags.keys().collect::<Vec<_>>(),
            "guardrail_name": format!("{}-lake-formation-guardrails", bp.mesh),
            "registration_arns": registration_arns,
        }),
    );
    ModuleSpec {
        name: "governance",
        variables,
        outputs,
        context,
    }
}

// ---------------------------------------------------------------------------------------------
// domain
// ---------------------------------------------------------------------------------------------

fn domain(facts: &Facts) -> ModuleSpec {
    let bp = facts.bp;
    let names = facts.domain_names.join(", ");
    let mut variables = vec![
        var(
            "name",
            "string",
            format!(
                "The domain: one of the mesh's domains ({names}). Its account, owner and bucket \
                 come from the blueprint."
            ),
        )
        .check(
            facts.domain_check("var.name"),
            format!("The domain name must be one of the mesh's domains: {names}."),
        ),
        facts.region_variable("the domain's data lake"),
        var(
            "description",
            "string",
            "What the domain covers; stored on its database.",
        )
        .default("null"),
    ];
    variables.push(extra_tags_variable(
        facts,
        "Extra LF-tags on the domain's database (key = value), from the mesh's ontology.",
    ));
    variables.extend([
        var(
            "create_bucket",
            "bool",
            "Create the bucket (true) or use an existing bucket of that name (false), which is \
             never deleted.",
        )
        .default("true"),
        var(
            "force_destroy",
            "bool",
            "On destroy, delete a created bucket even when it holds objects. Data is kept by \
             default.",
        )
        .default("false"),
        var(
            "registration_role_arn",
            "string",
            "IAM role Lake Formation assumes to reach the bucket; null uses the Lake Formation \
             service-linked role.",
        )
        .default("null"),
    ]);
    let outputs = vec![
        out("name", "The domain's name.", "mesh_domain.this.name"),
        out(
            "account_id",
            "The domain's account (from the blueprint).",
            "local.domain.account_id",
        ),
        out(
            "region",
            "The domain's region as given (checked against the allowed regions, not against the \
             provider's region).",
            "var.region",
        ),
        out(
            "database_name",
            "The domain's Glue database, <name>_products.",
            "mesh_domain.this.database_name",
        ),
        out(
            "bucket_name",
            "The domain's bucket, <mesh>-<domain>-<account id>.",
            "local.domain.bucket",
        ),
        out(
            "bucket_arn",
            "The bucket's ARN.",
            "mesh_domain.this.bucket_arn",
        ),
        out(
            "location",
            "The domain's data location, s3://<bucket>/.",
            "mesh_domain.this.location",
        ),
        out(
            "catalog_id",
            "The account whose Data Catalog holds the database.",
            "mesh_domain.this.catalog_id",
        ),
    ];
    let domains: Vec<(String, String)> = bp
        .domains
        .iter()
        .map(|d| {
            let fields = hcl::aligned_lines(
                &[
                    ("account_id", &hcl::string(&d.account_id.0)),
                    ("bucket", &hcl::string(&bp.bucket_name(d))),
                    ("owner_team", &hcl::string(&d.owner.team)),
                    ("owner_email", &hcl::string(&d.owner.email)),
                ],
                2,
            );
            (d.name.clone(), format!("{{\n{fields}\n}}"))
        })
        .collect();
    let first = &bp.domains[0];
    let context = with_common(
        facts,
        json!({
            "domain_entries": hcl::object_lines(&domains, 4),
            "example_bucket": bp.bucket_name(first),
        }),
    );
    ModuleSpec {
        name: "domain",
        variables,
        outputs,
        context,
    }
}

/// The `lf_tags` variable of the domain module: any ontology key the module does not set.
fn extra_tags_variable(facts: &Facts, what: &str) -> Variable {
    let set_by_module = facts.module_set_keys();
    let allowed_keys: Vec<String> = facts
        .ontology_without(&set_by_module)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let description = format!(
        "{what} Keys: {}; {}.",
        or_none(&allowed_keys),
        facts.set_by_module_text()
    );
    var("lf_tags", "map(string)", description)
        .default("{}")
        .check(
            format!(
                "alltrue([for k in keys(var.lf_tags) : contains({}, k)])",
                hcl::string_list(&allowed_keys)
            ),
            format!(
                "The lf_tags keys must come from the mesh's tag ontology: {} ({}).",
                or_none(&allowed_keys),
                facts.set_by_module_text()
            ),
        )
        .check(
            format!(
                "alltrue([for k, v in var.lf_tags : contains(lookup({}, k, [v]), v)])",
                facts.ontology_object(&set_by_module)
            ),
            format!(
                "Each lf_tags value must be one of its key's values: {}.",
                facts.ontology_text(&set_by_module)
            ),
        )
}

fn or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

// ---------------------------------------------------------------------------------------------
// data-product
// ---------------------------------------------------------------------------------------------

fn data_product(facts: &Facts) -> ModuleSpec {
    let bp = facts.bp;
    let names = facts.domain_names.join(", ");
    let pattern = &bp.products.name_pattern;
    let set_by_module = facts.module_set_keys();
    let sensitivity = bp.ontology.sensitivity_tag.as_str();
    let levels = bp.ontology.sensitivity_levels();
    let allowed_keys: Vec<String> = facts
        .ontology_without(&set_by_module)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    // Required keys the caller must put in lf_tags (the module sets the others).
    let required: Vec<String> = bp
        .ontology
        .required
        .iter()
        .filter(|k| !set_by_module.contains(&k.as_str()))
        .cloned()
        .collect();
    let floor = bp.contract.min_compatibility;
    let allowed_modes: Vec<&str> = Compatibility::allowed_by(floor)
        .into_iter()
        .map(Compatibility::as_str)
        .collect();
    let max = bp.sla.max_freshness_minutes;
    let data_format = bp.contract.data_format.as_str();

    let mut lf_tags = var(
        "lf_tags",
        "map(string)",
        format!(
            "Table LF-tags (key = value) from the mesh's ontology. Keys: {}; {}.{}",
            or_none(&allowed_keys),
            facts.set_by_module_text(),
            if required.is_empty() {
                String::new()
            } else {
                format!(" Every product carries {}.", required.join(", "))
            }
        ),
    );
    if required.is_empty() {
        lf_tags = lf_tags.default("{}");
    } else {
        lf_tags = lf_tags.check(
            format!(
                "alltrue([for k in {} : contains(keys(var.lf_tags), k)])",
                hcl::string_list(&required)
            ),
            format!(
                "Every data product must carry the LF-tags {}: set them in lf_tags.",
                required.join(", ")
            ),
        );
    }
    lf_tags = lf_tags.check(
        format!(
            "alltrue([for k in keys(var.lf_tags) : contains({}, k)])",
            hcl::string_list(&allowed_keys)
        ),
        format!(
            "The lf_tags keys must come from the mesh's tag ontology: {} ({}).",
            or_none(&allowed_keys),
            facts.set_by_module_text()
        ),
    );
    if allowed_keys.iter().any(|k| k == sensitivity) {
        lf_tags = lf_tags.check(
            format!(
                "contains({}, lookup(var.lf_tags, {}, {}))",
                hcl::string_list(levels),
                hcl::string(sensitivity),
                hcl::string(&levels[0])
            ),
            format!(
                "The sensitivity (lf_tags.{sensitivity}) must be one of the mesh's levels: {}.",
                levels.join(", ")
            ),
        );
    }
    let mut others = set_by_module.clone();
    others.push(sensitivity);
    if !facts.ontology_without(&others).is_empty() {
        lf_tags = lf_tags.check(
            format!(
                "alltrue([for k, v in var.lf_tags : contains(lookup({}, k, [v]), v)])",
                facts.ontology_object(&others)
            ),
            format!(
                "Each lf_tags value must be one of its key's values: {}.",
                facts.ontology_text(&others)
            ),
        );
    }

    let column_keys = hcl::string_list(&["name", "type", "comment", "nullable", "lf_tags"]);
    let variables = vec![
        var(
            "domain",
            "string",
            format!("The owning domain: one of the mesh's domains ({names})."),
        )
        .check(
            facts.domain_check("var.domain"),
            format!("The domain must be one of the mesh's domains: {names}."),
        ),
        var(
            "name",
            "string",
            format!(
                "The product's name (its Glue table), matching the mesh's naming rule {pattern}."
            ),
        )
        .check(
            format!("can(regex({}, var.name))", hcl::string(pattern)),
            format!("The product name must match the mesh's naming rule {pattern}."),
        ),
        facts.region_variable("the product's data"),
        var(
            "columns",
            "any",
            "The columns, in order: a list of objects with name and type (Glue/Hive type), and \
             optionally comment, nullable (default true) and lf_tags (a map of tag key to value).",
        )
        .check(
            format!(
                "length(var.columns) > 0 && alltrue([for c in var.columns : can(tostring(c.name)) \
                 && can(tostring(c.type)) && length(setsubtract(keys(c), {column_keys})) == 0])"
            ),
            "The columns must be a non-empty list of objects with name and type, and optionally \
             comment, nullable and lf_tags.",
        )
        .check(
            format!(
                "alltrue(flatten([for c in var.columns : [for k, v in lookup(c, \"lf_tags\", {{}}) \
                 : contains(lookup({}, k, []), v)]]))",
                facts.ontology_object(&[DOMAIN_TAG])
            ),
            format!(
                "Column lf_tags must come from the mesh's tag ontology: {}.",
                facts.ontology_text(&[DOMAIN_TAG])
            ),
        ),
        var(
            "freshness_minutes",
            "number",
            format!(
                "The freshness SLA: the largest acceptable age of the newest data, in minutes \
                 (1 to {max})."
            ),
        )
        .check(
            format!(
                "var.freshness_minutes >= 1 && var.freshness_minutes <= {max} && \
                 floor(var.freshness_minutes) == var.freshness_minutes"
            ),
            format!(
                "The freshness SLA (freshness_minutes) must be a whole number of minutes from 1 \
                 to {max}, the mesh's bound."
            ),
        ),
        lf_tags,
        var(
            "description",
            "string",
            "What the product holds; on the table and in the contract.",
        )
        .default("null"),
        var(
            "partition_keys",
            "any",
            "The partition keys, in order: a list of objects with name and type, and optionally \
             comment.",
        )
        .default("[]")
        .check(
            format!(
                "alltrue([for p in var.partition_keys : can(tostring(p.name)) && \
                 can(tostring(p.type)) && length(setsubtract(keys(p), {})) == 0])",
                hcl::string_list(&["name", "type", "comment"])
            ),
            "The partition keys must be a list of objects with name and type, and optionally \
             comment.",
        ),
        var(
            "quality_rules",
            "list(string)",
            "Data quality rules in DQDL, one rule per element, e.g. IsComplete \"order_id\".",
        )
        .default("[]"),
        var(
            "compatibility",
            "string",
            format!(
                "The schema contract's compatibility mode: at least as strong as the mesh's floor \
                 {}, i.e. one of {}.",
                floor.as_str(),
                allowed_modes.join(", ")
            ),
        )
        .default(hcl::string(floor.as_str()))
        .check(
            format!(
                "contains({}, var.compatibility)",
                hcl::string_list(&allowed_modes)
            ),
            format!(
                "The compatibility must be at least as strong as the mesh's floor {}: one of {}.",
                floor.as_str(),
                allowed_modes.join(", ")
            ),
        ),
        var(
            "schema_format",
            "string",
            format!(
                "The schema contract's data format in the Glue Schema Registry: {data_format}, \
                 the mesh's contract policy (the blueprint's contract.data_format). Cannot change \
                 once the schema exists."
            ),
        )
        .default(hcl::string(data_format))
        .check(
            format!(
                "contains({}, var.schema_format)",
                hcl::string_list(&[data_format])
            ),
            format!(
                "The schema format (schema_format) must be {data_format}: the mesh's contract \
                 policy (contract.data_format in the blueprint) sets every product's data format."
            ),
        ),
        var(
            "registry",
            "string",
            "The Glue Schema Registry holding the contract; null means <domain>-contracts.",
        )
        .default("null"),
        var(
            "owner",
            "object({ team = string, email = string })",
            "The owning team; null means the domain's owner.",
        )
        .default("null"),
        var(
            "force_destroy",
            "bool",
            "On destroy, also delete every data object under the product's location. Data is \
             kept by default.",
        )
        .default("false"),
    ];
    let p = "mesh_data_product.this";
    let outputs = vec![
        out("id", "The product's id, <domain>/<name>.", format!("{p}.id")),
        out("name", "The product's name.", format!("{p}.name")),
        out("domain", "The owning domain.", format!("{p}.domain")),
        out(
            "database_name",
            "The domain's Glue database, <domain>_products.",
            format!("{p}.database_name"),
        ),
        out(
            "table",
            "The table to query, <database>.<name>.",
            format!("\"${{{p}.database_name}}.${{{p}.name}}\""),
        ),
        out("table_arn", "The Glue table's ARN.", format!("{p}.table_arn")),
        out(
            "location",
            "The product's data location, s3://<bucket>/products/<name>/.",
            format!("{p}.location"),
        ),
        out(
            "region",
            "The region the table was created in, read from its ARN: the `mesh` provider's \
             region, which the `region` input should match.",
            format!("split(\":\", {p}.table_arn)[3]"),
        ),
        out(
            "schema_arn",
            "The registry schema's ARN.",
            format!("{p}.schema_arn"),
        ),
        out(
            "schema_version_number",
            "The latest registered schema version.",
            format!("{p}.schema_version_number"),
        ),
        out(
            "contract_uri",
            "The contract document, <location>_metadata/product.json.",
            format!("{p}.contract_uri"),
        ),
        out(
            "contract_sha256",
            "SHA-256 (hex) of the contract document.",
            format!("{p}.contract_sha256"),
        ),
        out(
            "lf_tags",
            "The table's LF-tags as set by the module (domain = <domain> is added by the provider).",
            "local.lf_tags",
        ),
    ];
    // The example product carries each required key's first value.
    let example_tags: Vec<(String, String)> = required
        .iter()
        .filter_map(|k| {
            bp.ontology
                .values(k)
                .and_then(|v| v.first())
                .map(|v| (k.clone(), hcl::string(v)))
        })
        .collect();
    let context = with_common(
        facts,
        json!({
            "allowed_modes": allowed_modes,
            "required_tags": required,
            "example_lf_tags": (!example_tags.is_empty()).then(|| hcl::inline_object(&example_tags)),
            "example_freshness": max.min(60),
        }),
    );
    ModuleSpec {
        name: "data-product",
        variables,
        outputs,
        context,
    }
}

// ---------------------------------------------------------------------------------------------
// consumer-access
// ---------------------------------------------------------------------------------------------

fn consumer_access(facts: &Facts) -> ModuleSpec {
    let bp = facts.bp;
    let names = facts.domain_names.join(", ");
    let pattern = &bp.products.name_pattern;
    let product_check = |var_name: &str| {
        format!(
            "alltrue([for k, g in var.{var_name} : length(split(\"/\", g.product)) == 2 && {} && \
             can(regex({}, split(\"/\", g.product)[1]))])",
            facts.domain_check("split(\"/\", g.product)[0]"),
            hcl::string(pattern)
        )
    };
    let product_message = |what: &str| {
        format!(
            "Each {what} product must be <domain>/<name> with a domain of the mesh ({names}) and \
             a name matching {pattern}."
        )
    };
    let shape = |var_name: &str, required: &[&str], optional: &[&str]| {
        let mut all: Vec<&str> = required.to_vec();
        all.extend(optional);
        let present: Vec<String> = required.iter().map(|r| format!("can(g.{r})")).collect();
        format!(
            "alltrue([for k, g in var.{var_name} : {} && length(setsubtract(keys(g), {})) == 0])",
            present.join(" && "),
            hcl::string_list(&all)
        )
    };
    let variables = vec![
        var(
            "tag_grants",
            "any",
            "LF-tag grants, by a name of your choice: { principal, expression = { <tag key> = \
             [values] }, and optionally table_permissions, database_permissions, \
             grantable_permissions, catalog_id }. Made in the catalog holding the ontology.",
        )
        .default("{}")
        .check(
            shape(
                "tag_grants",
                &["principal", "expression"],
                &[
                    "table_permissions",
                    "database_permissions",
                    "grantable_permissions",
                    "catalog_id",
                ],
            ),
            "Each tag_grants entry needs principal and expression, and may set \
             table_permissions, database_permissions, grantable_permissions and catalog_id.",
        )
        .check(
            format!(
                "alltrue(flatten([for k, g in var.tag_grants : [for key, values in g.expression : \
                 [for v in values : contains(lookup({}, key, []), v)]]]))",
                facts.ontology_object(&[])
            ),
            format!(
                "Each tag_grants expression must use the mesh's tag ontology: {}.",
                facts.ontology_text(&[])
            ),
        ),
        var(
            "product_grants",
            "any",
            "Grants of one product each, by a name of your choice: { product = \
             \"<domain>/<name>\", principal (an account id or IAM ARN), and optionally \
             permissions, columns, excluded_columns }. Made in the producing domain's account.",
        )
        .default("{}")
        .check(
            shape(
                "product_grants",
                &["product", "principal"],
                &["permissions", "columns", "excluded_columns"],
            ),
            "Each product_grants entry needs product and principal, and may set permissions, \
             columns and excluded_columns.",
        )
        .check(
            product_check("product_grants"),
            product_message("product_grants"),
        ),
        var(
            "product_links",
            "any",
            "Resource links to shared products, by a name of your choice: { product = \
             \"<domain>/<name>\", database (the local database holding the link), and \
             optionally name }. Made in the consumer's account; the producer's account comes \
             from the blueprint.",
        )
        .default("{}")
        .check(
            shape("product_links", &["product", "database"], &["name"]),
            "Each product_links entry needs product and database, and may set name.",
        )
        .check(
            product_check("product_links"),
            product_message("product_links"),
        ),
    ];
    let outputs = vec![
        out(
            "tag_grant_ids",
            "Each tag grant's id, by name.",
            "{ for k, g in mesh_tag_grant.this : k => g.id }",
        ),
        out(
            "product_grant_ids",
            "Each product grant's id, by name.",
            "{ for k, g in mesh_product_grant.this : k => g.id }",
        ),
        out(
            "product_links",
            "Each resource link, by name: its id (<database>/<name>) and the catalog holding it.",
            "{ for k, l in mesh_product_link.this : k => { id = l.id, catalog_id = l.catalog_id } }",
        ),
    ];
    let accounts: Vec<(String, String)> = bp
        .domains
        .iter()
        .map(|d| (d.name.clone(), hcl::string(&d.account_id.0)))
        .collect();
    let expression: Vec<(String, String)> = [
        (DOMAIN_TAG, bp.domains[0].name.clone()),
        (
            bp.ontology.sensitivity_tag.as_str(),
            bp.ontology.sensitivity_levels()[0].clone(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), hcl::string_list(&[v])))
    .collect();
    let context = with_common(
        facts,
        json!({
            "domain_accounts": hcl::object_lines(&accounts, 4),
            "example_expression": hcl::inline_object(&expression),
        }),
    );
    ModuleSpec {
        name: "consumer-access",
        variables,
        outputs,
        context,
    }
}
