//! `mesh_domain`: a domain's home in its account: the S3 bucket (created or existing)
//! registered with Lake Formation, the Glue database `<domain>_products` tagged
//! `domain=<name>`, Lake Formation-only access, and the domain's owner.

use super::ontology::{self, Ontology, TagUse};
use super::Mesh;
use super::{aws_diag, known};
use super::{grants, Owner};
use crate::aws::{AwsError, Service};
use crate::framework::value::{Attr, Value};
use crate::framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Failure, NestedBlock, Nesting,
    PlanRequest, Private, Resource, Schema, Type, Validator,
};
use crate::rules::{check_domain_name as check_name, database_name, IAM_ALLOWED_PRINCIPALS};
use async_trait::async_trait;
use aws_sdk_glue::types::DatabaseInput;
use aws_sdk_lakeformation::types::{DataLakePrincipal, DatabaseResource, Resource as LfResource};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

// Database parameters where the domain keeps what import needs to find again.
const P_DOMAIN: &str = "mesh:domain";
const P_TEAM: &str = "mesh:owner_team";
const P_EMAIL: &str = "mesh:owner_email";
const P_BUCKET: &str = "mesh:bucket";
const P_BUCKET_CREATED: &str = "mesh:bucket_created";
const P_ROLE: &str = "mesh:registration_role_arn";

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

/// Everything a domain's operations need, taken from a model once.
#[derive(Debug, Clone)]
struct Spec {
    name: String,
    description: Option<String>,
    team: String,
    email: String,
    bucket: String,
    create_bucket: bool,
    force_destroy: bool,
    role: Option<String>,
    tags: BTreeMap<String, String>,
    lake_formation_only: bool,
}

impl Spec {
    fn from(m: &Model) -> Result<Self, Diagnostics> {
        let owner = known(&m.owner, "owner")?;
        let bucket = known(&m.bucket, "bucket")?;
        let name = known(&m.name, "name")?.clone();
        let tags = ontology::declared(&m.lf_tags, &name);
        Ok(Self {
            description: m.description.known().cloned(),
            team: known(&owner.team, "owner.team")?.clone(),
            email: known(&owner.email, "owner.email")?.clone(),
            bucket: known(&bucket.name, "bucket.name")?.clone(),
            create_bucket: bucket.create.known().copied().unwrap_or(true),
            force_destroy: bucket.force_destroy.known().copied().unwrap_or(false),
            role: m.registration_role_arn.known().cloned(),
            tags,
            lake_formation_only: m.lake_formation_only.known().copied().unwrap_or(true),
            name,
        })
    }

    fn database(&self) -> String {
        database_name(&self.name)
    }

    fn bucket_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.bucket)
    }

    fn parameters(&self) -> std::collections::HashMap<String, String> {
        let mut p = std::collections::HashMap::from([
            (P_DOMAIN.to_string(), self.name.clone()),
            (P_TEAM.to_string(), self.team.clone()),
            (P_EMAIL.to_string(), self.email.clone()),
            (P_BUCKET.to_string(), self.bucket.clone()),
            (P_BUCKET_CREATED.to_string(), self.create_bucket.to_string()),
        ]);
        if let Some(role) = &self.role {
            p.insert(P_ROLE.to_string(), role.clone());
        }
        p
    }

    fn database_input(&self) -> Result<DatabaseInput, Diagnostics> {
        DatabaseInput::builder()
            .name(self.database())
            .set_description(self.description.clone())
            .location_uri(format!("s3://{}/", self.bucket))
            .set_parameters(Some(self.parameters()))
            // Empty, not absent: an absent list lets the account default (IAM_ALLOWED_PRINCIPALS
            // ALL on every new table) apply, which makes IAM policies bypass Lake Formation.
            .set_create_table_default_permissions(Some(Vec::new()))
            .build()
            .map_err(|e| Diagnostic::provider_bug(e).into())
    }

    /// The state for this spec in `catalog_id`.
    fn state(&self, catalog_id: &str, prior: &Model) -> Model {
        Model {
            id: Attr::Known(self.name.clone()),
            name: Attr::Known(self.name.clone()),
            description: self.description.clone().into(),
            owner: Attr::Known(Owner {
                team: Attr::Known(self.team.clone()),
                email: Attr::Known(self.email.clone()),
            }),
            bucket: Attr::Known(Bucket {
                name: Attr::Known(self.bucket.clone()),
                create: Attr::Known(self.create_bucket),
                force_destroy: Attr::Known(self.force_destroy),
            }),
            registration_role_arn: self.role.clone().into(),
            lf_tags: prior.lf_tags.clone(),
            lake_formation_only: Attr::Known(self.lake_formation_only),
            database_name: Attr::Known(self.database()),
            location: Attr::Known(format!("s3://{}/", self.bucket)),
            bucket_arn: Attr::Known(self.bucket_arn()),
            catalog_id: Attr::Known(catalog_id.to_string()),
        }
    }
}

fn db_resource(catalog_id: &str, database: &str) -> Result<LfResource, Diagnostics> {
    let db = DatabaseResource::builder()
        .catalog_id(catalog_id)
        .name(database)
        .build()
        .map_err(|e| Diagnostics::from(Diagnostic::provider_bug(e)))?;
    Ok(LfResource::builder().database(db).build())
}

fn db_resource_in_own_catalog(database: &str) -> Result<LfResource, Diagnostics> {
    let db = DatabaseResource::builder()
        .name(database)
        .build()
        .map_err(|e| Diagnostics::from(Diagnostic::provider_bug(e)))?;
    Ok(LfResource::builder().database(db).build())
}

/// What is wrong with an S3 bucket name, if anything.
pub fn check_bucket_name(name: &str) -> Option<String> {
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ends_ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    let looks_like_ip =
        name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok());
    if !(3..=63).contains(&name.len())
        || !valid_chars
        || !ends_ok
        || name.contains("..")
        || looks_like_ip
    {
        return Some(format!(
            "{name:?} is not a valid S3 bucket name: 3 to 63 lowercase letters, digits, hyphens and dots, starting and ending with a letter or digit."
        ));
    }
    None
}

fn check_email(email: &str) -> Option<String> {
    let ok = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.chars().any(char::is_whitespace);
    (!ok).then(|| format!("{email:?} is not an email address."))
}

impl Domain {
    /// The tag uses of a model, with their paths, for ontology checks.
    fn tag_uses(m: &Model) -> Vec<TagUse> {
        ontology::declared_uses(
            AttributePath::attr("name"),
            &m.name,
            AttributePath::attr("lf_tags"),
            &m.lf_tags,
        )
    }

    async fn ensure_bucket(&self, client: &Mesh, spec: &Spec) -> Result<(), Diagnostics> {
        let s3 = client.s3();
        if !spec.create_bucket {
            return client
                .call(Service::S3, "HeadBucket", || s3.head_bucket().bucket(&spec.bucket).send())
                .await
                .map(|_| ())
                .map_err(|e| {
                    if e.is_not_found() {
                        Diagnostic::error(
                            "Bucket not found",
                            format!("The bucket {:?} does not exist; create it, or set bucket.create = true.", spec.bucket),
                        )
                        .at(AttributePath::attr("bucket").then_attr("name"))
                        .into()
                    } else {
                        aws_diag(format!("Cannot check bucket {}", spec.bucket), &e)
                    }
                });
        }
        let mut create = s3.create_bucket().bucket(&spec.bucket);
        if client.region() != "us-east-1" {
            create = create.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                        client.region(),
                    ))
                    .build(),
            );
        }
        match client
            .call(Service::S3, "CreateBucket", || create.clone().send())
            .await
        {
            Ok(_) => {}
            // Ours already (a create that is completing an earlier, interrupted one).
            Err(e) if e.code.as_deref() == Some("BucketAlreadyOwnedByYou") => {}
            Err(e) => {
                return Err(aws_diag(
                    format!("Cannot create bucket {}", spec.bucket),
                    &e,
                ))
            }
        }
        let versioning = client.call(Service::S3, "PutBucketVersioning", || {
            s3.put_bucket_versioning()
                .bucket(&spec.bucket)
                .versioning_configuration(
                    aws_sdk_s3::types::VersioningConfiguration::builder()
                        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
        });
        let sse = aws_sdk_s3::types::ServerSideEncryptionByDefault::builder()
            .sse_algorithm(aws_sdk_s3::types::ServerSideEncryption::Aes256)
            .build()
            .map_err(|e| Diagnostics::from(Diagnostic::provider_bug(e)))?;
        let encryption_config = aws_sdk_s3::types::ServerSideEncryptionConfiguration::builder()
            .rules(
                aws_sdk_s3::types::ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(sse)
                    .build(),
            )
            .build()
            .map_err(|e| Diagnostics::from(Diagnostic::provider_bug(e)))?;
        let encryption = client.call(Service::S3, "PutBucketEncryption", || {
            s3.put_bucket_encryption()
                .bucket(&spec.bucket)
                .server_side_encryption_configuration(encryption_config.clone())
                .send()
        });
        let public = client.call(Service::S3, "PutPublicAccessBlock", || {
            s3.put_public_access_block()
                .bucket(&spec.bucket)
                .public_access_block_configuration(
                    aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .ignore_public_acls(true)
                        .block_public_policy(true)
                        .restrict_public_buckets(true)
                        .build(),
                )
                .send()
        });
        let (v, e, p) = futures::join!(versioning, encryption, public);
        v.map_err(|e| {
            aws_diag(
                format!("Cannot enable versioning on bucket {}", spec.bucket),
                &e,
            )
        })?;
        e.map_err(|e| {
            aws_diag(
                format!("Cannot set default encryption on bucket {}", spec.bucket),
                &e,
            )
        })?;
        p.map_err(|e| {
            aws_diag(
                format!("Cannot block public access to bucket {}", spec.bucket),
                &e,
            )
        })?;
        Ok(())
    }
}

fn is_gone<T>(r: &Result<T, AwsError>) -> bool {
    matches!(r, Err(e) if e.is_not_found())
}

/// What the read found, before it becomes a model.
struct Found {
    spec: Spec,
    catalog_id: String,
    tags: BTreeMap<String, String>,
    iam_allowed: bool,
}

impl Domain {
    async fn register(&self, client: &Mesh, spec: &Spec) -> Result<(), Diagnostics> {
        let result = client
            .call(Service::LakeFormation, "RegisterResource", || {
                let req = client
                    .lakeformation()
                    .register_resource()
                    .resource_arn(spec.bucket_arn());
                match &spec.role {
                    Some(role) => req.role_arn(role).send(),
                    None => req.use_service_linked_role(true).send(),
                }
            })
            .await;
        match result {
            // Registered already (by an earlier, interrupted create, or by the platform team).
            Ok(_) => Ok(()),
            Err(e) if e.is_already_exists() => Ok(()),
            Err(e) => Err(aws_diag(
                format!("Cannot register s3://{}/ with Lake Formation", spec.bucket),
                &e,
            )),
        }
    }

    /// Creates the database, or brings an existing one of this domain back to the spec.
    async fn ensure_database(&self, client: &Mesh, spec: &Spec) -> Result<String, Diagnostics> {
        let input = spec.database_input()?;
        let created = client
            .call(Service::Glue, "CreateDatabase", || {
                client
                    .glue()
                    .create_database()
                    .database_input(input.clone())
                    .send()
            })
            .await;
        match created {
            Ok(_) => {}
            Err(e) if e.is_already_exists() => {
                let existing = super::find_database(client, &spec.database()).await?;
                let owner = existing
                    .as_ref()
                    .and_then(|d| d.parameters.as_ref())
                    .and_then(|p| p.get(P_DOMAIN));
                if owner != Some(&spec.name) {
                    return Err(Diagnostic::error(
                        "Database already exists",
                        format!(
                            "The Glue database {:?} exists and does not belong to a mesh domain. Import it with `terraform import <address> {}` only if it is this domain's.",
                            spec.database(),
                            spec.name
                        ),
                    )
                    .into());
                }
                self.update_database(client, spec).await?;
            }
            Err(e) => {
                return Err(aws_diag(
                    format!("Cannot create Glue database {}", spec.database()),
                    &e,
                ))
            }
        }
        let db = super::find_database(client, &spec.database()).await?;
        Ok(db.and_then(|d| d.catalog_id).unwrap_or_default())
    }

    async fn update_database(&self, client: &Mesh, spec: &Spec) -> Result<(), Diagnostics> {
        let input = spec.database_input()?;
        client
            .call(Service::Glue, "UpdateDatabase", || {
                client
                    .glue()
                    .update_database()
                    .name(spec.database())
                    .database_input(input.clone())
                    .send()
            })
            .await
            .map(|_| ())
            .map_err(|e| {
                aws_diag(
                    format!("Cannot update Glue database {}", spec.database()),
                    &e,
                )
            })
    }

    async fn find(
        &self,
        client: &Mesh,
        name: &str,
        prior_bucket: Option<&str>,
    ) -> Result<Option<Found>, Diagnostics> {
        let database = database_name(name);
        let Some(db) = super::find_database(client, &database).await? else {
            return Ok(None);
        };
        let params = db.parameters.clone().unwrap_or_default();
        let catalog_id = db.catalog_id.clone().unwrap_or_default();
        let Some(bucket) = params
            .get(P_BUCKET)
            .cloned()
            .or(prior_bucket.map(str::to_string))
        else {
            return Ok(None);
        };
        let spec = Spec {
            name: name.to_string(),
            description: db.description.clone().filter(|d| !d.is_empty()),
            team: params.get(P_TEAM).cloned().unwrap_or_default(),
            email: params.get(P_EMAIL).cloned().unwrap_or_default(),
            create_bucket: params.get(P_BUCKET_CREATED).is_none_or(|v| v == "true"),
            force_destroy: false,
            role: params.get(P_ROLE).cloned(),
            tags: BTreeMap::new(),
            lake_formation_only: true,
            bucket,
        };
        let resource = db_resource(&catalog_id, &database)?;
        let tags = client.call(Service::LakeFormation, "GetResourceLFTags", || {
            client
                .lakeformation()
                .get_resource_lf_tags()
                .catalog_id(&catalog_id)
                .resource(resource.clone())
                .send()
        });
        let registration = client.call(Service::LakeFormation, "DescribeResource", || {
            client
                .lakeformation()
                .describe_resource()
                .resource_arn(spec.bucket_arn())
                .send()
        });
        let bucket = client.call(Service::S3, "HeadBucket", || {
            client.s3().head_bucket().bucket(&spec.bucket).send()
        });
        // The database named without a catalog id: grants made without one are stored so by
        // some implementations, and it means the caller's catalog either way.
        let own_db = db_resource_in_own_catalog(&database)?;
        let grants = client.call(Service::LakeFormation, "ListPermissions", || {
            client
                .lakeformation()
                .list_permissions()
                .resource(own_db.clone())
                .principal(
                    DataLakePrincipal::builder()
                        .data_lake_principal_identifier(IAM_ALLOWED_PRINCIPALS)
                        .build(),
                )
                .send()
        });
        let (tags, registration, bucket, grants) =
            futures::join!(tags, registration, bucket, grants);
        // The bucket or its registration gone: the domain is incomplete, plan to create it again
        // (create completes what is missing).
        if is_gone(&registration) || is_gone(&bucket) {
            return Ok(None);
        }
        registration.map_err(|e| {
            aws_diag(
                format!("Cannot read the registration of s3://{}/", spec.bucket),
                &e,
            )
        })?;
        bucket.map_err(|e| aws_diag(format!("Cannot read bucket {}", spec.bucket), &e))?;
        let tags = tags.map_err(|e| aws_diag(format!("Cannot read LF-tags of {database}"), &e))?;
        let grants =
            grants.map_err(|e| aws_diag(format!("Cannot list permissions on {database}"), &e))?;
        let default_grants = db.create_table_default_permissions.unwrap_or_default();
        let iam_allowed = !grants
            .principal_resource_permissions
            .unwrap_or_default()
            .is_empty()
            || default_grants.iter().any(|g| {
                g.principal
                    .as_ref()
                    .and_then(|p| p.data_lake_principal_identifier.as_deref())
                    == Some(IAM_ALLOWED_PRINCIPALS)
            });
        Ok(Some(Found {
            spec,
            catalog_id,
            tags: ontology::to_map(tags.lf_tag_on_database.unwrap_or_default()),
            iam_allowed,
        }))
    }
}

#[async_trait]
impl Resource for Domain {
    type Model = Model;
    type Client = Mesh;

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
                "Cannot list LF-tags to check the domain's tags",
                &e,
            )),
        }
    }

    async fn create(
        &self,
        client: &Mesh,
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let spec = Spec::from(&planned).map_err(Failure::clean)?;
        // Tags are checked again now: some implementations accept undefined keys silently.
        let ontology = Ontology::load(client)
            .await
            .map_err(|e| Failure::clean(aws_diag("Cannot list LF-tags", &e)))?;
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

    async fn read(
        &self,
        client: &Mesh,
        state: Model,
        _private: &mut Private,
    ) -> Result<Option<Model>, Diagnostics> {
        let name = known(&state.name, "name")?.clone();
        let prior_bucket = state.bucket.known().and_then(|b| b.name.known()).cloned();
        let Some(found) = self.find(client, &name, prior_bucket.as_deref()).await? else {
            return Ok(None);
        };
        let prior_lf_only = state.lake_formation_only.known().copied().unwrap_or(true);
        let mut model = found.spec.state(&found.catalog_id, &state);
        model.lf_tags = ontology::shown_tags(found.tags.clone(), &found.spec.name, &state.lf_tags);
        // Opted out (false): the grants are not this resource's business, so no drift either.
        model.lake_formation_only = Attr::Known(prior_lf_only && !found.iam_allowed);
        // Settings that live only in configuration carry over.
        if let (Attr::Known(b), Attr::Known(prior)) = (&mut model.bucket, &state.bucket) {
            b.force_destroy = prior.force_destroy;
        }
        Ok(Some(model))
    }

    async fn update(
        &self,
        client: &Mesh,
        prior: Model,
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let before = Spec::from(&prior).map_err(Failure::clean)?;
        let after = Spec::from(&planned).map_err(Failure::clean)?;
        let catalog_id = known(&prior.catalog_id, "catalog_id")
            .map_err(Failure::clean)?
            .clone();
        let keep_prior = |diags: Diagnostics| Failure::partial(prior.clone(), diags);
        if before.tags != after.tags || prior.lf_tags != planned.lf_tags {
            let ontology = Ontology::load(client)
                .await
                .map_err(|e| keep_prior(aws_diag("Cannot list LF-tags", &e)))?;
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
                .map_err(|e| keep_prior(aws_diag(format!("Cannot change the registration role of s3://{}/", after.bucket), &e)))?;
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
        let tables = client
            .call(Service::Glue, "GetTables", || {
                client.glue().get_tables().database_name(&database).send()
            })
            .await;
        match tables {
            Ok(out) => {
                let names: Vec<String> = out
                    .table_list
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
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(aws_diag(format!("Cannot list tables of {database}"), &e)),
        }
        if spec.create_bucket && !spec.force_destroy {
            super::storage::ensure_no_objects(client, &spec.bucket, "").await?;
        }
        match client
            .call(Service::Glue, "DeleteDatabase", || {
                client.glue().delete_database().name(&database).send()
            })
            .await
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                return Err(aws_diag(
                    format!("Cannot delete Glue database {database}"),
                    &e,
                ))
            }
        }
        // Only a bucket this resource created is deregistered and deleted: an existing bucket
        // (and its registration) belongs to someone else.
        if spec.create_bucket {
            match client
                .call(Service::LakeFormation, "DeregisterResource", || {
                    client
                        .lakeformation()
                        .deregister_resource()
                        .resource_arn(spec.bucket_arn())
                        .send()
                })
                .await
            {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    return Err(aws_diag(
                        format!("Cannot deregister s3://{}/", spec.bucket),
                        &e,
                    ))
                }
            }
            super::storage::delete_bucket(client, &spec.bucket).await?;
        }
        Ok(())
    }

    async fn import(&self, client: &Mesh, id: &str) -> Result<Model, Diagnostics> {
        if let Some(problem) = check_name(id) {
            return Err(Diagnostic::error(
                "Invalid import id",
                format!("{problem} Import a mesh_domain by its name."),
            )
            .into());
        }
        let Some(found) = self.find(client, id, None).await? else {
            return Err(Diagnostic::error(
                "Cannot import a missing domain",
                format!("No mesh domain {id:?} was found: its Glue database {} (with its bucket and registration) must exist.", database_name(id)),
            )
            .into());
        };
        let mut model = found.spec.state(&found.catalog_id, &Model::default());
        model.lf_tags = ontology::shown_tags(found.tags.clone(), &found.spec.name, &Attr::Null);
        model.lake_formation_only = Attr::Known(!found.iam_allowed);
        Ok(model)
    }
}
