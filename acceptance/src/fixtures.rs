//! Configurations for `mesh_domain` and `mesh_data_product` tests, with names unique per test.
//!
//! Tests run in parallel against one emulator, so every name a test creates is its own: the
//! domain (`commerce_<unique>`), its bucket, the LF-tag key standing in for `sensitivity`, and the
//! schema registry. The LF-tag key `domain` is fixed by the provider (`domain=<name>` is always
//! added), so it is shared: [`Mesh::prepare`] adds this test's domain to its values out of band
//! instead of letting one test's Terraform own (and destroy) it.

use crate::{mesh_config, unique_name, Emulator, ACCOUNT_ID};

/// The LF-tag key the provider always puts on a domain's database and its products.
pub const DOMAIN_TAG: &str = "domain";
/// The owner team of the test domain.
pub const OWNER_TEAM: &str = "commerce-data";
/// The owner email of the test domain.
pub const OWNER_EMAIL: &str = "commerce-data@example.com";
/// The test domain's description.
pub const DOMAIN_DESCRIPTION: &str = "Orders and carts";
/// The test product's name.
pub const PRODUCT: &str = "orders";
/// The address of the test domain in configurations.
pub const DOMAIN_ADDRESS: &str = "mesh_domain.commerce";
/// The address of the test product in configurations.
pub const PRODUCT_ADDRESS: &str = "mesh_data_product.orders";
/// The address of the LF-tag standing in for `sensitivity`.
pub const SENSITIVITY_ADDRESS: &str = "mesh_lf_tag.sensitivity";

/// The columns of the test product, as `(name, type, comment)` in order.
pub const COLUMNS: &[(&str, &str, Option<&str>)] = &[
    ("order_id", "string", Some("Order id")),
    ("customer_id", "string", None),
    ("order_amount", "decimal(12,2)", None),
    ("currency", "string", None),
    ("created_at", "timestamp", None),
];

/// The test product's DQDL rules.
pub const QUALITY_RULES: &[&str] = &[
    "IsComplete \"order_id\"",
    "IsUnique \"order_id\"",
    "ColumnValues \"currency\" in [\"EUR\", \"USD\"]",
];

/// The names one test uses.
#[derive(Debug, Clone)]
pub struct Mesh {
    /// The domain name (`[a-z0-9_]`).
    pub domain: String,
    /// The domain's bucket.
    pub bucket: String,
    /// The key of the LF-tag standing in for `sensitivity` (values public, internal,
    /// confidential).
    pub sensitivity: String,
    /// The Glue Schema Registry for contracts.
    pub registry: String,
}

/// What a product configuration looks like; [`Default`] is the product of the interface.
#[derive(Debug, Clone)]
pub struct ProductOpts {
    /// `schema_contract.compatibility`; `None` leaves it out (the default, BACKWARD).
    pub compatibility: Option<String>,
    /// Columns left out of the standard five.
    pub drop_columns: Vec<String>,
    /// Extra `column` blocks (raw HCL), after the standard ones.
    pub extra_columns: Vec<String>,
    /// `force_destroy`.
    pub force_destroy: bool,
    /// `sla.freshness_minutes`.
    pub freshness_minutes: i64,
    /// More lines inside the `sla` block (raw HCL).
    pub sla_extra: String,
}

impl Default for ProductOpts {
    fn default() -> Self {
        ProductOpts {
            compatibility: Some("BACKWARD_ALL".to_string()),
            drop_columns: Vec::new(),
            extra_columns: Vec::new(),
            force_destroy: false,
            freshness_minutes: 60,
            sla_extra: String::new(),
        }
    }
}

impl Default for Mesh {
    fn default() -> Self {
        Mesh::new()
    }
}

impl Mesh {
    /// Fresh unique names.
    pub fn new() -> Mesh {
        Mesh {
            domain: unique_name("commerce"),
            bucket: unique_name("mesh-commerce").replace('_', "-"),
            sensitivity: unique_name("sensitivity"),
            registry: unique_name("mesh-contracts"),
        }
    }

    /// Out-of-band setup the configurations rely on: the shared `domain` LF-tag gets this
    /// domain as a value, and the schema registry exists.
    pub async fn prepare(&self, emulator: &Emulator) {
        emulator
            .ensure_lf_tag_values(DOMAIN_TAG, &[self.domain.as_str()])
            .await;
        emulator.ensure_registry(&self.registry).await;
    }

    /// The domain's Glue database: `<domain>_products`.
    pub fn database(&self) -> String {
        format!("{}_products", self.domain)
    }

    /// The domain's location: `s3://<bucket>/`.
    pub fn domain_location(&self) -> String {
        format!("s3://{}/", self.bucket)
    }

    /// The bucket's ARN.
    pub fn bucket_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.bucket)
    }

    /// The product's id: `<domain>/orders`.
    pub fn product_id(&self) -> String {
        format!("{}/{PRODUCT}", self.domain)
    }

    /// The product's registry schema name: `<domain>.orders`.
    pub fn schema_name(&self) -> String {
        format!("{}.{PRODUCT}", self.domain)
    }

    /// The product's location: `s3://<bucket>/products/orders/`.
    pub fn product_location(&self) -> String {
        format!("s3://{}/products/{PRODUCT}/", self.bucket)
    }

    /// The product's key prefix in the bucket: `products/orders/`.
    pub fn product_prefix(&self) -> String {
        format!("products/{PRODUCT}/")
    }

    /// The contract document's key: `products/orders/_metadata/product.json`.
    pub fn contract_key(&self) -> String {
        format!("products/{PRODUCT}/_metadata/product.json")
    }

    /// The table's ARN.
    pub fn table_arn(&self) -> String {
        format!(
            "arn:aws:glue:us-east-1:{ACCOUNT_ID}:table/{}/{PRODUCT}",
            self.database()
        )
    }

    /// The `mesh_lf_tag.sensitivity` block.
    pub fn sensitivity_hcl(&self) -> String {
        format!(
            r#"resource "mesh_lf_tag" "sensitivity" {{
  key    = "{}"
  values = ["public", "internal", "confidential"]
}}
"#,
            self.sensitivity
        )
    }

    /// The `mesh_domain.commerce` block; `create` is `bucket.create`.
    pub fn domain_hcl(&self, create: bool) -> String {
        format!(
            r#"resource "mesh_domain" "commerce" {{
  name        = "{domain}"
  description = "{DOMAIN_DESCRIPTION}"
  owner {{
    team  = "{OWNER_TEAM}"
    email = "{OWNER_EMAIL}"
  }}
  bucket {{
    name          = "{bucket}"
    create        = {create}
    force_destroy = false
  }}
  lf_tags = {{
    (mesh_lf_tag.sensitivity.key) = "internal"
  }}
}}
"#,
            domain = self.domain,
            bucket = self.bucket,
        )
    }

    /// The `mesh_data_product.orders` block.
    pub fn product_hcl(&self, opts: &ProductOpts) -> String {
        let mut columns = String::new();
        for (name, ty, _) in COLUMNS {
            if opts.drop_columns.iter().any(|d| d == name) {
                continue;
            }
            let block = match *name {
                "order_id" => format!(
                    "  column {{\n    name     = \"{name}\"\n    type     = \"{ty}\"\n    comment  = \"Order id\"\n    nullable = false\n  }}\n"
                ),
                "order_amount" => format!(
                    "  column {{\n    name    = \"{name}\"\n    type    = \"{ty}\"\n    lf_tags = {{\n      (mesh_lf_tag.sensitivity.key) = \"confidential\"\n    }}\n  }}\n"
                ),
                _ => format!("  column {{\n    name = \"{name}\"\n    type = \"{ty}\"\n  }}\n"),
            };
            columns.push_str(&block);
        }
        for extra in &opts.extra_columns {
            columns.push_str(extra);
            if !extra.ends_with('\n') {
                columns.push('\n');
            }
        }
        let compatibility = opts
            .compatibility
            .as_ref()
            .map(|c| format!("    compatibility = \"{c}\"\n"))
            .unwrap_or_default();
        let rules: Vec<String> = QUALITY_RULES.iter().map(|r| format!("{r:?}")).collect();
        format!(
            r#"resource "mesh_data_product" "orders" {{
  domain      = mesh_domain.commerce.name
  name        = "{PRODUCT}"
  description = "Orders placed on the web shop"
  format      = "parquet"
{columns}  partition_key {{
    name = "order_date"
    type = "date"
  }}
  lf_tags = {{
    (mesh_lf_tag.sensitivity.key) = "internal"
  }}
  schema_contract {{
    registry      = "{registry}"
{compatibility}    data_format   = "AVRO"
  }}
  quality_rules = [{rules}]
  sla {{
    freshness_minutes = {freshness}
{sla_extra}  }}
  force_destroy = {force_destroy}
}}
"#,
            registry = self.registry,
            rules = rules.join(", "),
            force_destroy = opts.force_destroy,
            freshness = opts.freshness_minutes,
            sla_extra = opts.sla_extra,
        )
    }

    /// Provider block, the sensitivity tag and the domain (bucket created).
    pub fn domain_config(&self) -> String {
        mesh_config(&format!(
            "{}\n{}",
            self.sensitivity_hcl(),
            self.domain_hcl(true)
        ))
    }

    /// [`Mesh::domain_config`] plus the product.
    pub fn product_config(&self, opts: &ProductOpts) -> String {
        mesh_config(&format!(
            "{}\n{}\n{}",
            self.sensitivity_hcl(),
            self.domain_hcl(true),
            self.product_hcl(opts)
        ))
    }
}

/// The 1-based line of the first line of `hcl` containing `needle`.
pub fn line_of(hcl: &str, needle: &str) -> usize {
    hcl.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} is not in the configuration:\n{hcl}"))
}
