//! `data "mesh_domain"`: a domain's home as its `mesh_domain` made it, for configurations that
//! use a domain they do not manage (a product team's, a consumer's).

use crate::framework::value::Attr;
use crate::framework::{Attribute, Block, DataSource, Diagnostic, Diagnostics, Resource, Schema};
use crate::framework::{AttributePath, Type, Validator};
use crate::resources::domain::{self, Domain};
use crate::resources::Mesh;
use crate::rules::check_domain_name;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The data source.
#[derive(Debug, Default)]
pub struct DomainSource;

/// `data "mesh_domain"`'s model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The domain's name (the argument).
    pub name: Attr<String>,
    /// = name.
    pub id: Attr<String>,
    /// The database's description.
    pub description: Attr<String>,
    /// Owning team.
    pub owner_team: Attr<String>,
    /// Owner's address.
    pub owner_email: Attr<String>,
    /// `<name>_products`.
    pub database_name: Attr<String>,
    /// The data bucket.
    pub bucket_name: Attr<String>,
    /// `arn:aws:s3:::<bucket>`.
    pub bucket_arn: Attr<String>,
    /// `s3://<bucket>/`.
    pub location: Attr<String>,
    /// The account holding the database.
    pub catalog_id: Attr<String>,
    /// LF-tags on the database besides `domain`.
    pub lf_tags: Attr<BTreeMap<String, String>>,
    /// No IAM_ALLOWED_PRINCIPALS grants on the database or its new tables.
    pub lake_formation_only: Attr<bool>,
}

/// The data source's view of a domain's state.
fn from_domain(name: &str, d: domain::Model) -> Model {
    let owner = d.owner.known().cloned().unwrap_or_default();
    let bucket = d.bucket.known().cloned().unwrap_or_default();
    Model {
        name: Attr::Known(name.to_string()),
        id: d.id,
        description: d.description,
        owner_team: owner.team,
        owner_email: owner.email,
        database_name: d.database_name,
        bucket_name: bucket.name,
        bucket_arn: d.bucket_arn,
        location: d.location,
        catalog_id: d.catalog_id,
        lf_tags: Attr::Known(d.lf_tags.known().cloned().unwrap_or_default()),
        lake_formation_only: d.lake_formation_only,
    }
}

#[async_trait]
impl DataSource for DomainSource {
    type Model = Model;
    type Client = Mesh;

    fn type_name(&self) -> &'static str {
        "mesh_domain"
    }

    fn schema(&self) -> Schema {
        let computed = |name: &str, text: &str| Attribute::string(name).computed().describe(text);
        Schema::new(
            Block::new(
                "A domain's home as its `mesh_domain` made it: the Glue database its products \
                 live in, the bucket and location, the owner, the account (catalog) holding it, \
                 and its LF-tags. For configurations that use a domain they do not manage, such \
                 as a product team's or a consumer's.\n\n\
                 Reads the same things `mesh_domain` reads (the database, its LF-tags, the \
                 bucket and its Lake Formation registration), in the caller's account. A domain \
                 whose database, bucket or registration is missing is an error.",
            )
            .attribute(
                Attribute::string("name")
                    .required()
                    .describe("The domain's name.")
                    .validate(Validator::string(
                        "domain name rules",
                        "Invalid domain name",
                        check_domain_name,
                    )),
            )
            .attribute(computed("id", "The domain's name."))
            .attribute(computed("description", "The database's description."))
            .attribute(computed("owner_team", "The owning team."))
            .attribute(computed("owner_email", "The owner's contact address."))
            .attribute(computed("database_name", "The Glue database, `<name>_products`."))
            .attribute(computed("bucket_name", "The domain's data bucket."))
            .attribute(computed("bucket_arn", "The bucket's ARN."))
            .attribute(computed("location", "`s3://<bucket>/`."))
            .attribute(computed(
                "catalog_id",
                "The account (Data Catalog) holding the database.",
            ))
            .attribute(
                Attribute::new("lf_tags", Type::map(Type::String))
                    .computed()
                    .describe("LF-tags on the database besides `domain` (empty when none)."),
            )
            .attribute(
                Attribute::bool("lake_formation_only")
                    .computed()
                    .describe("True when no IAM_ALLOWED_PRINCIPALS grant is on the database or its new tables' defaults."),
            ),
        )
    }

    async fn read(&self, client: &Mesh, config: Model) -> Result<Model, Diagnostics> {
        let name = config.name.known().cloned().unwrap_or_default();
        let id = Domain.parse_id(client, &name).await?;
        let Some(found) = Domain.find(client, &id).await? else {
            return Err(Diagnostic::error(
                "Domain not found",
                format!(
                    "No mesh domain {name:?} exists in this account: its Glue database {}_products, its bucket and the bucket's Lake Formation registration must all exist.",
                    name
                ),
            )
            .at(AttributePath::attr("name"))
            .into());
        };
        let state = Domain.flatten(&id, found, &domain::Model::default());
        Ok(from_domain(&name, state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Owner;

    #[test]
    fn the_data_source_shows_the_domain_flat_and_tags_empty_rather_than_null() {
        let d = domain::Model {
            id: Attr::Known("sales".into()),
            name: Attr::Known("sales".into()),
            owner: Attr::Known(Owner {
                team: Attr::Known("sales-data".into()),
                email: Attr::Known("data@sales.example".into()),
            }),
            bucket: Attr::Known(domain::Bucket {
                name: Attr::Known("sales-lake".into()),
                create: Attr::Known(true),
                force_destroy: Attr::Known(false),
            }),
            database_name: Attr::Known("sales_products".into()),
            lake_formation_only: Attr::Known(true),
            ..domain::Model::default()
        };
        let m = from_domain("sales", d);
        assert_eq!(m.owner_team, Attr::Known("sales-data".into()));
        assert_eq!(m.bucket_name, Attr::Known("sales-lake".into()));
        assert_eq!(m.database_name, Attr::Known("sales_products".into()));
        assert_eq!(m.lf_tags, Attr::Known(BTreeMap::new()));
        assert_eq!(m.description, Attr::Null);
    }
}
