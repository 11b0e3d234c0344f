//! `${name}` and `${name:=default}` placeholders, as KubeStash uses them in blueprint
//! templates and Function arguments.

/// The result of substituting placeholders in one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Substituted {
    /// The text with every resolvable placeholder replaced.
    pub text: String,
    /// Names of placeholders that had neither a value nor a default, in order of appearance.
    pub unresolved: Vec<String>,
}

/// Replaces each `${name}` with `lookup(name)` and each `${name:=default}` with the value or
/// the default. Unresolved placeholders stay in the text, so nothing is silently blanked.
pub fn substitute(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Substituted {
    let mut output = String::with_capacity(text.len());
    let mut unresolved = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        output.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            output.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":=") {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        if is_name(name) {
            match (lookup(name), default) {
                (Some(value), _) => output.push_str(&value),
                (None, Some(default)) => output.push_str(default),
                (None, None) => {
                    output.push_str(&rest[start..start + 2 + end + 1]);
                    if !unresolved.iter().any(|known| known == name) {
                        unresolved.push(name.to_string());
                    }
                }
            }
        } else {
            output.push_str(&rest[start..start + 2 + end + 1]);
        }
        rest = &after[end + 1..];
    }
    output.push_str(rest);
    Substituted {
        text: output,
        unresolved,
    }
}

fn is_name(name: &str) -> bool {
    let mut characters = name.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | '.')
        })
}

/// Substitutes placeholders in every string of a JSON value, collecting unresolved names.
pub fn substitute_value(
    value: &mut serde_json::Value,
    lookup: &impl Fn(&str) -> Option<String>,
    unresolved: &mut Vec<String>,
) {
    match value {
        serde_json::Value::String(text) => {
            let result = substitute(text, lookup);
            for name in result.unresolved {
                if !unresolved.contains(&name) {
                    unresolved.push(name);
                }
            }
            *text = result.text;
        }
        serde_json::Value::Array(items) => {
            for item in items {
                substitute_value(item, lookup, unresolved);
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values_mut() {
                substitute_value(item, lookup, unresolved);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "namespace" => Some("shop".into()),
            "targetName" => Some("invoices".into()),
            _ => None,
        }
    }

    #[test]
    fn known_variables_are_replaced() {
        let result = substitute("${namespace}/${targetName}", lookup);
        assert_eq!(result.text, "shop/invoices");
        assert!(result.unresolved.is_empty());
    }

    #[test]
    fn defaults_apply_only_when_the_variable_is_missing() {
        assert_eq!(
            substitute("--ns=${namespace:=default}", lookup).text,
            "--ns=shop"
        );
        assert_eq!(
            substitute("--cache=${enableCache:=true}", lookup).text,
            "--cache=true"
        );
        assert_eq!(substitute("--x=${missing:=}", lookup).text, "--x=");
    }

    #[test]
    fn unresolved_variables_are_kept_and_reported_once() {
        let result = substitute("${paths} and ${paths} in ${namespace}", lookup);
        assert_eq!(result.text, "${paths} and ${paths} in shop");
        assert_eq!(result.unresolved, ["paths"]);
    }

    #[test]
    fn text_that_is_not_a_placeholder_is_left_alone() {
        assert_eq!(
            substitute("cost: $5 ${ not a name } ${", lookup).text,
            "cost: $5 ${ not a name } ${"
        );
    }
}
