//! S3 helpers shared by resources that keep data: the one place that decides whether a bucket
//! or prefix holds data, and that deletes objects (only when the user said `force_destroy`).

use super::aws_diag;
use super::Mesh;
use crate::aws::Found as _;
use crate::aws::Service;
use crate::framework::{Diagnostic, Diagnostics};
use crate::resources::Action;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

/// Fails when `bucket` holds any current object under `prefix` ("" for the whole bucket),
/// naming one of them, so destroy stops before deleting anything.
pub async fn ensure_no_objects(
    client: &Mesh,
    bucket: &str,
    prefix: &str,
) -> Result<(), Diagnostics> {
    let out = client
        .call(Service::S3, "ListObjectsV2", || {
            client
                .s3()
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .max_keys(1)
                .send()
        })
        .await
        .found()
        .map_err(|e| aws_diag(Action::List, format!("s3://{bucket}/{prefix}"), &e))?;
    // No bucket holds no data.
    let first = out.and_then(|o| {
        o.contents
            .unwrap_or_default()
            .first()
            .and_then(|o| o.key.clone())
    });
    match first {
        None => Ok(()),
        Some(key) => Err(Diagnostic::error(
            "Data would be deleted",
            format!(
                "s3://{bucket}/{prefix} still holds data (for example s3://{bucket}/{key}). Nothing was deleted. Move or delete the data, or set force_destroy = true (and apply it) to delete it with the resource."
            ),
        )
        .into()),
    }
}

/// Deletes every object version and delete marker under `prefix`, in batches of 1,000.
pub async fn delete_prefix(client: &Mesh, bucket: &str, prefix: &str) -> Result<(), Diagnostics> {
    loop {
        let page = client
            .call(Service::S3, "ListObjectVersions", || {
                client
                    .s3()
                    .list_object_versions()
                    .bucket(bucket)
                    .prefix(prefix)
                    .max_keys(1000)
                    .send()
            })
            .await;
        // No bucket: nothing under the prefix.
        let Some(page) = page
            .found()
            .map_err(|e| aws_diag(Action::List, format!("s3://{bucket}/{prefix}"), &e))?
        else {
            return Ok(());
        };
        let versions = page
            .versions
            .unwrap_or_default()
            .into_iter()
            .map(|v| (v.key, v.version_id));
        let markers = page
            .delete_markers
            .unwrap_or_default()
            .into_iter()
            .map(|m| (m.key, m.version_id));
        let ids: Vec<ObjectIdentifier> = versions
            .chain(markers)
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .set_key(key)
                    .set_version_id(version)
                    .build()
                    .ok()
            })
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let delete = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()
            .map_err(|e| Diagnostics::from(Diagnostic::provider_bug(e)))?;
        let out = client
            .call(Service::S3, "DeleteObjects", || {
                client
                    .s3()
                    .delete_objects()
                    .bucket(bucket)
                    .delete(delete.clone())
                    .send()
            })
            .await
            .map_err(|e| {
                aws_diag(
                    Action::Delete,
                    format!("objects under s3://{bucket}/{prefix}"),
                    &e,
                )
            })?;
        if let Some(err) = out.errors.unwrap_or_default().first() {
            return Err(Diagnostic::error(
                format!("Cannot delete objects under s3://{bucket}/{prefix}"),
                format!(
                    "{}: {}",
                    err.code.as_deref().unwrap_or("error"),
                    err.message.as_deref().unwrap_or("")
                ),
            )
            .into());
        }
    }
}

/// Deletes a bucket with everything left in it (versions and delete markers included); a bucket
/// already gone is success.
pub async fn delete_bucket(client: &Mesh, bucket: &str) -> Result<(), Diagnostics> {
    delete_prefix(client, bucket, "").await?;
    client
        .call(Service::S3, "DeleteBucket", || {
            client.s3().delete_bucket().bucket(bucket).send()
        })
        .await
        .or_gone()
        .map_err(|e| aws_diag(Action::Delete, format!("bucket {bucket}"), &e))
}
