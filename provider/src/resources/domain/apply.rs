//! Making a domain exist: the bucket, its Lake Formation registration, and the Glue database.

use super::*;
use crate::resources::Action;

impl Domain {
    /// The tag uses of a model, with their paths, for ontology checks.
    pub(super) fn tag_uses(m: &Model) -> Vec<TagUse> {
        ontology::declared_uses(
            AttributePath::attr("name"),
            &m.name,
            AttributePath::attr("lf_tags"),
            &m.lf_tags,
        )
    }

    pub(super) async fn ensure_bucket(
        &self,
        client: &Mesh,
        spec: &Spec,
    ) -> Result<(), Diagnostics> {
        let s3 = client.s3();
        if !spec.create_bucket {
            let found = client
                .call(Service::S3, "HeadBucket", || {
                    s3.head_bucket().bucket(&spec.bucket).send()
                })
                .await
                .found()
                .map_err(|e| aws_diag(Action::Check, format!("bucket {}", spec.bucket), &e))?;
            return match found {
                Some(_) => Ok(()),
                None => Err(Diagnostic::error(
                    "Bucket not found",
                    format!(
                        "The bucket {:?} does not exist; create it, or set bucket.create = true.",
                        spec.bucket
                    ),
                )
                .at(AttributePath::attr("bucket").then_attr("name"))
                .into()),
            };
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
                    Action::Create,
                    format!("bucket {}", spec.bucket),
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
                Action::Update,
                format!("versioning of bucket {}", spec.bucket),
                &e,
            )
        })?;
        e.map_err(|e| {
            aws_diag(
                Action::Update,
                format!("default encryption of bucket {}", spec.bucket),
                &e,
            )
        })?;
        p.map_err(|e| {
            aws_diag(
                Action::Update,
                format!("the public access block of bucket {}", spec.bucket),
                &e,
            )
        })?;
        Ok(())
    }
}

impl Domain {
    pub(super) async fn register(&self, client: &Mesh, spec: &Spec) -> Result<(), Diagnostics> {
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
                Action::Register,
                format!("s3://{}/ with Lake Formation", spec.bucket),
                &e,
            )),
        }
    }

    /// Creates the database, or brings an existing one of this domain back to the spec.
    pub(super) async fn ensure_database(
        &self,
        client: &Mesh,
        spec: &Spec,
    ) -> Result<String, Diagnostics> {
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
                let existing = crate::resources::find_database(client, &spec.database()).await?;
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
                    Action::Create,
                    format!("Glue database {}", spec.database()),
                    &e,
                ))
            }
        }
        let db = crate::resources::find_database(client, &spec.database()).await?;
        Ok(db.and_then(|d| d.catalog_id).unwrap_or_default())
    }

    pub(super) async fn update_database(
        &self,
        client: &Mesh,
        spec: &Spec,
    ) -> Result<(), Diagnostics> {
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
                    Action::Update,
                    format!("Glue database {}", spec.database()),
                    &e,
                )
            })
    }
}
