//! Lake Formation grant mechanics, in one place: a typed [`Grant`] with exact equality, reading
//! grants back ([`list`], [`owned`]), and changing them without an access gap ([`apply_change`]).
//!
//! The rules every grant resource follows:
//! - a resource owns exactly the grants it declares; read keeps, from what Lake Formation lists,
//!   only the entries with the same principal and resource, and of those only the permissions the
//!   resource declared, so broader or implicit grants made by others are neither drift nor touched;
//! - a change grants what is new first and only then revokes what left, so a consumer never loses
//!   access mid-apply; revoking something already gone is success;
//! - several entries go in one BatchGrantPermissions / BatchRevokePermissions call (at most
//!   [`BATCH`] entries each), and per-entry ConcurrentModificationException failures are retried
//!   with backoff and jitter (whole-call failures are retried by [`Clients::call`]).

use super::aws_diag;
use super::Mesh;
use crate::aws::{AwsError, ErrorKind, RetryPolicy, Service};
use crate::framework::{Diagnostic, Diagnostics};
use crate::resources::Action;
use aws_sdk_lakeformation::types::{
    BatchPermissionsFailureEntry, BatchPermissionsRequestEntry, ColumnWildcard, DataLakePrincipal,
    DataLakeResourceType, DatabaseResource, LfTag, LfTagPolicyResource, Permission,
    PrincipalResourcePermissions, Resource, ResourceType, TableResource, TableWithColumnsResource,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

mod change;
mod model;
mod read;
pub use change::*;
pub use model::*;
pub use read::*;

/// Lake Formation accepts at most this many entries in one batch grant or revoke call.
pub const BATCH: usize = 20;

/// How many times entries that failed with ConcurrentModificationException inside a batch
/// answer are sent again before the failure surfaces.
const ENTRY_RETRIES: u32 = 8;

/// Permissions Lake Formation grants on tables (and on LF-tag policies of type TABLE).
pub const TABLE_PERMISSIONS: &[&str] = &[
    "ALL", "ALTER", "DELETE", "DESCRIBE", "DROP", "INSERT", "SELECT",
];

/// Permissions Lake Formation grants on databases (and on LF-tag policies of type DATABASE).
pub const DATABASE_PERMISSIONS: &[&str] = &["ALL", "ALTER", "CREATE_TABLE", "DESCRIBE", "DROP"];

#[cfg(test)]
mod tests {
    use super::*;

    fn db(name: &str) -> Target {
        Target::Database {
            catalog_id: "111111111111".into(),
            name: name.into(),
        }
    }

    fn table(name: &str) -> Target {
        Target::Table {
            catalog_id: "111111111111".into(),
            database: "d".into(),
            name: name.into(),
        }
    }

    #[test]
    fn change_grants_new_and_revokes_only_what_left() {
        let before = vec![
            Grant::new("p", db("d"), ["DESCRIBE"]),
            Grant::new("p", table("t"), ["DESCRIBE"]),
        ];
        let after = vec![
            Grant::new("p", db("d"), ["DESCRIBE"]),
            Grant::new("p", table("t"), ["SELECT", "DESCRIBE"]),
        ];
        let (grants, revokes) = plan_change(&before, &after);
        assert_eq!(grants, vec![Grant::new("p", table("t"), ["SELECT"])]);
        assert!(revokes.is_empty());

        let (grants, revokes) = plan_change(&after, &before);
        assert!(grants.is_empty());
        assert_eq!(revokes, vec![Grant::new("p", table("t"), ["SELECT"])]);
    }

    #[test]
    fn merge_unites_entries_of_one_target_and_subtract_keeps_the_undeclared() {
        let merged = merge([
            Grant::new("p", table("t"), ["SELECT"]),
            Grant::new("p", db("d"), ["DESCRIBE"]),
            Grant::new("p", table("t"), ["DESCRIBE"]),
        ]);
        assert_eq!(
            merged,
            vec![
                Grant::new("p", table("t"), ["SELECT", "DESCRIBE"]),
                Grant::new("p", db("d"), ["DESCRIBE"]),
            ]
        );
        let declared = vec![Grant::new("p", table("t"), ["DESCRIBE"])];
        assert_eq!(
            subtract(&merged, &declared),
            vec![
                Grant::new("p", table("t"), ["SELECT"]),
                Grant::new("p", db("d"), ["DESCRIBE"]),
            ]
        );
        assert!(subtract(&declared, &merged).is_empty());
    }

    #[test]
    fn changed_target_grants_the_new_before_revoking_the_old() {
        let before = vec![Grant::new("p", table("a"), ["SELECT"])];
        let after = vec![Grant::new("p", table("b"), ["SELECT"])];
        let (grants, revokes) = plan_change(&before, &after);
        assert_eq!(grants, after);
        assert_eq!(revokes, before);
    }

    #[test]
    fn grant_options_travel_with_their_permission() {
        let before = vec![Grant::new("p", table("t"), ["SELECT"])];
        let mut after = before.clone();
        after[0].grantable.insert("SELECT".into());
        let (grants, revokes) = plan_change(&before, &after);
        assert_eq!(grants.len(), 1);
        assert_eq!(
            grants[0].permissions,
            BTreeSet::from(["SELECT".to_string()])
        );
        assert_eq!(grants[0].grantable, BTreeSet::from(["SELECT".to_string()]));
        assert!(revokes.is_empty());
        let (grants, revokes) = plan_change(&after, &before);
        assert!(grants.is_empty());
        assert!(revokes[0].permissions.is_empty());
        assert_eq!(revokes[0].grantable, BTreeSet::from(["SELECT".to_string()]));
    }

    #[test]
    fn owned_keeps_only_declared_permissions_of_the_same_grant() {
        let mut broad = Grant::new("p", table("t"), ["SELECT", "DESCRIBE", "ALTER"]);
        broad.grantable.insert("ALTER".into());
        let found = vec![
            broad,
            Grant::new("other", table("t"), ["SELECT"]),
            Grant::new("p", table("u"), ["SELECT"]),
        ];
        let declared = vec![
            Grant::new("p", table("t"), ["SELECT", "INSERT"]),
            Grant::new("p", db("d"), ["DESCRIBE"]),
        ];
        assert_eq!(
            owned(&found, &declared),
            vec![Grant::new("p", table("t"), ["SELECT"])]
        );
    }

    #[test]
    fn table_select_listed_as_all_columns_is_the_table() {
        let r = Resource::builder()
            .table_with_columns(
                TableWithColumnsResource::builder()
                    .catalog_id("111111111111")
                    .database_name("d")
                    .name("t")
                    .column_wildcard(ColumnWildcard::builder().build())
                    .build()
                    .unwrap(),
            )
            .build();
        assert_eq!(Target::from_sdk(&r, "999999999999"), Some(table("t")));
    }

    #[test]
    fn targets_round_trip_through_the_sdk() {
        let targets = [
            db("d"),
            table("t"),
            Target::Columns {
                catalog_id: "111111111111".into(),
                database: "d".into(),
                name: "t".into(),
                columns: Columns::Only(["a".to_string(), "b".to_string()].into()),
            },
            Target::Columns {
                catalog_id: "111111111111".into(),
                database: "d".into(),
                name: "t".into(),
                columns: Columns::Except(["c".to_string()].into()),
            },
            Target::TagPolicy {
                catalog_id: "111111111111".into(),
                kind: PolicyKind::Table,
                expression: BTreeMap::from([(
                    "sensitivity".to_string(),
                    BTreeSet::from(["internal".to_string(), "public".to_string()]),
                )]),
            },
        ];
        for t in targets {
            let sdk = t.to_sdk().unwrap();
            assert_eq!(Target::from_sdk(&sdk, "999999999999"), Some(t));
        }
    }

    #[test]
    fn nothing_to_revoke_is_success() {
        assert!(already_revoked(
            Some("InvalidInputException"),
            "No permissions revoked. Grantee has no permissions"
        ));
        assert!(already_revoked(Some("EntityNotFoundException"), ""));
        assert!(!already_revoked(
            Some("InvalidInputException"),
            "Bad principal"
        ));
        assert!(!already_revoked(
            Some("AccessDeniedException"),
            "no permission"
        ));
    }

    #[test]
    fn principals() {
        for ok in [
            "123456789012",
            "arn:aws:iam::123456789012:role/AnalyticsTeam",
            "arn:aws:iam::123456789012:role/path/x",
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:organizations::123456789012:organization/o-abc123",
            "arn:aws:organizations::123456789012:ou/o-abc123/ou-ab12-cd34",
        ] {
            assert_eq!(check_principal(ok), None, "{ok}");
        }
        for bad in [
            "12345",
            "arn:aws:iam::123456789012:group/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:s3:::bucket",
            "arn:aws:organizations::123456789012:ou/ou-1",
            "AnalyticsTeam",
        ] {
            assert!(check_principal(bad).is_some(), "{bad}");
        }
    }
}
