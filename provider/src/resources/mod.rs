//! The resources: one file each. A resource sees typed models and the AWS layer; it never sees
//! gRPC or msgpack.

pub mod data_product;
pub mod domain;
pub mod grants;
pub mod guardrail;
pub mod lake_settings;
pub mod lf_tag;
pub mod ontology;
pub mod product_grant;
pub mod product_link;
pub mod storage;
pub mod tag_grant;

use crate::aws::{AwsError, Clients};
use crate::framework::value::Attr;
use crate::framework::{Diagnostic, Diagnostics};
use serde::{Deserialize, Serialize};

/// The configured provider as resources see it: its AWS clients (it derefs to them), and what
/// lives exactly as long as the configured provider: the LF-tags planned in it.
pub struct Mesh {
    aws: Clients,
    planned_tags: ontology::PlannedTags,
}

impl Mesh {
    /// A configured provider with these clients.
    pub fn new(aws: Clients) -> Mesh {
        Mesh {
            aws,
            planned_tags: ontology::PlannedTags::default(),
        }
    }

    /// The LF-tags `mesh_lf_tag` resources planned in this provider configuration.
    pub fn planned_tags(&self) -> &ontology::PlannedTags {
        &self.planned_tags
    }
}

impl std::ops::Deref for Mesh {
    type Target = Clients;
    fn deref(&self) -> &Clients {
        &self.aws
    }
}

/// `owner { team, email }`, of a domain or a product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Owner {
    /// Owning team.
    pub team: Attr<String>,
    /// Contact address.
    pub email: Attr<String>,
}

/// The Glue database `name` of the caller's catalog; `None` when there is none.
pub async fn find_database(
    client: &Mesh,
    name: &str,
) -> Result<Option<aws_sdk_glue::types::Database>, Diagnostics> {
    use crate::aws::{Found as _, Service};
    let out = client
        .call(Service::Glue, "GetDatabase", || {
            client.glue().get_database().name(name).send()
        })
        .await
        .found()
        .map_err(|e| aws_diag(format!("Cannot read Glue database {name}"), &e))?;
    Ok(out.and_then(|o| o.database))
}

/// An AWS failure as a diagnostic: the summary says what the provider was doing, the detail
/// carries the service, operation, AWS error code and message.
pub fn aws_diag(doing: impl Into<String>, err: &AwsError) -> Diagnostics {
    Diagnostic::error(doing, err.to_string()).into()
}

/// A value the plan guarantees to be known (required, or computed before apply): a missing one
/// is a provider bug, reported as such rather than panicking.
pub fn known<'a, T>(attr: &'a Attr<T>, name: &str) -> Result<&'a T, Diagnostics> {
    attr.known().ok_or_else(|| {
        Diagnostic::provider_bug(format!("`{name}` should be known at this point but is not"))
            .into()
    })
}
