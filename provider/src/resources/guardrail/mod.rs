//! `mesh_guardrail`: an AWS Organizations service control policy (SCP) generated from named
//! rules that protect Lake Formation governance, attached to OUs, roots or accounts.
//!
//! The policy text depends only on configuration, so it is computed at plan time and shown in
//! the plan. Read compares the live text semantically with what the rules generate: a policy
//! edited outside Terraform shows as drift in `policy_json` and apply writes it back.
//!
//! Import needs the rule inputs, which are not recoverable from arbitrary policy text; they are
//! kept as tags on the policy (Organizations supports tags on policies): `mesh:rules` (rule
//! names, comma-separated), `mesh:governance_account_id`, and one `mesh:allowed_principal_arn:N`
//! per allowed principal (a tag value holds at most 256 characters, one ARN fits).

use super::Mesh;
use super::{aws_diag, known};
use crate::aws::{AwsError, Service};
use crate::framework::value::Attr;
use crate::framework::{
    invalid_import_id, Attribute, AttributePath, Block, Diagnostic, Diagnostics, Failure,
    PlanRequest, Private, Resource, Schema, Type, Validator,
};
use crate::resources::Action;
use crate::rules::is_account_id;
use async_trait::async_trait;
use aws_sdk_organizations::types::{PolicyType, Tag};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet};

mod org;
mod policy;
use org::*;
use policy::*;

/// Rule: deny `lakeformation:PutDataLakeSettings` to every account but the governance account.
pub const RULE_SETTINGS: &str = "protect_lake_formation_settings";
/// Rule: deny registering, deregistering and updating Lake Formation data locations to every
/// principal but `allowed_principal_arns`.
pub const RULE_REGISTRATION: &str = "protect_lake_formation_registration";
/// Every supported rule, in the order their statements appear in the policy.
pub const RULES: &[&str] = &[RULE_SETTINGS, RULE_REGISTRATION];

const SID_SETTINGS: &str = "MeshProtectLakeFormationSettings";
const SID_REGISTRATION: &str = "MeshProtectLakeFormationRegistration";

// Tags on the policy that let import recover the inputs.
const T_RULES: &str = "mesh:rules";
const T_GOVERNANCE: &str = "mesh:governance_account_id";
const T_ALLOWED: &str = "mesh:allowed_principal_arn:";

/// Organizations allows 50 tags per policy; two are taken by the rules and the account.
const MAX_ALLOWED: usize = 48;
/// An SCP's maximum size in characters.
const MAX_POLICY_SIZE: usize = 5120;

/// The resource.
#[derive(Debug, Default)]
pub struct Guardrail;

/// `mesh_guardrail`'s model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// = policy id.
    pub id: Attr<String>,
    /// Policy name.
    pub name: Attr<String>,
    /// Policy description.
    pub description: Attr<String>,
    /// The account exempt from the settings rule.
    pub governance_account_id: Attr<String>,
    /// Rule names.
    pub rules: Attr<BTreeSet<String>>,
    /// Principals exempt from the registration rule.
    pub allowed_principal_arns: Attr<BTreeSet<String>>,
    /// OUs, roots or accounts the policy is attached to.
    pub target_ids: Attr<BTreeSet<String>>,
    /// The generated policy document.
    pub policy_json: Attr<String>,
    /// `p-...`.
    pub policy_id: Attr<String>,
    /// The policy's ARN.
    pub arn: Attr<String>,
}

fn to_tag(k: &str, v: &str) -> Result<Tag, Diagnostics> {
    Tag::builder()
        .key(k)
        .value(v)
        .build()
        .map_err(|e| Diagnostic::provider_bug(e).into())
}

#[async_trait]
impl Resource for Guardrail {
    type Model = Model;
    type Client = Mesh;
    type Id = PolicyId;
    type Spec = Spec;
    type Found = Found;

    fn type_name(&self) -> &'static str {
        "mesh_guardrail"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(format!(
                "A guardrail: an AWS Organizations service control policy (SCP) generated from named \
                 rules that keep domain accounts inside Lake Formation governance, attached to \
                 organizational units, roots or accounts. Apply it with the organization's \
                 management account (or a delegated policy administrator); SCPs must be enabled \
                 on the root.\n\n\
                 Rules:\n\
                 - `{RULE_SETTINGS}`: deny `lakeformation:PutDataLakeSettings` to every principal \
                 outside `governance_account_id` (condition `aws:PrincipalAccount` \
                 StringNotEquals), so domain accounts cannot change Lake Formation admins or \
                 defaults.\n\
                 - `{RULE_REGISTRATION}`: deny `lakeformation:RegisterResource`, \
                 `DeregisterResource` and `UpdateResource` unless `aws:PrincipalArn` matches one of \
                 `allowed_principal_arns` (condition ArnNotLike), so only the governance and domain \
                 roles you name can register data locations.\n\n\
                 The policy document is computed from the rules and shown in the plan \
                 (`policy_json`). Changes to the rules, name or description update the policy in \
                 place; attachments change in place too (new targets attached before removed ones \
                 are detached). A policy edited outside Terraform (compared by meaning, not \
                 formatting) or attachments changed outside Terraform show as drift and apply \
                 repairs them. Destroy detaches the policy everywhere, then deletes it.\n\n\
                 The rule inputs are kept as tags on the policy (`{T_RULES}`, `{T_GOVERNANCE}`, \
                 `{T_ALLOWED}N`) so that import recovers them.\n\n\
                 Import with `terraform import mesh_guardrail.NAME p-xxxxxxxx` (the policy id)."
            ))
            .attribute(Attribute::string("id").computed().use_state_for_unknown().describe("The policy id."))
            .attribute(
                Attribute::string("name")
                    .required()
                    .describe("Policy name, unique among the organization's policies. Changed in place.")
                    .validate(Validator::length_between(1, 128)),
            )
            .attribute(
                Attribute::string("description")
                    .optional()
                    .describe("Policy description. Changed in place.")
                    .validate(Validator::length_between(0, 512)),
            )
            .attribute(
                Attribute::string("governance_account_id")
                    .required()
                    .describe(format!("The data governance account: the only account whose principals may change Lake Formation settings under `{RULE_SETTINGS}`."))
                    .validate(Validator::string("12-digit account id", "Invalid account id", |s| {
                        (!is_account_id(s)).then(|| format!("{s:?} is not a 12-digit AWS account id."))
                    })),
            )
            .attribute(
                Attribute::new("rules", Type::set(Type::String))
                    .required()
                    .describe(format!("The rules the policy enforces, at least one of: {}.", RULES.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")))
                    .validate(Validator::size_between(1, RULES.len()))
                    .validate(Validator::string(
                        "a supported rule",
                        "Unknown guardrail rule",
                        |s| (!RULES.contains(&s)).then(|| format!("{s:?} is not a guardrail rule; supported rules: {}.", RULES.join(", "))),
                    ).each()),
            )
            .attribute(
                Attribute::new("allowed_principal_arns", Type::set(Type::String))
                    .optional()
                    .describe(format!("Principals (IAM role or user ARN patterns; `*` wildcards allowed, as ArnNotLike matches them) still allowed to register, deregister and update data locations under `{RULE_REGISTRATION}`. Required with that rule; at most {MAX_ALLOWED}."))
                    .validate(Validator::size_between(1, MAX_ALLOWED))
                    .validate(Validator::string("ARN pattern", "Invalid principal ARN", check_principal_pattern).each()),
            )
            .attribute(
                Attribute::new("target_ids", Type::set(Type::String))
                    .required()
                    .describe("Where the policy is attached: organizational unit ids (`ou-...`), root ids (`r-...`) or 12-digit account ids. Changed in place.")
                    .validate(Validator::string("OU, root or account id", "Invalid policy target", check_target).each()),
            )
            .attribute(Attribute::string("policy_json").computed().describe("The generated policy document (canonical JSON), known at plan time."))
            .attribute(Attribute::string("policy_id").computed().use_state_for_unknown().describe("The policy id, `p-...`."))
            .attribute(Attribute::string("arn").computed().use_state_for_unknown().describe("The policy's ARN.")),
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        let Attr::Known(rules) = &config.rules else {
            return;
        };
        let registration = rules.contains(RULE_REGISTRATION);
        match &config.allowed_principal_arns {
            Attr::Null if registration => diags.error_at(
                AttributePath::attr("allowed_principal_arns"),
                "Missing allowed principals",
                format!("The rule `{RULE_REGISTRATION}` denies data location registration to everyone but `allowed_principal_arns`; set it to the governance and domain roles that register locations."),
            ),
            Attr::Known(_) if !registration => diags.push(
                Diagnostic::warning(
                    "Allowed principals have no effect",
                    format!("`allowed_principal_arns` is used only by the rule `{RULE_REGISTRATION}`, which `rules` does not include."),
                )
                .at(AttributePath::attr("allowed_principal_arns")),
            ),
            _ => {}
        }
        if let Some(inputs) = Inputs::of(config) {
            let size = inputs.policy().chars().count();
            if size > MAX_POLICY_SIZE {
                diags.error_at(
                    AttributePath::attr("allowed_principal_arns"),
                    "Policy too large",
                    format!("The generated policy has {size} characters; an SCP may have at most {MAX_POLICY_SIZE}. Use fewer or wildcard ARNs."),
                );
            }
        }
    }

    async fn modify_plan(&self, _client: Option<&Mesh>, req: &mut PlanRequest<Model>) {
        // The document depends only on configuration: show it in the plan.
        req.planned.policy_json = match Inputs::of(&req.config) {
            Some(inputs) => Attr::Known(inputs.policy()),
            None => Attr::Unknown,
        };
    }

    fn spec(&self, model: &Model) -> Result<Spec, Diagnostics> {
        Spec::from(model)
    }

    fn id(&self, state: &Model) -> Result<PolicyId, Diagnostics> {
        Ok(PolicyId(known(&state.policy_id, "policy_id")?.clone()))
    }

    async fn parse_id(&self, _client: &Mesh, raw: &str) -> Result<PolicyId, Diagnostics> {
        PolicyId::parse(raw).map_err(|p| invalid_import_id(p, "policy ids, p-xxxxxxxx"))
    }

    /// DescribePolicy and ListTargetsForPolicy; `None` when the policy does not exist.
    async fn find(&self, client: &Mesh, id: &PolicyId) -> Result<Option<Found>, Diagnostics> {
        self.lookup(client, &id.0).await
    }

    fn flatten(&self, _id: &PolicyId, found: Found, prior: &Model) -> Model {
        Self::state(found, prior)
    }

    async fn create(
        &self,
        client: &Mesh,
        spec: Spec,
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let Spec {
            inputs,
            name,
            description,
            targets,
        } = spec;
        let tags: Vec<Tag> = inputs
            .tags()
            .iter()
            .map(|(k, v)| to_tag(k, v))
            .collect::<Result<_, _>>()
            .map_err(Failure::clean)?;
        let content = inputs.policy();
        let created = client
            .call(Service::Organizations, "CreatePolicy", || {
                client
                    .organizations()
                    .create_policy()
                    .name(&name)
                    .description(&description)
                    .content(&content)
                    .r#type(PolicyType::ServiceControlPolicy)
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await
            .map_err(|e| {
                let mut diags = aws_diag(Action::Create, format!("policy {name:?}"), &e);
                if e.is_already_exists() {
                    diags.push(Diagnostic::error(
                        "Policy name taken",
                        "A policy with this name exists. Import it with `terraform import <address> p-...` if it is this guardrail, or choose another name.",
                    ).at(AttributePath::attr("name")));
                }
                Failure::clean(diags)
            })?;
        let summary = created.policy.and_then(|p| p.policy_summary);
        let Some(policy_id) = summary.as_ref().and_then(|s| s.id.clone()) else {
            return Err(Failure::clean(Diagnostic::error(
                "Cannot create policy",
                "CreatePolicy answered without a policy id.",
            )));
        };
        let arn = summary.and_then(|s| s.arn).unwrap_or_default();
        let mut state = Model {
            id: Attr::Known(policy_id.clone()),
            policy_id: Attr::Known(policy_id.clone()),
            arn: Attr::Known(arn),
            policy_json: Attr::Known(content),
            target_ids: Attr::Known(BTreeSet::new()),
            ..planned
        };
        let (attached, diags) = self.attach(client, &policy_id, &targets).await;
        state.target_ids = Attr::Known(attached);
        if diags.has_errors() {
            // The policy exists: state records it and what it is attached to.
            return Err(Failure::partial(state, diags));
        }
        Ok(state)
    }

    async fn update(
        &self,
        client: &Mesh,
        prior: Model,
        spec: Spec,
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let policy_id = self.id(&prior).map_err(Failure::clean)?.0;
        let Spec {
            inputs,
            name,
            description,
            targets: after,
        } = spec;
        let content = inputs.policy();
        let fail = |diags| self.partial(client, &policy_id, &planned, prior.clone(), diags);

        if prior.name != planned.name
            || prior.description != planned.description
            || prior.policy_json.known() != Some(&content)
        {
            let result = client
                .call(Service::Organizations, "UpdatePolicy", || {
                    client
                        .organizations()
                        .update_policy()
                        .policy_id(&policy_id)
                        .name(&name)
                        .description(&description)
                        .content(&content)
                        .send()
                })
                .await;
            if let Err(e) = result {
                return Err(
                    fail(aws_diag(Action::Update, format!("policy {policy_id}"), &e)).await,
                );
            }
        }
        if Inputs::of(&prior).as_ref() != Some(&inputs) {
            if let Err(diags) = self.retag(client, &policy_id, &inputs.tags()).await {
                return Err(fail(diags).await);
            }
        }
        let before = prior.target_ids.known().cloned().unwrap_or_default();
        // New attachments first, then detach what left: the guardrail never lapses.
        let add: BTreeSet<String> = after.difference(&before).cloned().collect();
        let (_, diags) = self.attach(client, &policy_id, &add).await;
        if diags.has_errors() {
            return Err(fail(diags).await);
        }
        let remove: BTreeSet<String> = before.difference(&after).cloned().collect();
        let (_, diags) = self.detach(client, &policy_id, &remove).await;
        if diags.has_errors() {
            return Err(fail(diags).await);
        }
        Ok(Model {
            id: Attr::Known(policy_id.clone()),
            policy_id: Attr::Known(policy_id),
            arn: prior.arn.clone(),
            policy_json: Attr::Known(content),
            ..planned
        })
    }

    async fn delete(
        &self,
        client: &Mesh,
        state: Model,
        _private: &Private,
    ) -> Result<(), Diagnostics> {
        let policy_id = known(&state.policy_id, "policy_id")?.clone();
        // Every attachment, including ones made outside Terraform: a policy in use cannot be
        // deleted.
        let targets = match self.targets(client, &policy_id).await {
            Ok(t) => t,
            Err(e) if policy_gone(&e) => return Ok(()),
            Err(e) => {
                return Err(aws_diag(
                    Action::List,
                    format!("the targets of {policy_id}"),
                    &e,
                ))
            }
        };
        let (_, diags) = self.detach(client, &policy_id, &targets).await;
        if diags.has_errors() {
            return Err(diags);
        }
        match client
            .call(Service::Organizations, "DeletePolicy", || {
                client
                    .organizations()
                    .delete_policy()
                    .policy_id(&policy_id)
                    .send()
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if policy_gone(&e) => Ok(()),
            Err(e) => Err(aws_diag(Action::Delete, format!("policy {policy_id}"), &e)),
        }
    }

    /// Import reads the rule inputs back from the policy's bookkeeping tags.
    async fn import(&self, client: &Mesh, id: &str) -> Result<Model, Diagnostics> {
        let id = self.parse_id(client, id).await?.0;
        let id = id.as_str();
        let Some(found) = self.lookup(client, id).await? else {
            return Err(Diagnostic::error(
                "Cannot import a missing policy",
                format!("No policy {id} exists in this organization."),
            )
            .into());
        };
        if found
            .kind
            .as_ref()
            .is_some_and(|k| *k != PolicyType::ServiceControlPolicy)
        {
            return Err(Diagnostic::error(
                "Not a service control policy",
                format!("Policy {id} is not a service control policy."),
            )
            .into());
        }
        let tags = self.tags(client, id).await?;
        let Some(inputs) = Inputs::from_tags(&tags) else {
            return Err(Diagnostic::error(
                "Not a mesh guardrail",
                format!("Policy {id} has no `{T_RULES}` tag, so its rules cannot be recovered: only policies created by mesh_guardrail can be imported."),
            )
            .into());
        };
        let inputs_from = Model {
            rules: Attr::Known(inputs.rules),
            governance_account_id: Attr::Known(inputs.governance_account_id),
            allowed_principal_arns: if inputs.allowed.is_empty() {
                Attr::Null
            } else {
                Attr::Known(inputs.allowed)
            },
            ..Model::default()
        };
        Ok(Self::state(found, &inputs_from))
    }
}
