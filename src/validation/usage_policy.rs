//! Usage policies (`Same` / `All` / `Selector`) and label selector matching.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::api::common::{FromNamespaces, UsagePolicy};

/// Whether a namespace may use a shared object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamespaceAccess {
    /// Allowed.
    Allowed,
    /// Denied, with the reason.
    Denied(String),
    /// Depends on the namespace's labels, which were not given.
    Unknown,
}

/// Evaluates `policy` (KubeStash's default `Same` when `None`) for an object in
/// `owner_namespace` used from `user_namespace`, whose labels are given when known.
pub fn namespace_allowed(
    policy: Option<&UsagePolicy>,
    owner_namespace: &str,
    user_namespace: &str,
    user_namespace_labels: Option<&BTreeMap<String, String>>,
) -> NamespaceAccess {
    let allowed = policy.and_then(|policy| policy.allowed_namespaces.as_ref());
    let from = allowed.map(|allowed| allowed.from).unwrap_or_default();
    match from {
        FromNamespaces::All => NamespaceAccess::Allowed,
        FromNamespaces::Same if owner_namespace == user_namespace => NamespaceAccess::Allowed,
        FromNamespaces::Same => NamespaceAccess::Denied(format!(
            "its usagePolicy allows only namespace `{owner_namespace}` (from: Same), not `{user_namespace}`"
        )),
        FromNamespaces::Selector => {
            let Some(selector) = allowed.and_then(|allowed| allowed.selector.as_ref()) else {
                return NamespaceAccess::Denied("its usagePolicy uses from: Selector without a selector".into());
            };
            let Some(labels) = user_namespace_labels else {
                return NamespaceAccess::Unknown;
            };
            match label_selector_matches(selector, labels) {
                Ok(true) => NamespaceAccess::Allowed,
                Ok(false) => NamespaceAccess::Denied(format!(
                    "namespace `{user_namespace}` does not match its usagePolicy selector"
                )),
                Err(reason) => NamespaceAccess::Denied(format!("its usagePolicy selector is invalid: {reason}")),
            }
        }
    }
}

/// Whether `labels` match a Kubernetes label selector; an empty selector matches everything.
pub fn label_selector_matches(
    selector: &LabelSelector,
    labels: &BTreeMap<String, String>,
) -> Result<bool, String> {
    for (key, value) in selector.match_labels.iter().flatten() {
        if labels.get(key) != Some(value) {
            return Ok(false);
        }
    }
    for expression in selector.match_expressions.iter().flatten() {
        let values = expression.values.as_deref().unwrap_or_default();
        let actual = labels.get(&expression.key);
        let matches = match expression.operator.as_str() {
            "In" => actual.is_some_and(|actual| values.contains(actual)),
            "NotIn" => actual.is_none_or(|actual| !values.contains(actual)),
            "Exists" => actual.is_some(),
            "DoesNotExist" => actual.is_none(),
            other => return Err(format!("unknown operator `{other}`")),
        };
        if !matches {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Checks the shape of a usage policy (a `Selector` needs a selector).
pub(crate) fn check(policy: Option<&UsagePolicy>, field: &str, findings: &mut super::Findings) {
    let Some(allowed) = policy.and_then(|policy| policy.allowed_namespaces.as_ref()) else {
        return;
    };
    if allowed.from == FromNamespaces::Selector && allowed.selector.is_none() {
        findings.error(
            format!("{field}.allowedNamespaces.selector"),
            "required when `from` is `Selector`",
        );
    }
    if let Some(selector) = &allowed.selector {
        for (index, expression) in selector.match_expressions.iter().flatten().enumerate() {
            if !["In", "NotIn", "Exists", "DoesNotExist"].contains(&expression.operator.as_str()) {
                findings.error(
                    format!(
                        "{field}.allowedNamespaces.selector.matchExpressions[{index}].operator"
                    ),
                    format!(
                        "unknown operator `{}` (In, NotIn, Exists, DoesNotExist)",
                        expression.operator
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::AllowedNamespaces;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn policy(from: FromNamespaces, selector: Option<LabelSelector>) -> UsagePolicy {
        UsagePolicy {
            allowed_namespaces: Some(AllowedNamespaces { from, selector }),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn missing_policy_means_same_namespace_only() {
        assert_eq!(
            namespace_allowed(None, "shop", "shop", None),
            NamespaceAccess::Allowed
        );
        assert!(matches!(
            namespace_allowed(None, "shop", "demo", None),
            NamespaceAccess::Denied(_)
        ));
    }

    #[test]
    fn all_allows_every_namespace() {
        let policy = policy(FromNamespaces::All, None);
        assert_eq!(
            namespace_allowed(Some(&policy), "shop", "demo", None),
            NamespaceAccess::Allowed
        );
    }

    #[test]
    fn selector_matches_namespace_labels() {
        let selector = LabelSelector {
            match_labels: Some(labels(&[("team", "shop")]).into_iter().collect()),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "env".into(),
                operator: "In".into(),
                values: Some(vec!["prod".into(), "staging".into()]),
            }]),
        };
        let policy = policy(FromNamespaces::Selector, Some(selector));
        let good = labels(&[("team", "shop"), ("env", "prod")]);
        let bad = labels(&[("team", "shop"), ("env", "dev")]);
        assert_eq!(
            namespace_allowed(Some(&policy), "a", "b", Some(&good)),
            NamespaceAccess::Allowed
        );
        assert!(matches!(
            namespace_allowed(Some(&policy), "a", "b", Some(&bad)),
            NamespaceAccess::Denied(_)
        ));
        assert_eq!(
            namespace_allowed(Some(&policy), "a", "b", None),
            NamespaceAccess::Unknown
        );
    }

    #[test]
    fn set_based_operators_work() {
        let requirement = |operator: &str, values: Option<Vec<String>>| LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: operator.into(),
                values,
            }]),
        };
        let backend = labels(&[("tier", "backend")]);
        let none = labels(&[]);
        assert!(label_selector_matches(&requirement("Exists", None), &backend).unwrap());
        assert!(!label_selector_matches(&requirement("Exists", None), &none).unwrap());
        assert!(label_selector_matches(&requirement("DoesNotExist", None), &none).unwrap());
        assert!(
            label_selector_matches(&requirement("NotIn", Some(vec!["web".into()])), &backend)
                .unwrap()
        );
        assert!(
            label_selector_matches(&requirement("NotIn", Some(vec!["web".into()])), &none).unwrap()
        );
        assert!(label_selector_matches(&requirement("Near", None), &none).is_err());
    }
}
