//! Field errors in the shape a real server reports them, and the cheap built-in validations:
//! object names, labels, and a few per-kind rules whose absence would let tests pass here and
//! fail on a real cluster (Job restart policy, workload selectors, PVC requests, ...).

use serde_json::Value;

use crate::registry::ResourceType;
use kubestash::schedule::CronSchedule as Schedule;

/// One invalid field, rendered `field: detail` like apimachinery's `field.Error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub field: String,
    /// `FieldValueInvalid`, `FieldValueRequired`, ...
    pub reason: &'static str,
    pub detail: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}: {}", self.field, self.detail)
    }
}

impl FieldError {
    fn new(field: &str, reason: &'static str, detail: String) -> Self {
        Self {
            field: field.to_string(),
            reason,
            detail,
        }
    }

    /// `Invalid value: <value>: <message>`.
    pub fn invalid(field: &str, value: &str, message: &str) -> Self {
        Self::new(
            field,
            "FieldValueInvalid",
            format!("Invalid value: {value}: {message}"),
        )
    }

    /// `Invalid value` for a type mismatch.
    pub fn type_invalid(field: &str, value: &str, message: &str) -> Self {
        Self::new(
            field,
            "FieldValueTypeInvalid",
            format!("Invalid value: {value}: {message}"),
        )
    }

    /// `Required value`.
    pub fn required(field: &str) -> Self {
        Self::new(field, "FieldValueRequired", "Required value".to_string())
    }

    /// `Required value: <message>`.
    pub fn required_because(field: &str, message: &str) -> Self {
        Self::new(
            field,
            "FieldValueRequired",
            format!("Required value: {message}"),
        )
    }

    /// `Unsupported value: <value>: supported values: <supported>`.
    pub fn not_supported(field: &str, value: &str, supported: &str) -> Self {
        Self::new(
            field,
            "FieldValueNotSupported",
            format!("Unsupported value: {value}: supported values: {supported}"),
        )
    }

    /// `Too long: may not be more than <maximum> bytes`.
    pub fn too_long(field: &str, maximum: u64) -> Self {
        Self::new(
            field,
            "FieldValueTooLong",
            format!("Too long: may not be more than {maximum} bytes"),
        )
    }

    /// `Too many: <count>: must have at most <maximum> items`.
    pub fn too_many(field: &str, count: u64, maximum: u64) -> Self {
        Self::new(
            field,
            "FieldValueTooMany",
            format!("Too many: {count}: must have at most {maximum} items"),
        )
    }

    /// `Forbidden: <message>`.
    pub fn forbidden(field: &str, message: &str) -> Self {
        Self::new(
            field,
            "FieldValueForbidden",
            format!("Forbidden: {message}"),
        )
    }

    /// `Invalid value` for an immutable field.
    pub fn immutable(field: &str) -> Self {
        Self::new(
            field,
            "FieldValueInvalid",
            "Invalid value: field is immutable".to_string(),
        )
    }
}

const SUBDOMAIN_MESSAGE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS_1035_MESSAGE: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MESSAGE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const QUALIFIED_NAME_MESSAGE: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

fn is_dns_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

/// Whether `text` is an RFC 1123 subdomain.
pub(crate) fn is_dns_subdomain(text: &str) -> bool {
    text.len() <= 253 && text.split('.').all(is_dns_label)
}

fn is_label_value(text: &str) -> bool {
    text.is_empty()
        || (text.len() <= 63
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"-_.".contains(&byte))
            && text.as_bytes()[0].is_ascii_alphanumeric()
            && text.as_bytes()[text.len() - 1].is_ascii_alphanumeric())
}

/// Which rule an object name follows.
enum NameRule {
    Subdomain,
    Label,
    Dns1035,
    PathSegment,
}

fn name_rule(resource: &ResourceType) -> NameRule {
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("", "namespaces") => NameRule::Label,
        ("", "services") => NameRule::Dns1035,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        _ if resource.custom => NameRule::PathSegment,
        _ => NameRule::Subdomain,
    }
}

/// Validates a name against the rule for its resource; `field` is where the name came from.
pub(crate) fn validate_name(resource: &ResourceType, name: &str, field: &str) -> Vec<FieldError> {
    let quoted = format!("\"{name}\"");
    match name_rule(resource) {
        NameRule::Subdomain if !is_dns_subdomain(name) => {
            if name.len() > 253 {
                vec![FieldError::invalid(
                    field,
                    &quoted,
                    "must be no more than 253 characters",
                )]
            } else {
                vec![FieldError::invalid(field, &quoted, SUBDOMAIN_MESSAGE)]
            }
        }
        NameRule::Label if !is_dns_label(name) => {
            if name.len() > 63 {
                vec![FieldError::invalid(
                    field,
                    &quoted,
                    "must be no more than 63 characters",
                )]
            } else {
                vec![FieldError::invalid(field, &quoted, LABEL_MESSAGE)]
            }
        }
        NameRule::Dns1035 if !is_dns_label(name) || !name.as_bytes()[0].is_ascii_lowercase() => {
            vec![FieldError::invalid(field, &quoted, DNS_1035_MESSAGE)]
        }
        NameRule::PathSegment if name == "." || name == ".." || name.contains(['/', '%']) => {
            vec![FieldError::invalid(
                field,
                &quoted,
                "may not contain '/' or '%', and may not be '.' or '..'",
            )]
        }
        _ => Vec::new(),
    }
}

fn validate_labels(labels: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let Some(labels) = labels.as_object() else {
        return;
    };
    for (key, value) in labels {
        let (prefix, name) = match key.rsplit_once('/') {
            Some((prefix, name)) => (Some(prefix), name),
            None => (None, key.as_str()),
        };
        let name_valid = !name.is_empty() && name.len() <= 63 && is_label_value(name);
        let prefix_valid = prefix.is_none_or(is_dns_subdomain);
        if !name_valid || !prefix_valid {
            errors.push(FieldError::invalid(
                field,
                &format!("\"{key}\""),
                QUALIFIED_NAME_MESSAGE,
            ));
        }
        let text = value.as_str().unwrap_or_default();
        if text.len() > 63 {
            errors.push(FieldError::invalid(
                field,
                &format!("\"{text}\""),
                "must be no more than 63 characters",
            ));
        } else if !is_label_value(text) {
            errors.push(FieldError::invalid(
                field,
                &format!("\"{text}\""),
                LABEL_VALUE_MESSAGE,
            ));
        }
    }
}

fn validate_pod_spec(spec: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let containers = spec["containers"]
        .as_array()
        .filter(|containers| !containers.is_empty());
    let Some(containers) = containers else {
        errors.push(FieldError::required(&format!("{field}.containers")));
        return;
    };
    for (index, container) in containers.iter().enumerate() {
        let name = container["name"].as_str().unwrap_or_default();
        if name.is_empty() {
            errors.push(FieldError::required(&format!(
                "{field}.containers[{index}].name"
            )));
        } else if !is_dns_label(name) {
            errors.push(FieldError::invalid(
                &format!("{field}.containers[{index}].name"),
                &format!("\"{name}\""),
                LABEL_MESSAGE,
            ));
        }
        if container["image"].as_str().unwrap_or_default().is_empty() {
            errors.push(FieldError::required(&format!(
                "{field}.containers[{index}].image"
            )));
        }
    }
    if let Some(policy) = spec["restartPolicy"].as_str() {
        if !matches!(policy, "Always" | "OnFailure" | "Never") {
            errors.push(FieldError::not_supported(
                &format!("{field}.restartPolicy"),
                &format!("\"{policy}\""),
                "\"Always\", \"OnFailure\", \"Never\"",
            ));
        }
    }
}

fn validate_workload(object: &Value, template_field: &str, errors: &mut Vec<FieldError>) {
    let spec = &object["spec"];
    let template = template_field
        .split('.')
        .skip(1)
        .fold(spec, |value, segment| &value[segment]);
    match spec.get("selector").filter(|selector| selector.is_object()) {
        None => errors.push(FieldError::required("spec.selector")),
        Some(selector) => {
            let selector = crate::selector::LabelSelector::from_json(selector);
            if selector.is_empty() {
                errors.push(FieldError::invalid(
                    "spec.selector",
                    "v1.LabelSelector{}",
                    "empty selector is invalid for deployment",
                ));
            } else if !selector.matches_labels(template["metadata"]["labels"].as_object()) {
                errors.push(FieldError::invalid(
                    &format!("{template_field}.metadata.labels"),
                    &template["metadata"]["labels"].to_string(),
                    "`selector` does not match template `labels`",
                ));
            }
        }
    }
    validate_pod_spec(&template["spec"], &format!("{template_field}.spec"), errors);
}

fn validate_job_template(spec: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let pod_spec = &spec["template"]["spec"];
    validate_pod_spec(pod_spec, &format!("{field}.template.spec"), errors);
    let policy = pod_spec["restartPolicy"].as_str().unwrap_or("Always");
    if !matches!(policy, "OnFailure" | "Never") {
        errors.push(FieldError::not_supported(
            &format!("{field}.template.spec.restartPolicy"),
            &format!("\"{policy}\""),
            "\"OnFailure\", \"Never\"",
        ));
    }
}

/// Per-kind validations of built-in resources, after defaulting.
/// The API server's limit on the total size of an object's annotations (keys plus values).
const ANNOTATIONS_SIZE_LIMIT: u64 = 256 * 1024;

fn validate_annotations(annotations: &Value, errors: &mut Vec<FieldError>) {
    let Some(annotations) = annotations.as_object() else {
        return;
    };
    let total: usize = annotations
        .iter()
        .map(|(key, value)| key.len() + value.as_str().map(str::len).unwrap_or_default())
        .sum();
    if total as u64 > ANNOTATIONS_SIZE_LIMIT {
        // kubectl's client-side apply hits this with very large objects (last-applied).
        errors.push(FieldError::too_long(
            "metadata.annotations",
            ANNOTATIONS_SIZE_LIMIT,
        ));
    }
}

pub(crate) fn validate_builtin(resource: &ResourceType, object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    validate_annotations(&object["metadata"]["annotations"], &mut errors);
    validate_labels(
        &object["metadata"]["labels"],
        "metadata.labels",
        &mut errors,
    );
    if resource.custom {
        return errors;
    }
    let spec = &object["spec"];
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("", "pods") => validate_pod_spec(spec, "spec", &mut errors),
        ("apps", "deployments" | "replicasets" | "statefulsets" | "daemonsets") => {
            validate_workload(object, "spec.template", &mut errors)
        }
        ("batch", "jobs") => validate_job_template(spec, "spec", &mut errors),
        ("batch", "cronjobs") => {
            let schedule = spec["schedule"].as_str().unwrap_or_default();
            if schedule.is_empty() {
                errors.push(FieldError::required("spec.schedule"));
            } else if let Err(error) = Schedule::parse(schedule) {
                errors.push(FieldError::invalid(
                    "spec.schedule",
                    &format!("\"{schedule}\""),
                    &error.to_string(),
                ));
            }
            validate_job_template(
                &spec["jobTemplate"]["spec"],
                "spec.jobTemplate.spec",
                &mut errors,
            );
        }
        ("", "persistentvolumeclaims") => {
            let modes = spec["accessModes"]
                .as_array()
                .is_some_and(|modes| !modes.is_empty());
            if !modes && spec["volumeName"].is_null() {
                errors.push(FieldError::required_because(
                    "spec.accessModes",
                    "at least 1 access mode is required",
                ));
            }
            if spec["resources"]["requests"]["storage"].is_null() {
                errors.push(FieldError::required("spec.resources[storage]"));
            }
        }
        ("", "services") => {
            let headless = spec["clusterIP"].as_str() == Some("None");
            let external = spec["type"].as_str() == Some("ExternalName");
            let has_ports = spec["ports"]
                .as_array()
                .is_some_and(|ports| !ports.is_empty());
            if !headless && !external && !has_ports {
                errors.push(FieldError::required("spec.ports"));
            }
        }
        _ => {}
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin_resources;
    use serde_json::json;

    fn resource(plural: &str) -> ResourceType {
        builtin_resources()
            .into_iter()
            .find(|resource| resource.plural == plural)
            .unwrap()
    }

    #[test]
    fn names_follow_the_rule_of_their_resource() {
        assert!(validate_name(&resource("configmaps"), "a.b-c", "metadata.name").is_empty());
        assert_eq!(
            validate_name(&resource("configmaps"), "Bad_Name", "metadata.name").len(),
            1
        );
        assert_eq!(
            validate_name(&resource("namespaces"), "a.b", "metadata.name").len(),
            1
        );
        assert_eq!(
            validate_name(&resource("services"), "1abc", "metadata.name").len(),
            1
        );
        assert!(
            validate_name(&resource("clusterroles"), "system:admin", "metadata.name").is_empty()
        );
    }

    #[test]
    fn label_values_longer_than_63_characters_are_invalid() {
        let long = "x".repeat(64);
        let object = json!({"metadata": {"labels": {"job-name": long}}});
        let errors = validate_builtin(&resource("configmaps"), &object);
        assert_eq!(errors.len(), 1);
        assert!(errors[0]
            .to_string()
            .contains("must be no more than 63 characters"));
    }

    #[test]
    fn jobs_must_not_restart_always() {
        let job = json!({"metadata": {}, "spec": {"template": {"spec": {
            "restartPolicy": "Always", "containers": [{"name": "c", "image": "i"}]}}}});
        let errors = validate_builtin(&resource("jobs"), &job);
        assert_eq!(
            errors[0].to_string(),
            "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""
        );
    }

    #[test]
    fn annotations_over_256_kib_are_rejected() {
        let resource = resource("configmaps");
        let small = json!({"metadata": {"annotations": {"a": "b"}}});
        assert!(validate_builtin(&resource, &small).is_empty());
        let large = json!({"metadata": {"annotations": {"a": "x".repeat(300 * 1024)}}});
        let errors = validate_builtin(&resource, &large);
        assert_eq!(errors[0].field, "metadata.annotations");
    }

    #[test]
    fn deployment_selector_must_match_template_labels() {
        let deployment = json!({"metadata": {}, "spec": {
            "selector": {"matchLabels": {"app": "a"}},
            "template": {"metadata": {"labels": {"app": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
        let errors = validate_builtin(&resource("deployments"), &deployment);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "spec.template.metadata.labels");
    }
}
