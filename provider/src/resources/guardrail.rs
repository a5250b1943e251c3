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
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Failure, PlanRequest, Private,
    Resource, Schema, Type, Validator,
};
use crate::rules::is_account_id;
use async_trait::async_trait;
use aws_sdk_organizations::types::{PolicyType, Tag};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet};

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

/// The rule inputs, all known.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Inputs {
    rules: BTreeSet<String>,
    governance_account_id: String,
    allowed: BTreeSet<String>,
}

impl Inputs {
    /// The inputs when every one is known; `None` while some are unknown (plan time).
    fn of(m: &Model) -> Option<Self> {
        let allowed = match &m.allowed_principal_arns {
            Attr::Known(a) => a.clone(),
            Attr::Null => BTreeSet::new(),
            Attr::Unknown => return None,
        };
        Some(Self {
            rules: m.rules.known()?.clone(),
            governance_account_id: m.governance_account_id.known()?.clone(),
            allowed,
        })
    }

    /// The policy document, canonical: statements in [`RULES`] order, object keys sorted,
    /// lists sorted, no whitespace (whitespace counts against the SCP size limit).
    fn policy(&self) -> String {
        let mut statements = Vec::new();
        if self.rules.contains(RULE_SETTINGS) {
            statements.push(json!({
                "Sid": SID_SETTINGS,
                "Effect": "Deny",
                "Action": ["lakeformation:PutDataLakeSettings"],
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": { "aws:PrincipalAccount": [self.governance_account_id] }
                }
            }));
        }
        if self.rules.contains(RULE_REGISTRATION) {
            let allowed: Vec<&String> = self.allowed.iter().collect();
            statements.push(json!({
                "Sid": SID_REGISTRATION,
                "Effect": "Deny",
                "Action": [
                    "lakeformation:DeregisterResource",
                    "lakeformation:RegisterResource",
                    "lakeformation:UpdateResource"
                ],
                "Resource": "*",
                "Condition": { "ArnNotLike": { "aws:PrincipalArn": allowed } }
            }));
        }
        json!({ "Version": "2012-10-17", "Statement": statements }).to_string()
    }

    /// The bookkeeping tags import reads back.
    fn tags(&self) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::from([
            (
                T_RULES.to_string(),
                self.rules.iter().cloned().collect::<Vec<_>>().join(","),
            ),
            (T_GOVERNANCE.to_string(), self.governance_account_id.clone()),
        ]);
        for (i, arn) in self.allowed.iter().enumerate() {
            tags.insert(format!("{T_ALLOWED}{i}"), arn.clone());
        }
        tags
    }

    /// The inputs from the bookkeeping tags; `None` when the policy has none (not made here).
    fn from_tags(tags: &BTreeMap<String, String>) -> Option<Self> {
        let rules = tags
            .get(T_RULES)?
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect();
        Some(Self {
            rules,
            governance_account_id: tags.get(T_GOVERNANCE)?.clone(),
            allowed: tags
                .iter()
                .filter(|(k, _)| k.starts_with(T_ALLOWED))
                .map(|(_, v)| v.clone())
                .collect(),
        })
    }
}

/// A policy document in a form where equal meaning is equal value: a single string where a list
/// is allowed becomes a one-element list, lists of strings are sorted, and a single statement
/// object becomes a list of statements, sorted.
fn normalize(value: &Json) -> Json {
    fn listish(v: &Json) -> Json {
        match v {
            Json::String(s) => Json::Array(vec![Json::String(s.clone())]),
            Json::Array(items) => {
                let mut items: Vec<Json> = items.iter().map(normalize).collect();
                items.sort_by_key(|a| a.to_string());
                Json::Array(items)
            }
            // A single value (a statement object) where a list is allowed.
            other => Json::Array(vec![normalize(other)]),
        }
    }
    match value {
        Json::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let v = match k.as_str() {
                    "Statement" | "Action" | "NotAction" | "Resource" | "NotResource" => listish(v),
                    // Condition operators map keys to a value or a list of values.
                    _ if map.contains_key("Effect") && k == "Condition" => match v {
                        Json::Object(ops) => Json::Object(
                            ops.iter()
                                .map(|(op, keys)| {
                                    let keys = match keys {
                                        Json::Object(keys) => Json::Object(
                                            keys.iter()
                                                .map(|(ck, cv)| (ck.clone(), listish(cv)))
                                                .collect(),
                                        ),
                                        other => normalize(other),
                                    };
                                    (op.clone(), keys)
                                })
                                .collect(),
                        ),
                        other => normalize(other),
                    },
                    _ => normalize(v),
                };
                out.insert(k.clone(), v);
            }
            Json::Object(out)
        }
        Json::Array(items) => Json::Array(items.iter().map(normalize).collect()),
        other => other.clone(),
    }
}

/// True when the two documents mean the same.
fn same_policy(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Json>(a),
        serde_json::from_str::<Json>(b),
    ) {
        (Ok(a), Ok(b)) => normalize(&a) == normalize(&b),
        _ => a == b,
    }
}

fn lower_alnum(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// What is wrong with a policy target id, if anything: an OU (`ou-xxxx-yyyyyyyy`), a root
/// (`r-xxxx`) or a 12-digit account id.
pub fn check_target(s: &str) -> Option<String> {
    let ok = if let Some(rest) = s.strip_prefix("ou-") {
        rest.split_once('-').is_some_and(|(root, ou)| {
            (4..=32).contains(&root.len())
                && (8..=32).contains(&ou.len())
                && lower_alnum(root)
                && lower_alnum(ou)
        })
    } else if let Some(root) = s.strip_prefix("r-") {
        (4..=32).contains(&root.len()) && lower_alnum(root)
    } else {
        is_account_id(s)
    };
    (!ok).then(|| {
        format!("{s:?} is not an organizational unit id (ou-xxxx-xxxxxxxx), a root id (r-xxxx) or a 12-digit account id.")
    })
}

/// What is wrong with an allowed principal ARN, if anything. The account may be `*`
/// (`arn:aws:iam::*:role/DomainDataAdmin` names that role in every account; ArnNotLike matches
/// wildcards).
pub fn check_principal_pattern(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let concrete = if parts.len() == 6 && parts[4] == "*" {
        format!(
            "{}:{}:{}:{}:000000000000:{}",
            parts[0], parts[1], parts[2], parts[3], parts[5]
        )
    } else {
        s.to_string()
    };
    if let Err(e) = crate::aws::check_arn(&concrete) {
        return Some(e.replace(&concrete, s));
    }
    if s.chars().count() > 256 {
        return Some(format!(
            "{s:?} is longer than 256 characters (it is kept in a policy tag for import)."
        ));
    }
    None
}

fn code(e: &AwsError) -> &str {
    e.code.as_deref().unwrap_or_default()
}

fn policy_gone(e: &AwsError) -> bool {
    e.is_not_found() || code(e) == "PolicyNotFoundException"
}

fn org(e: &AwsError, doing: impl Into<String>) -> Diagnostics {
    aws_diag(doing, e)
}

/// What the policy looks like in AWS.
struct Found {
    id: String,
    arn: String,
    name: String,
    description: String,
    content: String,
    kind: Option<PolicyType>,
    targets: BTreeSet<String>,
}

impl Guardrail {
    /// DescribePolicy and ListTargetsForPolicy; `None` when the policy does not exist.
    async fn find(&self, client: &Mesh, policy_id: &str) -> Result<Option<Found>, Diagnostics> {
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
            Err(e) => return Err(org(&e, format!("Cannot read policy {policy_id}"))),
        };
        let Some(policy) = policy else {
            return Ok(None);
        };
        let targets = match self.targets(client, policy_id).await {
            Ok(t) => t,
            Err(e) if policy_gone(&e) => return Ok(None),
            Err(e) => return Err(org(&e, format!("Cannot list the targets of {policy_id}"))),
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

    async fn targets(&self, client: &Mesh, policy_id: &str) -> Result<BTreeSet<String>, AwsError> {
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

    async fn tags(
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
                .map_err(|e| org(&e, format!("Cannot read the tags of policy {policy_id}")))?;
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
    async fn retag(
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
                .map_err(|e| org(&e, format!("Cannot tag policy {policy_id}")))?;
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
                .map_err(|e| org(&e, format!("Cannot untag policy {policy_id}")))?;
        }
        Ok(())
    }

    /// Attaches the policy to every target at once; returns the targets attached and the
    /// failures.
    async fn attach(
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
                    Diagnostic::error(
                        format!("Cannot attach policy {policy_id} to {target}"),
                        e.to_string(),
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
    async fn detach(
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
                        format!("Cannot detach policy {policy_id} from {target}"),
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
    fn state(found: Found, inputs_from: &Model) -> Model {
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
    async fn partial(
        &self,
        client: &Mesh,
        policy_id: &str,
        inputs_from: &Model,
        fallback: Model,
        diags: Diagnostics,
    ) -> Failure<Model> {
        match self.find(client, policy_id).await {
            Ok(Some(found)) => Failure::partial(Self::state(found, inputs_from), diags),
            _ => Failure::partial(fallback, diags),
        }
    }
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

    async fn create(
        &self,
        client: &Mesh,
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let inputs = Inputs::of(&planned).ok_or_else(|| {
            Failure::clean(Diagnostic::provider_bug(
                "the rule inputs are not known at apply",
            ))
        })?;
        let name = known(&planned.name, "name")
            .map_err(Failure::clean)?
            .clone();
        let targets = known(&planned.target_ids, "target_ids")
            .map_err(Failure::clean)?
            .clone();
        let tags: Vec<Tag> = inputs
            .tags()
            .iter()
            .map(|(k, v)| to_tag(k, v))
            .collect::<Result<_, _>>()
            .map_err(Failure::clean)?;
        let content = inputs.policy();
        let description = planned.description.known().cloned().unwrap_or_default();
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
                let mut diags = org(&e, format!("Cannot create policy {name:?}"));
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

    async fn read(
        &self,
        client: &Mesh,
        state: Model,
        _private: &mut Private,
    ) -> Result<Option<Model>, Diagnostics> {
        let policy_id = known(&state.policy_id, "policy_id")?.clone();
        Ok(self
            .find(client, &policy_id)
            .await?
            .map(|found| Self::state(found, &state)))
    }

    async fn update(
        &self,
        client: &Mesh,
        prior: Model,
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let policy_id = known(&prior.policy_id, "policy_id")
            .map_err(Failure::clean)?
            .clone();
        let inputs = Inputs::of(&planned).ok_or_else(|| {
            Failure::clean(Diagnostic::provider_bug(
                "the rule inputs are not known at apply",
            ))
        })?;
        let name = known(&planned.name, "name")
            .map_err(Failure::clean)?
            .clone();
        let content = inputs.policy();
        let description = planned.description.known().cloned().unwrap_or_default();
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
                return Err(fail(org(&e, format!("Cannot update policy {policy_id}"))).await);
            }
        }
        if Inputs::of(&prior).as_ref() != Some(&inputs) {
            if let Err(diags) = self.retag(client, &policy_id, &inputs.tags()).await {
                return Err(fail(diags).await);
            }
        }
        let before = prior.target_ids.known().cloned().unwrap_or_default();
        let after = known(&planned.target_ids, "target_ids")
            .map_err(Failure::clean)?
            .clone();
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
            Err(e) => return Err(org(&e, format!("Cannot list the targets of {policy_id}"))),
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
            Err(e) => Err(org(&e, format!("Cannot delete policy {policy_id}"))),
        }
    }

    async fn import(&self, client: &Mesh, id: &str) -> Result<Model, Diagnostics> {
        let shaped = id.strip_prefix("p-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        if !shaped {
            return Err(Diagnostic::error(
                "Invalid import id",
                format!("{id:?} is not a policy id; import mesh_guardrail by its policy id, p-xxxxxxxx."),
            )
            .at(AttributePath::attr("id"))
            .into());
        }
        let Some(found) = self.find(client, id).await? else {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(rules: &[&str], allowed: &[&str]) -> Inputs {
        Inputs {
            rules: rules.iter().map(|s| s.to_string()).collect(),
            governance_account_id: "111111111111".into(),
            allowed: allowed.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn settings_rule_denies_put_settings_outside_governance() {
        let doc: Json = serde_json::from_str(&inputs(&[RULE_SETTINGS], &[]).policy()).unwrap();
        let st = &doc["Statement"][0];
        assert_eq!(st["Effect"], "Deny");
        assert_eq!(st["Action"][0], "lakeformation:PutDataLakeSettings");
        assert_eq!(
            st["Condition"]["StringNotEquals"]["aws:PrincipalAccount"][0],
            "111111111111"
        );
        assert_eq!(doc["Statement"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn policy_is_deterministic_and_ordered() {
        let a = inputs(
            &[RULE_REGISTRATION, RULE_SETTINGS],
            &["arn:aws:iam::*:role/b", "arn:aws:iam::111111111111:role/a"],
        );
        let b = inputs(
            &[RULE_SETTINGS, RULE_REGISTRATION],
            &["arn:aws:iam::111111111111:role/a", "arn:aws:iam::*:role/b"],
        );
        assert_eq!(a.policy(), b.policy());
        let doc: Json = serde_json::from_str(&a.policy()).unwrap();
        assert_eq!(doc["Statement"][0]["Sid"], SID_SETTINGS);
        assert_eq!(doc["Statement"][1]["Sid"], SID_REGISTRATION);
        assert!(!a.policy().contains(' '));
    }

    #[test]
    fn semantic_comparison_ignores_formatting_only() {
        let generated = inputs(&[RULE_SETTINGS], &[]).policy();
        let reformatted = r#"{
          "Version": "2012-10-17",
          "Statement": {
            "Sid": "MeshProtectLakeFormationSettings",
            "Effect": "Deny",
            "Action": "lakeformation:PutDataLakeSettings",
            "Resource": ["*"],
            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "111111111111"}}
          }
        }"#;
        assert!(same_policy(&generated, reformatted));
        let edited = reformatted.replace("111111111111", "222222222222");
        assert!(!same_policy(&generated, &edited));
        assert!(!same_policy(&generated, "not json"));
    }

    #[test]
    fn tags_round_trip() {
        let i = inputs(
            &[RULE_SETTINGS, RULE_REGISTRATION],
            &["arn:aws:iam::111111111111:role/a", "arn:aws:iam::*:role/b"],
        );
        assert_eq!(Inputs::from_tags(&i.tags()), Some(i));
        assert_eq!(Inputs::from_tags(&BTreeMap::new()), None);
    }

    #[test]
    fn target_and_principal_shapes() {
        assert!(check_target("ou-ab12-cdef3456").is_none());
        assert!(check_target("r-ab12").is_none());
        assert!(check_target("444455556666").is_none());
        assert!(check_target("ou-AB12-cdef3456").is_some());
        assert!(check_target("4444").is_some());
        assert!(check_target("domains").is_some());
        assert!(check_principal_pattern("arn:aws:iam::*:role/DomainDataAdmin").is_none());
        assert!(check_principal_pattern("arn:aws:iam::111111111111:role/Gov").is_none());
        assert!(check_principal_pattern("role/Gov").is_some());
    }
}
