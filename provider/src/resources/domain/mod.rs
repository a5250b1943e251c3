//! `mesh_domain`: a domain's home in its account: the S3 bucket (created or existing)
//! registered with Lake Formation, the Glue database `<domain>_products` tagged
//! `domain=<name>`, Lake Formation-only access, and the domain's owner.

use super::ontology::{self, Ontology, TagUse};
use super::Mesh;
use super::{aws_diag, known};
use super::{grants, Owner};
use crate::aws::Found as _;
use crate::aws::Service;
use crate::framework::value::{Attr, Value};
use crate::framework::{
    invalid_import_id, Attribute, AttributePath, Block, Diagnostic, Diagnostics, Failure,
    NestedBlock, Nesting, PlanRequest, Private, Resource, Schema, Type, Validator,
};
use crate::resources::Action;
use crate::rules::{check_domain_name as check_name, database_name, IAM_ALLOWED_PRINCIPALS};
use async_trait::async_trait;
use aws_sdk_glue::types::DatabaseInput;
use aws_sdk_lakeformation::types::{DataLakePrincipal, DatabaseResource, Resource as LfResource};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod apply;
mod find;
mod spec;
use find::*;
use spec::*;

// Database parameters where the domain keeps what import needs to find again.
use crate::rules::param::{
    BUCKET as P_BUCKET, BUCKET_CREATED as P_BUCKET_CREATED, DOMAIN as P_DOMAIN,
    OWNER_EMAIL as P_EMAIL, OWNER_TEAM as P_TEAM, REGISTRATION_ROLE as P_ROLE,
};

/// The resource.
#[derive(Debug, Default)]
pub struct Domain;

/// `bucket { name, create, force_destroy }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Bucket name.
    pub name: Attr<String>,
    /// Create it (true) or use an existing one.
    pub create: Attr<bool>,
    /// Delete it with its objects on destroy.
    pub force_destroy: Attr<bool>,
}

/// `mesh_domain`'s model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// = name.
    pub id: Attr<String>,
    /// Domain name.
    pub name: Attr<String>,
    /// Description.
    pub description: Attr<String>,
    /// Owner.
    pub owner: Attr<Owner>,
    /// The data bucket.
    pub bucket: Attr<Bucket>,
    /// Role Lake Formation uses to reach the bucket.
    pub registration_role_arn: Attr<String>,
    /// Extra LF-tags on the database.
    pub lf_tags: Attr<BTreeMap<String, String>>,
    /// No IAM_ALLOWED_PRINCIPALS grants on the database or its new tables.
    pub lake_formation_only: Attr<bool>,
    /// `<name>_products`.
    pub database_name: Attr<String>,
    /// `s3://<bucket>/`.
    pub location: Attr<String>,
    /// `arn:aws:s3:::<bucket>`.
    pub bucket_arn: Attr<String>,
    /// The account holding the database.
    pub catalog_id: Attr<String>,
}

#[async_trait]
impl Resource for Domain {
    type Model = Model;
    type Client = Mesh;
    type Id = DomainId;
    type Spec = Spec;
    type Found = Found;

    fn type_name(&self) -> &'static str {
        "mesh_domain"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "A data domain's home in its AWS account: the S3 bucket holding its products (created \
                 with versioning, default encryption and all public access blocked, or an existing \
                 one), registered with Lake Formation; the Glue database `<name>_products`, tagged \
                 `domain = <name>` and Lake Formation-only (no `IAM_ALLOWED_PRINCIPALS` grants, so IAM \
                 policies cannot bypass Lake Formation); and the domain's owner.\n\n\
                 Drift in the database's LF-tags, owner, description, and an `IAM_ALLOWED_PRINCIPALS` \
                 grant reappearing all show in the plan and are repaired by apply. A deleted database, \
                 bucket or registration plans the domain for re-creation.\n\n\
                 Destroy refuses while data products remain in the database. It deletes the bucket only \
                 when this resource created it and it holds no objects, or when `bucket.force_destroy` \
                 is set.\n\n\
                 Import with `terraform import mesh_domain.NAME <name>`.",
            )
            .attribute(Attribute::string("id").computed().use_state_for_unknown().describe("The domain name."))
            .attribute(
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .describe("Domain name: lowercase letters, digits and underscores. Names the database `<name>_products` and the `domain` LF-tag value. Changing it replaces the domain.")
                    .validate(Validator::string("domain name rules", "Invalid domain name", check_name)),
            )
            .attribute(Attribute::string("description").optional().describe("What the domain covers; stored on the database."))
            .attribute(
                Attribute::string("registration_role_arn")
                    .optional()
                    .describe("IAM role Lake Formation assumes to reach the bucket. Without it the Lake Formation service-linked role is used.")
                    .validate(Validator::string("IAM role ARN", "Invalid role ARN", |s| crate::aws::check_role_arn(s).err())),
            )
            .attribute(
                Attribute::new("lf_tags", Type::map(Type::String))
                    .optional()
                    .describe("Extra LF-tags on the database (key = value), checked against the catalog's LF-tags at plan time. `domain = <name>` is always added; do not set it here.")
                    .validate(ontology::tags_validator()),
            )
            .attribute(
                Attribute::bool("lake_formation_only")
                    .default_value(Value::Bool(true))
                    .describe("Keep the database Lake Formation-only: new tables get no default grants and any `IAM_ALLOWED_PRINCIPALS` grant on the database is revoked. Default `true`; with `false` such grants are left alone."),
            )
            .attribute(Attribute::string("database_name").computed().use_state_for_unknown().describe("The Glue database, `<name>_products`."))
            .attribute(Attribute::string("location").computed().use_state_for_unknown().describe("`s3://<bucket>/`."))
            .attribute(Attribute::string("bucket_arn").computed().use_state_for_unknown().describe("`arn:aws:s3:::<bucket>`."))
            .attribute(Attribute::string("catalog_id").computed().use_state_for_unknown().describe("The account whose Data Catalog holds the database."))
            .block(
                NestedBlock::new(
                    "owner",
                    Nesting::Single,
                    Block::new("Who owns the domain; data products default to it.")
                        .attribute(Attribute::string("team").required().describe("Owning team.").validate(Validator::length_between(1, 128)))
                        .attribute(
                            Attribute::string("email")
                                .required()
                                .describe("Contact address of the owning team.")
                                .validate(Validator::string("email address", "Invalid email", check_email)),
                        ),
                )
                .required(),
            )
            .block(
                NestedBlock::new(
                    "bucket",
                    Nesting::Single,
                    Block::new("The S3 bucket holding the domain's data products.")
                        .attribute(
                            Attribute::string("name")
                                .required()
                                .requires_replace()
                                .describe("Bucket name. Changing it replaces the domain.")
                                .validate(Validator::string("S3 bucket name rules", "Invalid bucket name", check_bucket_name)),
                        )
                        .attribute(
                            Attribute::bool("create")
                                .default_value(Value::Bool(true))
                                .requires_replace()
                                .describe("Create the bucket (`true`, default) or use an existing one (`false`), which is never deleted."),
                        )
                        .attribute(
                            Attribute::bool("force_destroy")
                                .default_value(Value::Bool(false))
                                .describe("On destroy, delete a created bucket even when it holds objects. Default `false`: data is never deleted by accident."),
                        ),
                )
                .required(),
            ),
        )
    }

    async fn modify_plan(&self, client: Option<&Mesh>, req: &mut PlanRequest<Model>) {
        let Some(client) = client else { return };
        let uses = Self::tag_uses(&req.config);
        if uses.is_empty() {
            return;
        }
        match Ontology::load_for_plan(client).await {
            Ok(ontology) => req.diags.extend(ontology.check(&uses, false)),
            Err(e) => req.diags.extend(aws_diag(
                Action::List,
                "LF-tags to check the domain's tags",
                &e,
            )),
        }
    }

    fn spec(&self, model: &Model) -> Result<Spec, Diagnostics> {
        Spec::from(model)
    }

    fn id(&self, state: &Model) -> Result<DomainId, Diagnostics> {
        Ok(DomainId {
            name: known(&state.name, "name")?.clone(),
            bucket: state.bucket.known().and_then(|b| b.name.known()).cloned(),
        })
    }

    async fn parse_id(&self, _client: &Mesh, raw: &str) -> Result<DomainId, Diagnostics> {
        match check_name(raw) {
            Some(problem) => Err(invalid_import_id(problem, "domain names")),
            None => Ok(DomainId {
                name: raw.to_string(),
                bucket: None,
            }),
        }
    }

    /// The database, its tags and grants, the bucket and its registration; `None` when any of
    /// the database, bucket or registration is gone (create completes what is missing).
    async fn find(&self, client: &Mesh, id: &DomainId) -> Result<Option<Found>, Diagnostics> {
        self.lookup(client, id).await
    }

    fn flatten(&self, _id: &DomainId, found: Found, prior: &Model) -> Model {
        flatten(found, prior)
    }

    async fn create(
        &self,
        client: &Mesh,
        spec: Spec,
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        // Tags are checked again now: some implementations accept undefined keys silently.
        let ontology = Ontology::load(client)
            .await
            .map_err(|e| Failure::clean(aws_diag(Action::List, "LF-tags", &e)))?;
        let problems = ontology.check(&Self::tag_uses(&planned), true);
        if problems.has_errors() {
            return Err(Failure::clean(problems));
        }
        let bucket_side = async {
            self.ensure_bucket(client, &spec).await?;
            self.register(client, &spec).await
        };
        let (bucket_result, db_result) =
            futures::join!(bucket_side, self.ensure_database(client, &spec));
        let catalog_id = db_result.as_ref().cloned().unwrap_or_default();
        // Whatever happened, state records everything this spec may have created, so a failure
        // leaves no orphan: the resource is saved (tainted) and the next apply replaces it.
        let partial =
            |diags: Diagnostics| Failure::partial(spec.state(&catalog_id, &planned), diags);
        if let Err(mut diags) = bucket_result {
            if let Err(more) = db_result {
                diags.extend(more);
            }
            return Err(partial(diags));
        }
        let catalog_id = db_result.map_err(partial)?;
        let partial =
            |diags: Diagnostics| Failure::partial(spec.state(&catalog_id, &planned), diags);
        let resource = db_resource(&catalog_id, &spec.database()).map_err(partial)?;
        ontology::retag(
            client,
            &resource,
            &catalog_id,
            &BTreeMap::new(),
            &spec.tags,
            &format!("database {}", spec.database()),
        )
        .await
        .map_err(partial)?;
        if spec.lake_formation_only {
            grants::revoke_iam_allowed(client, &spec.database())
                .await
                .map_err(partial)?;
        }
        Ok(spec.state(&catalog_id, &planned))
    }

    async fn update(
        &self,
        client: &Mesh,
        prior: Model,
        after: Spec,
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let before = Spec::from(&prior).map_err(Failure::clean)?;
        let catalog_id = known(&prior.catalog_id, "catalog_id")
            .map_err(Failure::clean)?
            .clone();
        let keep_prior = |diags: Diagnostics| Failure::partial(prior.clone(), diags);
        if before.tags != after.tags || prior.lf_tags != planned.lf_tags {
            let ontology = Ontology::load(client)
                .await
                .map_err(|e| keep_prior(aws_diag(Action::List, "LF-tags", &e)))?;
            let problems = ontology.check(&Self::tag_uses(&planned), true);
            if problems.has_errors() {
                return Err(keep_prior(problems));
            }
            // The prior state may show the domain tag as absent or wrong: retag from what it says.
            let current = ontology::attached(&prior.lf_tags, &after.name);
            let resource = db_resource(&catalog_id, &after.database()).map_err(keep_prior)?;
            ontology::retag(
                client,
                &resource,
                &catalog_id,
                &current,
                &after.tags,
                &format!("database {}", after.database()),
            )
            .await
            .map_err(keep_prior)?;
        }
        let database_changed = before.description != after.description
            || before.team != after.team
            || before.email != after.email
            || before.role != after.role
            || (after.lake_formation_only
                && !prior.lake_formation_only.known().copied().unwrap_or(true));
        if database_changed {
            self.update_database(client, &after)
                .await
                .map_err(keep_prior)?;
        }
        if before.role != after.role {
            client
                .call(Service::LakeFormation, "UpdateResource", || {
                    // Back to the service-linked role when the argument is removed.
                    let role = after.role.clone().unwrap_or_else(|| {
                        format!("arn:aws:iam::{catalog_id}:role/aws-service-role/lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess")
                    });
                    client.lakeformation().update_resource().resource_arn(after.bucket_arn()).role_arn(role).send()
                })
                .await
                .map_err(|e| keep_prior(aws_diag(Action::Update, format!("the registration role of s3://{}/", after.bucket), &e)))?;
        }
        if after.lake_formation_only {
            grants::revoke_iam_allowed(client, &after.database())
                .await
                .map_err(keep_prior)?;
        }
        let mut state = after.state(&catalog_id, &planned);
        state.lf_tags = planned.lf_tags;
        Ok(state)
    }

    async fn delete(
        &self,
        client: &Mesh,
        state: Model,
        _private: &Private,
    ) -> Result<(), Diagnostics> {
        let spec = Spec::from(&state)?;
        let database = spec.database();
        // Products first: a domain is not destroyed under its products.
        let names: Vec<String> = client
            .call(Service::Glue, "GetTables", || {
                client.glue().get_tables().database_name(&database).send()
            })
            .await
            .found()
            .map_err(|e| aws_diag(Action::List, format!("tables of {database}"), &e))?
            .and_then(|out| out.table_list)
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.name)
            .collect();
        if !names.is_empty() {
            return Err(Diagnostic::error(
                "Domain still has data products",
                format!(
                    "The database {database} still holds: {}. Destroy those data products first.",
                    names.join(", ")
                ),
            )
            .into());
        }
        if spec.create_bucket && !spec.force_destroy {
            super::storage::ensure_no_objects(client, &spec.bucket, "").await?;
        }
        client
            .call(Service::Glue, "DeleteDatabase", || {
                client.glue().delete_database().name(&database).send()
            })
            .await
            .or_gone()
            .map_err(|e| aws_diag(Action::Delete, format!("Glue database {database}"), &e))?;
        // Only a bucket this resource created is deregistered and deleted: an existing bucket
        // (and its registration) belongs to someone else.
        if spec.create_bucket {
            client
                .call(Service::LakeFormation, "DeregisterResource", || {
                    client
                        .lakeformation()
                        .deregister_resource()
                        .resource_arn(spec.bucket_arn())
                        .send()
                })
                .await
                .or_gone()
                .map_err(|e| aws_diag(Action::Deregister, format!("s3://{}/", spec.bucket), &e))?;
            super::storage::delete_bucket(client, &spec.bucket).await?;
        }
        Ok(())
    }
}
