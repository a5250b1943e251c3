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
        .map_err(|e| aws_diag(Action::Read, format!("Glue database {name}"), &e))?;
    Ok(out.and_then(|o| o.database))
}

/// What the provider was doing when AWS failed: the verb of every AWS error's summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Creating an object.
    Create,
    /// Reading one object.
    Read,
    /// Listing objects.
    List,
    /// Changing an object in place.
    Update,
    /// Deleting an object.
    Delete,
    /// Attaching a policy or tags.
    Attach,
    /// Detaching a policy or tags.
    Detach,
    /// Granting permissions.
    Grant,
    /// Revoking permissions.
    Revoke,
    /// Registering a location with Lake Formation.
    Register,
    /// Deregistering a location.
    Deregister,
    /// Checking that something exists or holds.
    Check,
    /// Putting tags on an object.
    Tag,
    /// Taking tags off an object.
    Untag,
    /// Writing an object that is replaced whole.
    Write,
}

impl Action {
    /// The verb, as the summary says it.
    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Read => "read",
            Action::List => "list",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Attach => "attach",
            Action::Detach => "detach",
            Action::Grant => "grant",
            Action::Revoke => "revoke",
            Action::Register => "register",
            Action::Deregister => "deregister",
            Action::Check => "check",
            Action::Tag => "tag",
            Action::Untag => "untag",
            Action::Write => "write",
        }
    }
}

/// The one shape of an AWS failure, after terraform-provider-aws's standard problem message:
/// the summary says `Cannot <action> <what>`, where `what` names the object and its id (for
/// example `table commerce_products.orders`); the detail carries the service, operation, AWS
/// error code and message.
pub fn aws_diag(action: Action, what: impl std::fmt::Display, err: &AwsError) -> Diagnostics {
    aws_problem(action, what, err).into()
}

/// [`aws_diag`] as one diagnostic, to point at an attribute.
pub fn aws_problem(action: Action, what: impl std::fmt::Display, err: &AwsError) -> Diagnostic {
    Diagnostic::error(format!("Cannot {} {what}", action.verb()), err.to_string())
}

impl Mesh {
    /// The caller's account id (asked once per configured provider), or the error saying it
    /// cannot be known.
    pub async fn account(&self) -> Result<String, Diagnostics> {
        self.account_id()
            .await
            .map_err(|e| aws_diag(Action::Read, "the caller's account id", &e))
    }
}

/// A value the plan guarantees to be known (required, or computed before apply): a missing one
/// is a provider bug, reported as such rather than panicking.
pub fn known<'a, T>(attr: &'a Attr<T>, name: &str) -> Result<&'a T, Diagnostics> {
    attr.known().ok_or_else(|| {
        Diagnostic::provider_bug(format!("`{name}` should be known at this point but is not"))
            .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::ErrorKind;

    #[test]
    fn aws_failures_say_what_was_being_done_to_what_and_what_aws_answered() {
        let err = AwsError {
            service: "glue",
            operation: "CreateTable",
            code: Some("AccessDeniedException".into()),
            message: "not allowed".into(),
            status: Some(403),
            kind: ErrorKind::AccessDenied,
        };
        let d = aws_problem(Action::Create, "table sales_products.orders", &err);
        assert_eq!(d.summary, "Cannot create table sales_products.orders");
        assert_eq!(
            d.detail,
            "glue CreateTable failed (AccessDeniedException, HTTP 403): not allowed"
        );
        let all = aws_diag(Action::Revoke, "Lake Formation permissions", &err);
        assert!(all
            .to_string()
            .contains("Cannot revoke Lake Formation permissions"));
    }
}
