//! Parsing of REST paths (`/api/v1/namespaces/<ns>/<resource>/<name>/<subresource>`,
//! `/apis/<group>/<version>/...`, the legacy `/watch/` prefix) and query strings.

use std::collections::HashMap;

use crate::api::{ApiError, Cluster};
use crate::registry::ResourceType;

/// Decoded query parameters (last value wins).
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    values: HashMap<String, String>,
}

impl Query {
    /// Decodes `a=b&c=d`, including `+` for spaces.
    pub fn parse(text: &str) -> Self {
        Self {
            values: form_urlencoded::parse(text.as_bytes())
                .into_owned()
                .collect(),
        }
    }

    /// One parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// A boolean parameter (`true` or `1`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }

    /// Sets a parameter.
    pub fn set(&mut self, key: &str, value: &str) {
        self.values.insert(key.to_string(), value.to_string());
    }
}

/// A request addressed to a resource.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub resource: ResourceType,
    pub version: String,
    /// The namespace in the path, if any.
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// Resolves a path to a resource route.
pub(crate) fn parse(cluster: &Cluster, segments: &[&str]) -> Result<Route, ApiError> {
    let (group, version, rest) = match segments {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(ApiError::unknown_path()),
    };
    let rest: Vec<&str> = match rest {
        ["watch", remainder @ ..] => remainder.to_vec(),
        other => other.to_vec(),
    };
    let namespace_subresource =
        group.is_empty() && rest.len() == 3 && matches!(rest[2], "status" | "finalize");
    let (namespace, rest) = if rest.len() >= 3 && rest[0] == "namespaces" && !namespace_subresource
    {
        (Some(rest[1].to_string()), rest[2..].to_vec())
    } else {
        (None, rest)
    };
    let (plural, name, subresource) = match rest.as_slice() {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(name.to_string()), None),
        [plural, name, subresource] => (
            *plural,
            Some(name.to_string()),
            Some(subresource.to_string()),
        ),
        _ => return Err(ApiError::unknown_path()),
    };
    let resource = cluster
        .resource(group, version, plural)
        .ok_or_else(ApiError::unknown_path)?;
    if namespace.is_some() && !resource.namespaced {
        return Err(ApiError::unknown_path());
    }
    if resource.namespaced && namespace.is_none() && name.is_some() {
        return Err(ApiError::unknown_path());
    }
    if let Some(subresource) = &subresource {
        let known = match subresource.as_str() {
            "status" => resource.status_subresource,
            "log" => resource.log_subresource,
            "finalize" => !resource.custom && resource.plural == "namespaces",
            _ => false,
        };
        if !known {
            return Err(ApiError::unknown_path());
        }
    }
    Ok(Route {
        resource,
        version: version.to_string(),
        namespace,
        name,
        subresource,
    })
}

/// Whether a path was under the legacy `/watch/` prefix.
pub(crate) fn is_legacy_watch(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["api", _, "watch", ..] | ["apis", _, _, "watch", ..]
    )
}
