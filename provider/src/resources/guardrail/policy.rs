//! The policy document: the rule inputs, the generated text, its semantic comparison, and the shapes of targets and principals.

use super::*;
/// The rule inputs, all known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Inputs {
    pub(super) rules: BTreeSet<String>,
    pub(super) governance_account_id: String,
    pub(super) allowed: BTreeSet<String>,
}

impl Inputs {
    /// The inputs when every one is known; `None` while some are unknown (plan time).
    pub(super) fn of(m: &Model) -> Option<Self> {
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
    pub(super) fn policy(&self) -> String {
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
    pub(super) fn tags(&self) -> BTreeMap<String, String> {
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
    pub(super) fn from_tags(tags: &BTreeMap<String, String>) -> Option<Self> {
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
pub(super) fn normalize(value: &Json) -> Json {
    pub(super) fn listish(v: &Json) -> Json {
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
pub(super) fn same_policy(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Json>(a),
        serde_json::from_str::<Json>(b),
    ) {
        (Ok(a), Ok(b)) => normalize(&a) == normalize(&b),
        _ => a == b,
    }
}

pub(super) fn lower_alnum(s: &str) -> bool {
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

pub(super) fn code(e: &AwsError) -> &str {
    e.code.as_deref().unwrap_or_default()
}

pub(super) fn policy_gone(e: &AwsError) -> bool {
    e.is_not_found() || code(e) == "PolicyNotFoundException"
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
