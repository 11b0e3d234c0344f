//! Label selectors (`=`, `==`, `!=`, `in`, `notin`, exists, `!key`, `gt`, `lt`) and field
//! selectors (`=`, `==`, `!=` on dotted paths), parsed from query strings and matched against
//! JSON objects.

use serde_json::{Map, Value};

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq)]
enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
    GreaterThan(String, i64),
    LessThan(String, i64),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LabelSelector {
    requirements: Vec<LabelRequirement>,
}

/// A selector string that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse requirement: {0}")]
pub(crate) struct SelectorError(pub String);

fn split_top_level(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for character in text.chars() {
        match character {
            '(' => {
                depth += 1;
                current.push(character);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                current.push(character);
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut current)),
            _ => current.push(character),
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|part| part.trim().to_string())
        .filter(|part| !part.is_empty())
        .collect()
}

fn check_key(key: &str, whole: &str) -> Result<String, SelectorError> {
    let key = key.trim();
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "-_./".contains(character));
    if valid {
        Ok(key.to_string())
    } else {
        Err(SelectorError(format!(
            "invalid label key \"{key}\" in \"{whole}\""
        )))
    }
}

fn parse_set(rest: &str, whole: &str) -> Result<Vec<String>, SelectorError> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(|| SelectorError(format!("found '{rest}', expected: '(' in \"{whole}\"")))?;
    Ok(inner
        .split(',')
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
        .collect())
}

fn parse_requirement(text: &str) -> Result<LabelRequirement, SelectorError> {
    if let Some(key) = text.strip_prefix('!') {
        return Ok(LabelRequirement::DoesNotExist(check_key(key, text)?));
    }
    if let Some((key, value)) = text.split_once("!=") {
        return Ok(LabelRequirement::NotEquals(
            check_key(key, text)?,
            value.trim().to_string(),
        ));
    }
    if let Some((key, value)) = text.split_once("==").or_else(|| text.split_once('=')) {
        return Ok(LabelRequirement::Equals(
            check_key(key, text)?,
            value.trim().to_string(),
        ));
    }
    for (operator, is_greater) in [(">", true), ("<", false)] {
        if let Some((key, value)) = text.split_once(operator) {
            let number = value
                .trim()
                .parse::<i64>()
                .map_err(|_| SelectorError(format!("invalid number \"{value}\" in \"{text}\"")))?;
            let key = check_key(key, text)?;
            return Ok(if is_greater {
                LabelRequirement::GreaterThan(key, number)
            } else {
                LabelRequirement::LessThan(key, number)
            });
        }
    }
    let words: Vec<&str> = text.splitn(2, char::is_whitespace).collect();
    if words.len() == 2 {
        let key = check_key(words[0], text)?;
        let rest = words[1].trim_start();
        if let Some(set) = rest.strip_prefix("notin") {
            return Ok(LabelRequirement::NotIn(key, parse_set(set, text)?));
        }
        if let Some(set) = rest.strip_prefix("in") {
            return Ok(LabelRequirement::In(key, parse_set(set, text)?));
        }
        return Err(SelectorError(format!(
            "found '{rest}', expected: in, notin, =, ==, !=, gt, lt in \"{text}\""
        )));
    }
    Ok(LabelRequirement::Exists(check_key(text, text)?))
}

impl LabelSelector {
    /// Parses the `labelSelector` query parameter syntax.
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let requirements = split_top_level(text)
            .iter()
            .map(|part| parse_requirement(part))
            .collect::<Result<_, _>>()?;
        Ok(Self { requirements })
    }

    /// Builds a selector from a `metav1.LabelSelector` JSON object (`matchLabels`,
    /// `matchExpressions`).
    pub fn from_json(selector: &Value) -> Self {
        let mut requirements = Vec::new();
        if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
            for (key, value) in labels {
                requirements.push(LabelRequirement::Equals(
                    key.clone(),
                    value.as_str().unwrap_or_default().to_string(),
                ));
            }
        }
        if let Some(expressions) = selector.get("matchExpressions").and_then(Value::as_array) {
            for expression in expressions {
                let key = expression["key"].as_str().unwrap_or_default().to_string();
                let values: Vec<String> = expression["values"]
                    .as_array()
                    .map(|values| {
                        values
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                requirements.push(match expression["operator"].as_str().unwrap_or_default() {
                    "In" => LabelRequirement::In(key, values),
                    "NotIn" => LabelRequirement::NotIn(key, values),
                    "DoesNotExist" => LabelRequirement::DoesNotExist(key),
                    _ => LabelRequirement::Exists(key),
                });
            }
        }
        Self { requirements }
    }

    /// Whether the selector has no requirements.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether a label map satisfies every requirement.
    pub fn matches_labels(&self, labels: Option<&Map<String, Value>>) -> bool {
        let label = |key: &str| {
            labels
                .and_then(|labels| labels.get(key))
                .and_then(Value::as_str)
        };
        self.requirements
            .iter()
            .all(|requirement| match requirement {
                LabelRequirement::Equals(key, value) => label(key) == Some(value.as_str()),
                LabelRequirement::NotEquals(key, value) => label(key) != Some(value.as_str()),
                LabelRequirement::In(key, values) => {
                    label(key).is_some_and(|found| values.iter().any(|value| value == found))
                }
                LabelRequirement::NotIn(key, values) => {
                    label(key).is_none_or(|found| values.iter().all(|value| value != found))
                }
                LabelRequirement::Exists(key) => label(key).is_some(),
                LabelRequirement::DoesNotExist(key) => label(key).is_none(),
                LabelRequirement::GreaterThan(key, number) => label(key)
                    .and_then(|found| found.parse::<i64>().ok())
                    .is_some_and(|found| found > *number),
                LabelRequirement::LessThan(key, number) => label(key)
                    .and_then(|found| found.parse::<i64>().ok())
                    .is_some_and(|found| found < *number),
            })
    }

    /// Whether an object's `metadata.labels` satisfy the selector.
    pub fn matches(&self, object: &Value) -> bool {
        self.matches_labels(object["metadata"]["labels"].as_object())
    }
}

/// One requirement of a field selector.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldRequirement {
    /// Dotted path such as `metadata.name` or `status.phase`.
    pub field: String,
    pub value: String,
    pub negated: bool,
}

/// A parsed field selector.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FieldSelector {
    pub requirements: Vec<FieldRequirement>,
}

fn unescape(value: &str) -> String {
    let mut result = String::new();
    let mut characters = value.chars();
    while let Some(character) = characters.next() {
        if character == '\\' {
            if let Some(next) = characters.next() {
                result.push(next);
            }
        } else {
            result.push(character);
        }
    }
    result
}

fn split_unescaped(text: &str, separator: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for character in text.chars() {
        if escaped {
            current.push('\\');
            current.push(character);
            escaped = false;
        } else if character == '\\' {
            escaped = true;
        } else if character == separator {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(character);
        }
    }
    parts.push(current);
    parts
}

/// The string form of a field value, as the server's field set holds it.
pub(crate) fn field_value(object: &Value, path: &str) -> String {
    // Field labels whose value the apiserver derives rather than reads as is.
    let (path, default) = match path {
        // A Job's `status.successful` is its `status.succeeded` count.
        "status.successful" => ("status.succeeded", "0"),
        "spec.hostNetwork" | "spec.unschedulable" => (path, "false"),
        "source" => ("source.component", ""),
        _ => (path, ""),
    };
    let value = raw_field_value(object, path);
    if value.is_empty() {
        default.to_string()
    } else {
        value
    }
}

fn raw_field_value(object: &Value, path: &str) -> String {
    let mut current = object;
    for segment in path.split('.') {
        current = &current[segment];
    }
    match current {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl FieldSelector {
    /// Parses the `fieldSelector` query parameter syntax.
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for part in split_unescaped(text, ',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (field, value, negated) = if let Some((field, value)) = part.split_once("!=") {
                (field, value, true)
            } else if let Some((field, value)) = part.split_once("==") {
                (field, value, false)
            } else if let Some((field, value)) = part.split_once('=') {
                (field, value, false)
            } else {
                return Err(SelectorError(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                )));
            };
            requirements.push(FieldRequirement {
                field: field.trim().to_string(),
                value: unescape(value.trim()),
                negated,
            });
        }
        Ok(Self { requirements })
    }

    /// Whether an object satisfies every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|requirement| {
            let found = field_value(object, &requirement.field);
            (found == requirement.value) != requirement.negated
        })
    }

    /// The name a selector pins, for `metadata.name=<name>` (used to skip a scan).
    pub fn pinned_name(&self) -> Option<&str> {
        self.requirements
            .iter()
            .find(|requirement| requirement.field == "metadata.name" && !requirement.negated)
            .map(|requirement| requirement.value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(labels: Value) -> Value {
        json!({"metadata": {"name": "one", "namespace": "shop", "labels": labels}, "status": {"phase": "Running"}})
    }

    #[test]
    fn derived_field_labels_read_as_the_apiserver_sets_them() {
        let job = json!({"status": {"succeeded": 1}});
        assert_eq!(field_value(&job, "status.successful"), "1");
        assert_eq!(field_value(&json!({}), "status.successful"), "0");
        assert_eq!(
            field_value(&json!({"spec": {}}), "spec.hostNetwork"),
            "false"
        );
        assert_eq!(
            field_value(&json!({"spec": {"hostNetwork": true}}), "spec.hostNetwork"),
            "true"
        );
        let event = json!({"source": {"component": "kubelet", "host": "n1"}});
        assert_eq!(field_value(&event, "source"), "kubelet");
        assert_eq!(
            field_value(&json!({"metadata": {"name": "x"}}), "metadata.name"),
            "x"
        );
    }

    #[test]
    fn equality_and_inequality_requirements_match_labels() {
        let selector = LabelSelector::parse("app=web,tier!=db").unwrap();
        assert!(selector.matches(&object(json!({"app": "web", "tier": "front"}))));
        assert!(selector.matches(&object(json!({"app": "web"}))));
        assert!(!selector.matches(&object(json!({"app": "web", "tier": "db"}))));
        assert!(!selector.matches(&object(json!({"app": "api"}))));
        assert!(LabelSelector::parse("app==web")
            .unwrap()
            .matches(&object(json!({"app": "web"}))));
    }

    #[test]
    fn set_based_requirements_match_labels() {
        let selector = LabelSelector::parse("env in (prod, staging),tier notin (db),app").unwrap();
        assert!(selector.matches(&object(json!({"env": "prod", "app": "x"}))));
        assert!(!selector.matches(&object(json!({"env": "dev", "app": "x"}))));
        assert!(!selector.matches(&object(json!({"env": "prod", "tier": "db", "app": "x"}))));
        assert!(!selector.matches(&object(json!({"env": "prod"}))));
        let absent = LabelSelector::parse("!legacy").unwrap();
        assert!(absent.matches(&object(json!({}))));
        assert!(!absent.matches(&object(json!({"legacy": "yes"}))));
    }

    #[test]
    fn numeric_comparisons_need_numeric_labels() {
        let selector = LabelSelector::parse("size>3").unwrap();
        assert!(selector.matches(&object(json!({"size": "4"}))));
        assert!(!selector.matches(&object(json!({"size": "2"}))));
        assert!(!selector.matches(&object(json!({"size": "big"}))));
    }

    #[test]
    fn malformed_selectors_are_rejected() {
        assert!(LabelSelector::parse("env in prod").is_err());
        assert!(LabelSelector::parse("a b").is_err());
        assert!(LabelSelector::parse("bad key=1").is_err());
        assert!(FieldSelector::parse("metadata.name").is_err());
    }

    #[test]
    fn json_label_selectors_combine_labels_and_expressions() {
        let selector = LabelSelector::from_json(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]
        }));
        assert!(selector.matches(&object(json!({"app": "web", "env": "prod"}))));
        assert!(!selector.matches(&object(json!({"app": "web", "env": "dev"}))));
    }

    #[test]
    fn field_selectors_compare_dotted_paths() {
        let selector = FieldSelector::parse("metadata.name=one,status.phase!=Failed").unwrap();
        assert!(selector.matches(&object(json!({}))));
        assert_eq!(selector.pinned_name(), Some("one"));
        let other = FieldSelector::parse("metadata.namespace==other").unwrap();
        assert!(!other.matches(&object(json!({}))));
    }
}
