//! Reading grants back, and what a failed change left: the stray grants kept in private state.

use super::*;
use crate::resources::Action;

impl TagGrant {
    /// What exists of `spec`'s grants. With `import`, every permission found counts.
    pub(super) async fn find_declared(
        &self,
        client: &Mesh,
        spec: &Spec,
        import: bool,
    ) -> Result<Vec<Grant>, Diagnostics> {
        let declared = if import {
            let all = all_permissions();
            Spec {
                table: all.clone(),
                database: all.clone(),
                grantable: all,
                ..spec.clone()
            }
            .grants()
        } else {
            spec.grants()
        };
        grants::read_owned(client, &declared).await.map_err(|e| {
            aws_diag(
                Action::List,
                format!("the LF-tag policy grants of {}", spec.principal),
                &e,
            )
        })
    }
}

/// Private state: grants a failed change made that the state does not declare (the new
/// expression's, granted before revoking the old failed). Read keeps those still there, plan
/// shows an update while any remain, update revokes them unless declared, delete revokes them.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct Stray(pub(super) Vec<Grant>);

impl PrivateState for Stray {
    const KEY: &'static str = "stray_grants";
}

impl TagGrant {
    /// After a failed change from `before` to `after`: the state to keep (what exists of the
    /// grants `before` declares) and, in `private`, every other grant the change may have made.
    pub(super) async fn after_failure(
        &self,
        client: &Mesh,
        before: &Spec,
        after: &Spec,
        stray: Vec<Grant>,
        private: &mut Private,
        mut diags: Diagnostics,
    ) -> Failure<Model> {
        let owned = match self.find_declared(client, before, false).await {
            Ok(owned) => owned,
            Err(d) => {
                // Cannot tell what exists: keep the prior state and every candidate.
                private.store(&Stray(grants::merge(
                    after.grants().into_iter().chain(stray),
                )));
                diags.extend(d);
                return Failure::clean(diags);
            }
        };
        let candidates = grants::merge(after.grants().into_iter().chain(stray));
        let left = match grants::read_owned(client, &candidates).await {
            Ok(found) => grants::subtract(&found, &owned),
            Err(_) => grants::subtract(&candidates, &owned),
        };
        private.store(&Stray(left.clone()));
        if owned.is_empty() && left.is_empty() {
            Failure::clean(diags)
        } else {
            Failure::partial(before.state(&owned, false), diags)
        }
    }
}
