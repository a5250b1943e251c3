//! Reading (and, out of band, changing) AWS state in the emulator through the AWS SDK: what
//! tests check after Terraform ran.
//!
//! Every helper panics on an unexpected error, naming the operation and what it was about;
//! "not found" answers come back as `None`/`false`/empty.

use std::collections::BTreeMap;

use aws_sdk_glue::types::{Database, RegistryId, SchemaId, SchemaVersionNumber, Table};
use aws_sdk_lakeformation::types::{
    DatabaseResource, LfTagPair, Resource, ResourceInfo, TableResource, TableWithColumnsResource,
};
use aws_sdk_s3::types::PublicAccessBlockConfiguration;

use crate::{s3_client, Emulator, ACCOUNT_ID};
use aws_sdk_glue::error::{ProvideErrorMetadata, SdkError};

/// LF-tags on a resource: key to values (values sorted).
pub type LfTags = BTreeMap<String, Vec<String>>;

/// Serializes out-of-band LF-tag definition changes within this process (tests share the
/// emulator and some keys, like `domain`).
static LF_TAG_DEFINITIONS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn tags_of(pairs: &[LfTagPair]) -> LfTags {
    let mut tags = LfTags::new();
    for pair in pairs {
        let values = tags.entry(pair.tag_key().to_string()).or_default();
        values.extend(pair.tag_values().iter().cloned());
        values.sort();
        values.dedup();
    }
    tags
}

/// The text of the first `<tag>` element in `xml`.
fn xml_element(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].to_string())
}

/// `[("k", "v")]` as [`LfTags`], for comparisons.
pub fn lf_tags(pairs: &[(&str, &str)]) -> LfTags {
    let mut tags = LfTags::new();
    for (k, v) in pairs {
        tags.entry(k.to_string()).or_default().push(v.to_string());
    }
    for values in tags.values_mut() {
        values.sort();
    }
    tags
}

/// The answer of a read, `None` when AWS says there is no such entity (EntityNotFoundException);
/// any other error fails the test, naming `what` (e.g. `glue:GetTable(db.t)`).
pub fn unless_not_found<T, E, R>(result: Result<T, SdkError<E, R>>, what: &str) -> Option<T>
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match result {
        Ok(out) => Some(out),
        Err(e)
            if e.as_service_error().and_then(|s| s.code()) == Some("EntityNotFoundException") =>
        {
            None
        }
        Err(e) => panic!("{what} failed: {e:?}"),
    }
}

impl Emulator {
    /// A Glue client for checking AWS state.
    pub fn glue(&self) -> aws_sdk_glue::Client {
        aws_sdk_glue::Client::new(&self.sdk_config())
    }

    /// An S3 client (path-style addressing) for checking AWS state.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        s3_client(&self.sdk_config())
    }

    // ---- Glue Data Catalog ------------------------------------------------------------------

    /// The Glue database `name`, or `None` if there is none.
    pub async fn get_database(&self, name: &str) -> Option<Database> {
        unless_not_found(
            self.glue().get_database().name(name).send().await,
            &format!("glue:GetDatabase({name})"),
        )
        .and_then(|out| out.database)
    }

    /// The Glue table `database.name`, or `None` if there is none (or no such database).
    pub async fn get_table(&self, database: &str, name: &str) -> Option<Table> {
        unless_not_found(
            self.glue()
                .get_table()
                .database_name(database)
                .name(name)
                .send()
                .await,
            &format!("glue:GetTable({database}.{name})"),
        )
        .and_then(|out| out.table)
    }

    /// The names of the tables in `database` (empty if there is no such database).
    pub async fn table_names(&self, database: &str) -> Vec<String> {
        unless_not_found(
            self.glue()
                .get_tables()
                .database_name(database)
                .send()
                .await,
            &format!("glue:GetTables({database})"),
        )
        .map(|out| {
            out.table_list()
                .iter()
                .map(|t| t.name().to_string())
                .collect()
        })
        .unwrap_or_default()
    }

    /// Creates a minimal Glue table `database.name` out of band.
    pub async fn create_table(&self, database: &str, name: &str) {
        let input = aws_sdk_glue::types::TableInput::builder()
            .name(name)
            .table_type("EXTERNAL_TABLE")
            .build()
            .expect("TableInput");
        self.glue()
            .create_table()
            .database_name(database)
            .table_input(input)
            .send()
            .await
            .unwrap_or_else(|e| panic!("glue:CreateTable({database}.{name}) failed: {e:?}"));
    }

    /// Deletes the Glue table `database.name` out of band.
    pub async fn delete_table(&self, database: &str, name: &str) {
        self.glue()
            .delete_table()
            .database_name(database)
            .name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("glue:DeleteTable({database}.{name}) failed: {e:?}"));
    }

    // ---- Glue Schema Registry ---------------------------------------------------------------

    /// Creates the schema registry `name` unless it exists.
    pub async fn ensure_registry(&self, name: &str) {
        let glue = self.glue();
        let id = RegistryId::builder().registry_name(name).build();
        if glue.get_registry().registry_id(id).send().await.is_ok() {
            return;
        }
        match glue.create_registry().registry_name(name).send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_already_exists_exception()) => {}
            Err(e) => panic!("glue:CreateRegistry({name}) failed: {e:?}"),
        }
    }

    /// The schema `registry/schema`, or `None` if there is none.
    pub async fn get_schema(
        &self,
        registry: &str,
        schema: &str,
    ) -> Option<aws_sdk_glue::operation::get_schema::GetSchemaOutput> {
        let id = SchemaId::builder()
            .registry_name(registry)
            .schema_name(schema)
            .build();
        unless_not_found(
            self.glue().get_schema().schema_id(id).send().await,
            &format!("glue:GetSchema({registry}/{schema})"),
        )
    }

    /// The version numbers of schema `registry/schema`, ascending; `None` if there is no such
    /// schema. (moto has no ListSchemaVersions: versions 1..=latest are read one by one.)
    pub async fn list_schema_versions(&self, registry: &str, schema: &str) -> Option<Vec<i64>> {
        let latest = self
            .get_schema(registry, schema)
            .await?
            .latest_schema_version()
            .unwrap_or(0);
        let mut versions = Vec::new();
        for n in 1..=latest {
            if self.schema_definition(registry, schema, n).await.is_some() {
                versions.push(n);
            }
        }
        Some(versions)
    }

    /// The definition of version `version` of schema `registry/schema`, if there is one.
    pub async fn schema_definition(
        &self,
        registry: &str,
        schema: &str,
        version: i64,
    ) -> Option<String> {
        let id = SchemaId::builder()
            .registry_name(registry)
            .schema_name(schema)
            .build();
        let number = SchemaVersionNumber::builder()
            .version_number(version)
            .build();
        unless_not_found(
            self.glue()
                .get_schema_version()
                .schema_id(id)
                .schema_version_number(number)
                .send()
                .await,
            &format!("glue:GetSchemaVersion({registry}/{schema} v{version})"),
        )
        .and_then(|out| out.schema_definition)
    }

    // ---- Lake Formation ---------------------------------------------------------------------

    /// Makes LF-tag `key` exist with at least `values` (creating it or adding values), without
    /// removing anything: for keys shared by tests running in parallel, like `domain`.
    pub async fn ensure_lf_tag_values(&self, key: &str, values: &[&str]) {
        let _guard = LF_TAG_DEFINITIONS.lock().await;
        let lf = self.lakeformation();
        let existing = self.lf_tag_values(key).await.unwrap_or_default();
        let missing: Vec<String> = values
            .iter()
            .filter(|v| !existing.iter().any(|e| e == *v))
            .map(|v| v.to_string())
            .collect();
        if missing.is_empty() {
            return;
        }
        let answer = if existing.is_empty() {
            lf.create_lf_tag()
                .tag_key(key)
                .set_tag_values(Some(missing))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
        } else {
            lf.update_lf_tag()
                .tag_key(key)
                .set_tag_values_to_add(Some(missing))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
        };
        if let Err(e) = answer {
            panic!("ensuring LF-tag {key} has {values:?} failed: {e}");
        }
    }

    /// The raw GetResourceLFTags answer for `resource`; `None` when moto answers with a server
    /// error, which it does for a database or table that never had tags.
    pub async fn resource_lf_tags(
        &self,
        resource: Resource,
    ) -> Option<aws_sdk_lakeformation::operation::get_resource_lf_tags::GetResourceLfTagsOutput>
    {
        let what = format!("{resource:?}");
        match self
            .lakeformation()
            .get_resource_lf_tags()
            .resource(resource)
            .send()
            .await
        {
            Ok(out) => Some(out),
            Err(e)
                if e.raw_response()
                    .is_some_and(|r| r.status().is_server_error()) =>
            {
                None
            }
            Err(e) => panic!("lakeformation:GetResourceLFTags({what}) failed: {e:?}"),
        }
    }

    /// The LF-tags on database `name` (empty when it has none).
    pub async fn database_lf_tags(&self, name: &str) -> LfTags {
        let resource = Resource::builder()
            .database(
                DatabaseResource::builder()
                    .catalog_id(ACCOUNT_ID)
                    .name(name)
                    .build()
                    .expect("DatabaseResource"),
            )
            .build();
        self.resource_lf_tags(resource)
            .await
            .map(|out| tags_of(out.lf_tag_on_database()))
            .unwrap_or_default()
    }

    /// The table-level LF-tags on `database.table` (empty when it has none).
    pub async fn table_lf_tags(&self, database: &str, table: &str) -> LfTags {
        let resource = Resource::builder()
            .table(
                TableResource::builder()
                    .catalog_id(ACCOUNT_ID)
                    .database_name(database)
                    .name(table)
                    .build()
                    .expect("TableResource"),
            )
            .build();
        self.resource_lf_tags(resource)
            .await
            .map(|out| tags_of(out.lf_tags_on_table()))
            .unwrap_or_default()
    }

    /// The LF-tags on column `column` of `database.table` (empty when it has none).
    pub async fn column_lf_tags(&self, database: &str, table: &str, column: &str) -> LfTags {
        let resource = Resource::builder()
            .table_with_columns(
                TableWithColumnsResource::builder()
                    .catalog_id(ACCOUNT_ID)
                    .database_name(database)
                    .name(table)
                    .column_names(column)
                    .build()
                    .expect("TableWithColumnsResource"),
            )
            .build();
        let Some(out) = self.resource_lf_tags(resource).await else {
            return LfTags::new();
        };
        out.lf_tags_on_columns()
            .iter()
            .filter(|c| c.name() == Some(column))
            .map(|c| tags_of(c.lf_tags()))
            .next()
            .unwrap_or_default()
    }

    /// Removes LF-tag `key` (with the values it has there) from `resource` out of band.
    async fn remove_lf_tag(&self, resource: Resource, current: &LfTags, key: &str) {
        let values = current
            .get(key)
            .unwrap_or_else(|| panic!("LF-tag {key} is not on {resource:?}: {current:?}"));
        let pair = LfTagPair::builder()
            .catalog_id(ACCOUNT_ID)
            .tag_key(key)
            .set_tag_values(Some(values.clone()))
            .build()
            .expect("LfTagPair");
        self.lakeformation()
            .remove_lf_tags_from_resource()
            .resource(resource.clone())
            .lf_tags(pair)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!("lakeformation:RemoveLFTagsFromResource({key} on {resource:?}): {e:?}")
            });
    }

    /// Removes LF-tag `key` from database `name` out of band.
    pub async fn remove_database_lf_tag(&self, name: &str, key: &str) {
        let current = self.database_lf_tags(name).await;
        let resource = Resource::builder()
            .database(
                DatabaseResource::builder()
                    .catalog_id(ACCOUNT_ID)
                    .name(name)
                    .build()
                    .expect("DatabaseResource"),
            )
            .build();
        self.remove_lf_tag(resource, &current, key).await;
    }

    /// Removes table-level LF-tag `key` from `database.table` out of band.
    pub async fn remove_table_lf_tag(&self, database: &str, table: &str, key: &str) {
        let current = self.table_lf_tags(database, table).await;
        let resource = Resource::builder()
            .table(
                TableResource::builder()
                    .catalog_id(ACCOUNT_ID)
                    .database_name(database)
                    .name(table)
                    .build()
                    .expect("TableResource"),
            )
            .build();
        self.remove_lf_tag(resource, &current, key).await;
    }

    /// The Lake Formation registration of `resource_arn` (e.g. a bucket ARN), if registered.
    pub async fn registered_resource(&self, resource_arn: &str) -> Option<ResourceInfo> {
        unless_not_found(
            self.lakeformation()
                .describe_resource()
                .resource_arn(resource_arn)
                .send()
                .await,
            &format!("lakeformation:DescribeResource({resource_arn})"),
        )
        .and_then(|out| out.resource_info)
    }

    // ---- S3 ---------------------------------------------------------------------------------

    /// Creates bucket `name` out of band.
    pub async fn create_bucket(&self, name: &str) {
        self.s3()
            .create_bucket()
            .bucket(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("s3:CreateBucket({name}) failed: {e:?}"));
    }

    /// True if bucket `name` exists.
    pub async fn bucket_exists(&self, name: &str) -> bool {
        match self.s3().head_bucket().bucket(name).send().await {
            Ok(_) => true,
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => false,
            Err(e) => panic!("s3:HeadBucket({name}) failed: {e:?}"),
        }
    }

    /// The versioning status of bucket `name` (`Enabled`, `Suspended`), `None` if never set.
    ///
    /// moto answers with a `<GetBucketVersioningResponse>` root where S3 (and the SDK) use
    /// `<VersioningConfiguration>`; the SDK then fails to parse, so the status is read from the
    /// raw answer.
    pub async fn bucket_versioning(&self, name: &str) -> Option<String> {
        match self.s3().get_bucket_versioning().bucket(name).send().await {
            Ok(out) => out.status().map(|s| s.as_str().to_string()),
            Err(e) => {
                let raw = e
                    .raw_response()
                    .filter(|r| r.status().is_success())
                    .and_then(|r| r.body().bytes())
                    .map(|b| String::from_utf8_lossy(b).into_owned());
                let Some(raw) = raw else {
                    panic!("s3:GetBucketVersioning({name}) failed: {e:?}");
                };
                xml_element(&raw, "Status")
            }
        }
    }

    /// The default encryption algorithms of bucket `name` (e.g. `["AES256"]`); empty if none.
    pub async fn bucket_encryption(&self, name: &str) -> Vec<String> {
        match self.s3().get_bucket_encryption().bucket(name).send().await {
            Ok(out) => out
                .server_side_encryption_configuration()
                .map(|c| c.rules())
                .unwrap_or_default()
                .iter()
                .filter_map(|r| r.apply_server_side_encryption_by_default())
                .map(|d| d.sse_algorithm().as_str().to_string())
                .collect(),
            Err(e)
                if e.as_service_error().and_then(|s| {
                    aws_sdk_s3::error::ProvideErrorMetadata::code(s).map(String::from)
                }) == Some("ServerSideEncryptionConfigurationNotFoundError".to_string()) =>
            {
                Vec::new()
            }
            Err(e) => panic!("s3:GetBucketEncryption({name}) failed: {e:?}"),
        }
    }

    /// The public access block of bucket `name`, if one is set.
    pub async fn public_access_block(&self, name: &str) -> Option<PublicAccessBlockConfiguration> {
        match self
            .s3()
            .get_public_access_block()
            .bucket(name)
            .send()
            .await
        {
            Ok(out) => out.public_access_block_configuration,
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => None,
            Err(e) => panic!("s3:GetPublicAccessBlock({name}) failed: {e:?}"),
        }
    }

    /// Writes object `bucket/key` out of band.
    pub async fn put_object(&self, bucket: &str, key: &str, body: &[u8]) {
        self.s3()
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.to_vec().into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("s3:PutObject({bucket}/{key}) failed: {e:?}"));
    }

    /// The bytes of object `bucket/key`, or `None` if there is no such object (or bucket).
    pub async fn get_object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        match self.s3().get_object().bucket(bucket).key(key).send().await {
            Ok(out) => Some(
                out.body
                    .collect()
                    .await
                    .unwrap_or_else(|e| panic!("reading s3://{bucket}/{key}: {e:?}"))
                    .into_bytes()
                    .to_vec(),
            ),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => None,
            Err(e) => panic!("s3:GetObject({bucket}/{key}) failed: {e:?}"),
        }
    }

    /// The keys under `prefix` in `bucket` (current versions), sorted; empty if no bucket.
    pub async fn list_keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let answer = self
                .s3()
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await;
            let out = match answer {
                Ok(out) => out,
                Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                    return Vec::new()
                }
                Err(e) => panic!("s3:ListObjectsV2({bucket}/{prefix}) failed: {e:?}"),
            };
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(String::from)),
            );
            match out.next_continuation_token() {
                Some(next) if out.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => break,
            }
        }
        keys.sort();
        keys
    }
}
