//! The policy in AWS Organizations: its id, what the user declared, `find` and its targets and tags, attaching and detaching, and the state for what exists.

use super::*;
use crate::resources::Action;

/// A policy id, `p-` and letters, digits or `_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyId(pub(super) String);

impl PolicyId {
    /// Checks the shape of `id`.
    pub fn parse(id: &str) -> Result<Self, String> {
        let shaped = id.strip_prefix("p-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        if shaped {
            Ok(Self(id.to_string()))
        } else {
            Err(format!("{id:?} is not a policy id (p-xxxxxxxx)."))
        }
    }
}

impl std::fmt::Display for PolicyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the user declared, every input known.
#[derive(Debug, Clone)]
pub struct Spec {
    pub(super) inputs: Inputs,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) targets: BTreeSet<String>,
}

impl Spec {
    pub(super) fn from(m: &Model) -> Result<Self, Diagnostics> {
        Ok(Self {
            inputs: Inputs::of(m).ok_or_else(|| {
                Diagnostics::from(Diagnostic::provider_bug(
                    "the rule inputs are not known at apply",
                ))
            })?,
            name: known(&m.name, "name")?.clone(),
            description: m.description.known().cloned().unwrap_or_default(),
            targets: known(&m.target_ids, "target_ids")?.clone(),
        })
    }
}

/// What the policy looks like in AWS.
pub struct Found {
    pub(super) id: String,
    pub(super) arn: String,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) content: String,
    pub(super) kind: Option<PolicyType>,
    pub(super) targets: BTreeSet<String>,
}

impl Guardrail {
    /// DescribePolicy and ListTargetsForPolicy; `None` when the policy does not exist.
    pub(super) async fn lookup(
        &self,
        client: &Mesh,
        policy_id: &str,
    ) -> Result<Option<Found>, Diagnostics> {
        let described = client
            .call(Service::Organizations, "DescribePolicy", || {
                client
                    .organizations()
                    .describe_policy()
                    .policy_id(policy_id)
                    .send()
            })
            .await;
        let policy = match described {
            Ok(out) => out.policy,
            Err(e) if policy_gone(&e) => return Ok(None),
            Err(e) => return Err(aws_diag(Action::Read, format!("policy {policy_id}"), &e)),
        };
        let Some(policy) = policy else {
            return Ok(None);
        };
        let targets = match self.targets(client, policy_id).await {
            Ok(t) => t,
            Err(e) if policy_gone(&e) => return Ok(None),
            Err(e) => {
                return Err(aws_diag(
                    Action::List,
                    format!("the targets of {policy_id}"),
                    &e,
                ))
            }
        };
        let summary = policy
            .policy_summary
            .unwrap_or_else(|| aws_sdk_organizations::types::PolicySummary::builder().build());
        Ok(Some(Found {
            id: summary.id.unwrap_or_else(|| policy_id.to_string()),
            arn: summary.arn.unwrap_or_default(),
            name: summary.name.unwrap_or_default(),
            description: summary.description.unwrap_or_default(),
            content: policy.content.unwrap_or_default(),
            kind: summary.r#type,
            targets,
        }))
    }

    pub(super) async fn targets(
        &self,
        client: &Mesh,
        policy_id: &str,
    ) -> Result<BTreeSet<String>, AwsError> {
        let mut targets = BTreeSet::new();
        let mut token: Option<String> = None;
        loop {
            let out = client
                .call(Service::Organizations, "ListTargetsForPolicy", || {
                    client
                        .organizations()
                        .list_targets_for_policy()
                        .policy_id(policy_id)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            targets.extend(
                out.targets
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|t| t.target_id),
            );
            token = out.next_token.filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(targets);
            }
        }
    }

    pub(super) async fn tags(
        &self,
        client: &Mesh,
        policy_id: &str,
    ) -> Result<BTreeMap<String, String>, Diagnostics> {
        let mut tags = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            let out = client
                .call(Service::Organizations, "ListTagsForResource", || {
                    client
                        .organizations()
                        .list_tags_for_resource()
                        .resource_id(policy_id)
                        .set_next_token(token.clone())
                        .send()
                })
                .await
                .map_err(|e| {
                    aws_diag(Action::Read, format!("the tags of policy {policy_id}"), &e)
                })?;
            tags.extend(
                out.tags
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| (t.key, t.value)),
            );
            token = out.next_token.filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(tags);
            }
        }
    }

    /// Makes the policy's `mesh:` tags exactly `wanted`: tag first, then untag what left.
    pub(super) async fn retag(
        &self,
        client: &Mesh,
        policy_id: &str,
        wanted: &BTreeMap<String, String>,
    ) -> Result<(), Diagnostics> {
        let current = self.tags(client, policy_id).await?;
        let changed: Vec<Tag> = wanted
            .iter()
            .filter(|(k, v)| current.get(*k) != Some(*v))
            .map(|(k, v)| to_tag(k, v))
            .collect::<Result<_, _>>()?;
        let stale: Vec<String> = current
            .keys()
            .filter(|k| k.starts_with("mesh:") && !wanted.contains_key(*k))
            .cloned()
            .collect();
        if !changed.is_empty() {
            client
                .call(Service::Organizations, "TagResource", || {
                    client
                        .organizations()
                        .tag_resource()
                        .resource_id(policy_id)
                        .set_tags(Some(changed.clone()))
                        .send()
                })
                .await
                .map_err(|e| aws_diag(Action::Tag, format!("policy {policy_id}"), &e))?;
        }
        if !stale.is_empty() {
            client
                .call(Service::Organizations, "UntagResource", || {
                    client
                        .organizations()
                        .untag_resource()
                        .resource_id(policy_id)
                        .set_tag_keys(Some(stale.clone()))
                        .send()
                })
                .await
                .map_err(|e| aws_diag(Action::Untag, format!("policy {policy_id}"), &e))?;
        }
        Ok(())
    }

    /// Attaches the policy to every target at once; returns the targets attached and the
    /// failures.
    pub(super) async fn attach(
        &self,
        client: &Mesh,
        policy_id: &str,
        targets: &BTreeSet<String>,
    ) -> (BTreeSet<String>, Diagnostics) {
        let calls = targets.iter().map(|target| async move {
            let result = client
                .call(Service::Organizations, "AttachPolicy", || {
                    client
                        .organizations()
                        .attach_policy()
                        .policy_id(policy_id)
                        .target_id(target)
                        .send()
                })
                .await;
            match result {
                Ok(_) => Ok(target.clone()),
                // Attached already (an interrupted earlier apply): what we want.
                Err(e) if code(&e) == "DuplicatePolicyAttachmentException" => Ok(target.clone()),
                Err(e) => Err(Diagnostics::from(
                    crate::resources::aws_problem(
                        Action::Attach,
                        format!("policy {policy_id} to {target}"),
                        &e,
                    )
                    .at(AttributePath::attr("target_ids")),
                )),
            }
        });
        let mut attached = BTreeSet::new();
        let mut diags = Diagnostics::new();
        for result in futures::future::join_all(calls).await {
            match result {
                Ok(t) => {
                    attached.insert(t);
                }
                Err(d) => diags.extend(d),
            }
        }
        (attached, diags)
    }

    /// Detaches the policy from every target at once; returns the targets still attached and the
    /// failures. A target the policy is not attached to (or that no longer exists) is success.
    pub(super) async fn detach(
        &self,
        client: &Mesh,
        policy_id: &str,
        targets: &BTreeSet<String>,
    ) -> (BTreeSet<String>, Diagnostics) {
        let calls = targets.iter().map(|target| async move {
            let result = client
                .call(Service::Organizations, "DetachPolicy", || {
                    client
                        .organizations()
                        .detach_policy()
                        .policy_id(policy_id)
                        .target_id(target)
                        .send()
                })
                .await;
            match result {
                Ok(_) => Ok(()),
                Err(e)
                    if matches!(
                        code(&e),
                        "PolicyNotAttachedException"
                            | "TargetNotFoundException"
                            | "AccountNotFoundException"
                            | "OrganizationalUnitNotFoundException"
                    ) =>
                {
                    Ok(())
                }
                Err(e) => Err((
                    target.clone(),
                    aws_diag(
                        Action::Detach,
                        format!("policy {policy_id} from {target}"),
                        &e,
                    ),
                )),
            }
        });
        let mut still = BTreeSet::new();
        let mut diags = Diagnostics::new();
        for result in futures::future::join_all(calls).await {
            if let Err((target, d)) = result {
                still.insert(target);
                diags.extend(d);
            }
        }
        (still, diags)
    }

    /// The state for what AWS holds, with the rule inputs of `inputs_from` (which the policy
    /// text does not carry).
    pub(super) fn state(found: Found, inputs_from: &Model) -> Model {
        let generated = Inputs::of(inputs_from).map(|i| i.policy());
        // Same meaning: show the canonical text, so formatting differences are not drift.
        let policy_json = match generated {
            Some(g) if same_policy(&g, &found.content) => g,
            _ => found.content,
        };
        let description = if found.description.is_empty()
            && !matches!(&inputs_from.description, Attr::Known(d) if d.is_empty())
        {
            Attr::Null
        } else {
            Attr::Known(found.description)
        };
        Model {
            id: Attr::Known(found.id.clone()),
            name: Attr::Known(found.name),
            description,
            governance_account_id: inputs_from.governance_account_id.clone(),
            rules: inputs_from.rules.clone(),
            allowed_principal_arns: inputs_from.allowed_principal_arns.clone(),
            target_ids: Attr::Known(found.targets),
            policy_json: Attr::Known(policy_json),
            policy_id: Attr::Known(found.id),
            arn: Attr::Known(found.arn),
        }
    }

    /// What exists after a failed change, for a partial state; `fallback` when it cannot be read.
    pub(super) async fn partial(
        &self,
        client: &Mesh,
        policy_id: &str,
        inputs_from: &Model,
        fallback: Model,
        diags: Diagnostics,
    ) -> Failure<Model> {
        match self.lookup(client, policy_id).await {
            Ok(Some(found)) => Failure::partial(Self::state(found, inputs_from), diags),
            _ => Failure::partial(fallback, diags),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prior() -> Model {
        Model {
            rules: Attr::Known([RULE_SETTINGS.to_string()].into()),
            governance_account_id: Attr::Known("111111111111".into()),
            ..Model::default()
        }
    }

    fn found(content: String) -> Found {
        Found {
            id: "p-abc123".into(),
            arn: "arn:aws:organizations::111111111111:policy/o-x/service_control_policy/p-abc123"
                .into(),
            name: "mesh-guardrail".into(),
            description: String::new(),
            content,
            kind: Some(PolicyType::ServiceControlPolicy),
            targets: ["ou-1".to_string()].into(),
        }
    }

    #[test]
    fn flatten_shows_the_canonical_text_for_a_policy_that_means_the_same() {
        let generated = Inputs::of(&prior()).unwrap().policy();
        let reformatted =
            serde_json::to_string_pretty(&serde_json::from_str::<Json>(&generated).unwrap())
                .unwrap();
        let state = Guardrail::state(found(reformatted), &prior());
        assert_eq!(state.policy_json, Attr::Known(generated));
        assert_eq!(state.id, Attr::Known("p-abc123".into()));
        assert_eq!(state.target_ids, Attr::Known(["ou-1".to_string()].into()));
        assert_eq!(
            state.rules,
            prior().rules,
            "rule inputs come from the prior state"
        );
        assert_eq!(
            state.description,
            Attr::Null,
            "an empty description is unset"
        );
    }

    #[test]
    fn flatten_shows_a_policy_edited_outside_terraform_as_it_is() {
        let edited = r#"{"Version":"2012-10-17","Statement":[]}"#.to_string();
        let state = Guardrail::state(found(edited.clone()), &prior());
        assert_eq!(
            state.policy_json,
            Attr::Known(edited),
            "drift the plan shows"
        );
    }
}
