//! Resource handlers: get, list, create, update, patch, delete and deletecollection over
//! HTTP, including query parameters, body decoding, version rendering and warnings.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Response};
use serde_json::{json, Value};

use super::route::{Query, Route};
use super::{bytes_response, error_response, json_response, Body};
use crate::api::{
    ApiError, Cluster, DeleteOptions, FieldValidation, ListQuery, PatchType, Propagation,
    Subresource, WriteOptions, Written,
};

/// Everything a handler needs about one request.
pub(crate) struct RequestContext {
    pub cluster: Arc<Cluster>,
    pub route: Route,
    pub query: Query,
    pub accept: String,
    pub content_type: String,
    pub body: Bytes,
}

impl RequestContext {
    /// The namespace of the path, or empty.
    pub fn namespace(&self) -> &str {
        self.route.namespace.as_deref().unwrap_or_default()
    }

    /// Whether the client asked for a `meta.k8s.io` Table.
    pub fn wants_table(&self) -> bool {
        self.accept.contains("as=Table")
    }

    /// The list query of this request.
    pub fn list_query(&self) -> Result<ListQuery, ApiError> {
        ListQuery::parse(
            &self.route.resource,
            self.query.get("labelSelector"),
            self.query.get("fieldSelector"),
            self.query.get("limit"),
            self.query.get("continue"),
        )
    }

    /// An object as the requested version presents it.
    pub fn render<'a>(&self, object: &'a Value) -> std::borrow::Cow<'a, Value> {
        let api_version = self.route.resource.api_version(&self.route.version);
        if object["apiVersion"].as_str() == Some(api_version.as_str()) {
            std::borrow::Cow::Borrowed(object)
        } else {
            let mut copy = object.clone();
            copy["apiVersion"] = json!(api_version);
            std::borrow::Cow::Owned(copy)
        }
    }

    fn write_options(&self) -> Result<WriteOptions, ApiError> {
        let field_validation = match self.query.get("fieldValidation") {
            None | Some("") | Some("Warn") => FieldValidation::Warn,
            Some("Strict") => FieldValidation::Strict,
            Some("Ignore") => FieldValidation::Ignore,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "fieldValidation parameter unsupported: {other}"
                )))
            }
        };
        Ok(WriteOptions {
            dry_run: self
                .query
                .get("dryRun")
                .is_some_and(|mode| !mode.is_empty()),
            field_manager: self.query.get("fieldManager").map(str::to_string),
            field_validation,
        })
    }

    fn decode_body(&self) -> Result<Value, ApiError> {
        let kind = &self.route.resource.kind;
        if self.content_type.contains("protobuf") {
            return super::protobuf::decode(&self.body);
        }
        if self.content_type.contains("cbor") {
            return Err(ApiError::unsupported_body(&self.content_type));
        }
        if self.content_type.contains("yaml") {
            return serde_yaml::from_slice(&self.body).map_err(|error| {
                ApiError::bad_request(format!(
                    "the object provided is unrecognized (must be of type {kind}): {error}"
                ))
            });
        }
        serde_json::from_slice(&self.body).map_err(|error| {
            ApiError::bad_request(format!(
                "the object provided is unrecognized (must be of type {kind}): couldn't get version/kind; json parse error: {error}"
            ))
        })
    }

    fn object_response(&self, code: u16, object: &Value, warnings: &[String]) -> Response<Body> {
        let rendered = self.render(object);
        let mut response = if self.wants_table() {
            json_response(code, &super::table::table(self, &[rendered.as_ref()], None))
        } else {
            json_response(code, &rendered)
        };
        for warning in warnings {
            let header = format!("299 - \"{}\"", warning.replace('"', "\\\""));
            if let Ok(value) = http::HeaderValue::from_str(&header) {
                response.headers_mut().append("Warning", value);
            }
        }
        response
    }
}

/// Runs the handler for a request and renders failures as `Status`.
pub(crate) async fn dispatch(context: RequestContext, method: &Method) -> Response<Body> {
    match handle(context, method).await {
        Ok(response) => response,
        Err(error) => error_response(&error),
    }
}

async fn handle(context: RequestContext, method: &Method) -> Result<Response<Body>, ApiError> {
    let name = context.route.name.clone();
    let subresource = context.route.subresource.clone();
    let not_allowed = || {
        ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )
    };
    match (method.clone(), name, subresource.as_deref()) {
        (Method::GET, Some(_), Some("log")) => super::logs::serve(context).await,
        (Method::GET, Some(name), _) => {
            let object =
                context
                    .cluster
                    .get(&context.route.resource, context.namespace(), &name)?;
            Ok(context.object_response(200, &object, &[]))
        }
        (Method::GET, None, None) if context.query.flag("watch") => super::watch::serve(context),
        (Method::GET, None, None) => list(&context),
        (Method::POST, None, None) => create(&context),
        (Method::PUT, Some(name), Some("finalize")) => finalize(&context, &name),
        (Method::PUT, Some(name), subresource) => {
            let body = context.decode_body()?;
            let body = context.cluster.check_body(
                &context.route.resource,
                &context.route.version,
                context.namespace(),
                Some(&name),
                body,
            )?;
            // Custom resources do not allow unconditional updates.
            if context.route.resource.custom
                && body["metadata"]["resourceVersion"]
                    .as_str()
                    .is_none_or(str::is_empty)
            {
                return Err(ApiError::invalid(
                    &context.route.resource,
                    &name,
                    &[crate::validation::FieldError::invalid(
                        "metadata.resourceVersion",
                        "0x0",
                        "must be specified for an update",
                    )],
                ));
            }
            let written = context.cluster.update(
                &context.route.resource,
                context.namespace(),
                &name,
                body,
                subresource_of(subresource),
                &context.write_options()?,
            )?;
            Ok(written_response(&context, written))
        }
        (Method::PATCH, Some(name), subresource) => {
            let patch_type = PatchType::from_content_type(&context.content_type)
                .ok_or_else(|| ApiError::unsupported_media_type(&context.content_type))?;
            let written = context.cluster.patch(
                &context.route.resource,
                &context.route.version,
                context.namespace(),
                &name,
                patch_type,
                &context.body,
                subresource_of(subresource),
                &context.write_options()?,
            )?;
            Ok(written_response(&context, written))
        }
        (Method::DELETE, Some(name), None) => {
            let options = delete_options(&context)?;
            let deleted = context.cluster.delete(
                &context.route.resource,
                context.namespace(),
                &name,
                &options,
            )?;
            let code = if deleted.removed { 200 } else { 202 };
            Ok(context.object_response(code, &deleted.object, &[]))
        }
        (Method::DELETE, None, None) => {
            let options = delete_options(&context)?;
            let query = context.list_query()?;
            let deleted = context.cluster.delete_collection(
                &context.route.resource,
                context.route.namespace.as_deref(),
                &query,
                &options,
            )?;
            let revision = context.cluster.lock().revision();
            Ok(bytes_response(
                200,
                list_bytes(&context, &deleted, revision, None, None),
            ))
        }
        _ => Err(not_allowed()),
    }
}

fn subresource_of(subresource: Option<&str>) -> Subresource {
    if subresource == Some("status") {
        Subresource::Status
    } else {
        Subresource::Main
    }
}

fn written_response(context: &RequestContext, written: Written) -> Response<Body> {
    let code = if written.created { 201 } else { 200 };
    context.object_response(code, &written.object, &written.warnings)
}

fn create(context: &RequestContext) -> Result<Response<Body>, ApiError> {
    let resource = &context.route.resource;
    if resource.namespaced && context.route.namespace.is_none() {
        return Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        ));
    }
    let body = context.decode_body()?;
    let body = context.cluster.check_body(
        resource,
        &context.route.version,
        context.namespace(),
        None,
        body,
    )?;
    let written = context.cluster.create(
        resource,
        context.namespace(),
        body,
        &context.write_options()?,
    )?;
    Ok(written_response(context, written))
}

fn finalize(context: &RequestContext, name: &str) -> Result<Response<Body>, ApiError> {
    let body = context.decode_body()?;
    let resource = &context.route.resource;
    let current = context.cluster.get(resource, "", name)?;
    let mut updated = (*current).clone();
    updated["spec"]["finalizers"] = body["spec"]["finalizers"].clone();
    let written = context.cluster.update(
        resource,
        "",
        name,
        updated,
        Subresource::Main,
        &context.write_options()?,
    )?;
    Ok(written_response(context, written))
}

fn delete_options(context: &RequestContext) -> Result<DeleteOptions, ApiError> {
    let mut options = DeleteOptions {
        propagation: context
            .query
            .get("propagationPolicy")
            .map(Propagation::parse)
            .transpose()?,
        dry_run: context
            .query
            .get("dryRun")
            .is_some_and(|mode| !mode.is_empty()),
        ..DeleteOptions::default()
    };
    if context.query.get("orphanDependents") == Some("true") {
        options.propagation = Some(Propagation::Orphan);
    }
    if !context.body.is_empty() {
        let body: Value = serde_json::from_slice(&context.body).map_err(|error| {
            ApiError::bad_request(format!("unable to decode DeleteOptions: {error}"))
        })?;
        options.merge_body(&body)?;
    }
    Ok(options)
}

fn list(context: &RequestContext) -> Result<Response<Body>, ApiError> {
    let query = context.list_query()?;
    let result = context.cluster.list(
        &context.route.resource,
        context.route.namespace.as_deref(),
        &query,
    )?;
    if context.wants_table() {
        let rendered: Vec<std::borrow::Cow<'_, Value>> = result
            .items
            .iter()
            .map(|object| context.render(object))
            .collect();
        let objects: Vec<&Value> = rendered.iter().map(|object| object.as_ref()).collect();
        let mut table = super::table::table(context, &objects, Some(result.revision));
        if let Some(token) = &result.continue_token {
            table["metadata"]["continue"] = json!(token);
        }
        return Ok(json_response(200, &table));
    }
    Ok(bytes_response(
        200,
        list_bytes(
            context,
            &result.items,
            result.revision,
            result.continue_token.as_deref(),
            result.remaining,
        ),
    ))
}

/// Serializes a list without cloning its items.
fn list_bytes(
    context: &RequestContext,
    items: &[Arc<Value>],
    revision: u64,
    continue_token: Option<&str>,
    remaining: Option<usize>,
) -> Vec<u8> {
    let resource = &context.route.resource;
    let mut metadata = json!({"resourceVersion": revision.to_string()});
    if let Some(token) = continue_token {
        metadata["continue"] = json!(token);
    }
    if let Some(remaining) = remaining {
        metadata["remainingItemCount"] = json!(remaining);
    }
    let header = json!({
        "kind": resource.list_kind,
        "apiVersion": resource.api_version(&context.route.version),
        "metadata": metadata,
    });
    let mut bytes = serde_json::to_vec(&header).unwrap_or_default();
    bytes.pop();
    bytes.extend_from_slice(b",\"items\":[");
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            bytes.push(b',');
        }
        let _ = serde_json::to_writer(&mut bytes, context.render(item).as_ref());
    }
    bytes.extend_from_slice(b"]}");
    bytes
}
