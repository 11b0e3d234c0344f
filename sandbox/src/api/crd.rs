//! CustomResourceDefinitions: validating a definition, turning it into a served resource
//! type, the status a real server reports (Established, NamesAccepted), and the cleanup
//! finalizer that removes the custom resources before the definition goes.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{ApiError, Cluster};
use crate::names;
use crate::registry::{ResourceType, StorageKey};
use crate::validation::{self, FieldError};

/// Finalizer a real server puts on every CRD so its custom resources are deleted first.
pub(crate) const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

fn is_definition(resource: &ResourceType) -> bool {
    !resource.custom && resource.plural == "customresourcedefinitions"
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Builds the served resource type from a definition, or the field errors that stop it.
pub(crate) fn resource_type(definition: &Value) -> Result<ResourceType, Vec<FieldError>> {
    let spec = &definition["spec"];
    let mut errors = Vec::new();
    let group = spec["group"].as_str().unwrap_or_default().to_string();
    let plural = spec["names"]["plural"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let kind = spec["names"]["kind"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if group.is_empty() {
        errors.push(FieldError::required("spec.group"));
    } else if !group.contains('.') || !validation::is_dns_subdomain(&group) {
        errors.push(FieldError::invalid(
            "spec.group",
            &format!("\"{group}\""),
            "should be a domain with at least one dot",
        ));
    }
    if plural.is_empty() {
        errors.push(FieldError::required("spec.names.plural"));
    }
    if kind.is_empty() {
        errors.push(FieldError::required("spec.names.kind"));
    }
    let name = super::name_of(definition);
    if !plural.is_empty() && !group.is_empty() && name != format!("{plural}.{group}") {
        errors.push(FieldError::invalid(
            "metadata.name",
            &format!("\"{name}\""),
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    let scope = spec["scope"].as_str().unwrap_or_default();
    if !matches!(scope, "Namespaced" | "Cluster") {
        errors.push(FieldError::not_supported(
            "spec.scope",
            &format!("\"{scope}\""),
            "\"Cluster\", \"Namespaced\"",
        ));
    }
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    if versions.is_empty() {
        errors.push(FieldError::invalid(
            "spec.versions",
            "null",
            "must have exactly one version marked as storage version",
        ));
    }
    let storage: Vec<&Value> = versions
        .iter()
        .filter(|version| version["storage"].as_bool() == Some(true))
        .collect();
    if !versions.is_empty() && storage.len() != 1 {
        errors.push(FieldError::invalid(
            "spec.versions",
            &format!("{}", storage.len()),
            "must have exactly one version marked as storage version",
        ));
    }
    let mut schemas = BTreeMap::new();
    let mut printer_columns = BTreeMap::new();
    let mut served = Vec::new();
    let mut status_subresource = false;
    let mut field_labels = Vec::new();
    for (index, version) in versions.iter().enumerate() {
        let version_name = version["name"].as_str().unwrap_or_default().to_string();
        match version["schema"].get("openAPIV3Schema") {
            Some(schema) if schema.is_object() => {
                schemas.insert(version_name.clone(), schema.clone());
            }
            _ => errors.push(FieldError::required_because(
                &format!("spec.versions[{index}].schema.openAPIV3Schema"),
                "schemas are required",
            )),
        }
        if let Some(columns) = version["additionalPrinterColumns"].as_array() {
            printer_columns.insert(version_name.clone(), columns.clone());
        }
        if version["served"].as_bool() == Some(true) {
            let is_storage = version["storage"].as_bool() == Some(true);
            if is_storage {
                served.insert(0, version_name.clone());
            } else {
                served.push(version_name.clone());
            }
            if is_storage || !status_subresource {
                status_subresource = version["subresources"].get("status").is_some();
            }
        }
        if let Some(selectable) = version["selectableFields"].as_array() {
            for field in selectable {
                if let Some(path) = field["jsonPath"].as_str() {
                    field_labels.push(path.trim_start_matches('.').to_string());
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let names = &spec["names"];
    Ok(ResourceType {
        group,
        versions: served,
        list_kind: names["listKind"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{kind}List")),
        singular: names["singular"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| kind.to_lowercase()),
        kind,
        plural,
        short_names: strings(&names["shortNames"]),
        categories: strings(&names["categories"]),
        namespaced: scope == "Namespaced",
        status_subresource,
        log_subresource: false,
        tracks_generation: true,
        orphans_by_default: false,
        field_labels,
        schemas,
        printer_columns,
        custom: true,
    })
}

/// Checks a definition on write and fills what the server owns; returns the resource type
/// to register once the write is stored.
pub(crate) fn admit(
    _cluster: &Cluster,
    resource: &ResourceType,
    object: &mut Value,
) -> Result<Option<ResourceType>, ApiError> {
    if !is_definition(resource) {
        return Ok(None);
    }
    let name = super::name_of(object).to_string();
    let definition =
        resource_type(object).map_err(|errors| ApiError::invalid(resource, &name, &errors))?;
    let terminating = !object["metadata"]["deletionTimestamp"].is_null();
    if !terminating {
        let finalizers = object["metadata"]["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !finalizers
            .iter()
            .any(|finalizer| finalizer == CLEANUP_FINALIZER)
        {
            let mut finalizers = finalizers;
            finalizers.push(json!(CLEANUP_FINALIZER));
            object["metadata"]["finalizers"] = Value::Array(finalizers);
        }
    }
    let now = names::now();
    let condition = |kind: &str, status: &str, reason: &str, message: &str| json!({"type": kind, "status": status, "lastTransitionTime": now, "reason": reason, "message": message});
    let mut conditions = vec![
        condition("NamesAccepted", "True", "NoConflicts", "no conflicts found"),
        condition(
            "Established",
            "True",
            "InitialNamesAccepted",
            "the initial names have been accepted",
        ),
    ];
    if terminating {
        conditions.push(condition(
            "Terminating",
            "True",
            "InstanceDeletionInProgress",
            "CustomResource deletion is in progress",
        ));
    }
    let previous = object["status"]["conditions"].clone();
    if let Some(previous) = previous.as_array() {
        for condition in conditions.iter_mut() {
            let same = previous.iter().find(|old| {
                old["type"] == condition["type"] && old["status"] == condition["status"]
            });
            if let Some(same) = same {
                condition["lastTransitionTime"] = same["lastTransitionTime"].clone();
            }
        }
    }
    let storage = definition.versions.first().cloned().unwrap_or_default();
    let mut stored_versions = strings(&object["status"]["storedVersions"]);
    if !stored_versions.contains(&storage) {
        stored_versions.push(storage);
    }
    object["status"] = json!({
        "conditions": conditions,
        "acceptedNames": object["spec"]["names"].clone(),
        "storedVersions": stored_versions,
    });
    if terminating {
        return Ok(None);
    }
    Ok(Some(definition))
}

/// Stops serving the resource of a removed definition.
pub(crate) fn forget(cluster: &Cluster, definition: &Value) {
    let key = StorageKey {
        group: definition["spec"]["group"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        plural: definition["spec"]["names"]["plural"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    cluster.with_registry_mut(|registry| {
        if registry.get(&key).is_some_and(|resource| resource.custom) {
            registry.unregister(&key);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition() -> Value {
        json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [
                    {"name": "v1", "served": true, "storage": true,
                     "schema": {"openAPIV3Schema": {"type": "object"}},
                     "subresources": {"status": {}}}
                ]
            }
        })
    }

    #[test]
    fn a_valid_definition_becomes_a_served_resource() {
        let resource = resource_type(&definition()).unwrap();
        assert_eq!(resource.kind, "Widget");
        assert_eq!(resource.list_kind, "WidgetList");
        assert_eq!(resource.singular, "widget");
        assert_eq!(resource.versions, ["v1"]);
        assert!(resource.namespaced && resource.status_subresource && resource.custom);
    }

    #[test]
    fn the_name_must_be_plural_dot_group() {
        let mut wrong = definition();
        wrong["metadata"]["name"] = json!("widget.example.com");
        let errors = resource_type(&wrong).unwrap_err();
        assert_eq!(errors[0].field, "metadata.name");
    }

    #[test]
    fn exactly_one_storage_version_is_required() {
        let mut wrong = definition();
        wrong["spec"]["versions"][0]["storage"] = json!(false);
        assert!(resource_type(&wrong).is_err());
    }
}
