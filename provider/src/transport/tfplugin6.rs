//! The tfplugin6 `Provider` gRPC service: converts wire messages to calls on the framework's
//! [`Server`] and back. One function per RPC, each only converting.
//!
//! RPCs not implemented here answer UNIMPLEMENTED through the generated default stubs
//! (Terraform 1.12+ calls GetResourceIdentitySchemas and takes UNIMPLEMENTED as "none").

use crate::framework::diag::{Diagnostic, Diagnostics, Severity};
use crate::framework::path::{AttributePath, PathStep};
use crate::framework::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use crate::framework::server::{Provider, RawValue, Server};
use mesh_proto::tfplugin6 as pb;
use std::time::Instant;
use tonic::{Request, Response, Status};

/// The gRPC face of a framework provider.
pub struct ProviderService<P: Provider> {
    server: Server<P>,
}

impl<P: Provider> ProviderService<P> {
    /// Serves `provider`.
    pub fn new(provider: P) -> Self {
        Self {
            server: Server::new(provider),
        }
    }
}

fn raw(value: Option<pb::DynamicValue>) -> RawValue {
    value
        .map(|v| RawValue {
            msgpack: v.msgpack,
            json: v.json,
        })
        .unwrap_or_default()
}

fn dynamic(msgpack: Vec<u8>) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack,
        json: Vec::new(),
    })
}

fn path(p: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: p
            .steps
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                    PathStep::ElementKeyString(key) => Selector::ElementKeyString(key.clone()),
                    PathStep::ElementKeyInt(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

fn diagnostic(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.path.as_ref().filter(|p| !p.is_root()).map(path),
    }
}

fn diagnostics(diags: &Diagnostics) -> Vec<pb::Diagnostic> {
    diags.iter().map(diagnostic).collect()
}

fn schema(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block(&s.block, s.version)),
    }
}

fn block(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute).collect(),
        block_types: b.blocks.iter().map(nested_block).collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: b.deprecated,
        ..Default::default()
    }
}

fn attribute(a: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: a.ty.to_json(),
        description: a.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        deprecated: a.deprecated,
        ..Default::default()
    }
}

fn nested_block(n: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    pb::schema::NestedBlock {
        type_name: n.type_name.clone(),
        block: Some(block(&n.block, 0)),
        nesting: match n.nesting {
            Nesting::Single => NestingMode::Single,
            Nesting::List => NestingMode::List,
            Nesting::Set => NestingMode::Set,
            Nesting::Map => NestingMode::Map,
            Nesting::Group => NestingMode::Group,
        } as i32,
        min_items: n.min_items,
        max_items: n.max_items,
    }
}

/// Logs an RPC at TRACE with its duration.
fn traced(rpc: &'static str, type_name: &str, started: Instant, diags: &Diagnostics) {
    crate::trace!(
        "served RPC",
        rpc = rpc,
        type_name = type_name,
        duration_ms = started.elapsed().as_millis() as u64,
        errors = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count(),
    );
}

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderService<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        let schemas = self.server.provider_schemas();
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: diagnostics(&schemas.diags),
            resources: schemas
                .resources
                .keys()
                .map(|name| pb::get_metadata::ResourceMetadata {
                    type_name: name.clone(),
                })
                .collect(),
            data_sources: schemas
                .data_sources
                .keys()
                .map(|name| pb::get_metadata::DataSourceMetadata {
                    type_name: name.clone(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        let schemas = self.server.provider_schemas();
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema(&schemas.provider)),
            resource_schemas: schemas
                .resources
                .iter()
                .map(|(name, s)| (name.clone(), schema(s)))
                .collect(),
            data_source_schemas: schemas
                .data_sources
                .iter()
                .map(|(name, s)| (name.clone(), schema(s)))
                .collect(),
            diagnostics: diagnostics(&schemas.diags),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let started = Instant::now();
        let diags = self
            .server
            .validate_provider_config(&raw(request.into_inner().config));
        traced("ValidateProviderConfig", "", started, &diags);
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diagnostics(&diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let started = Instant::now();
        let req = request.into_inner();
        let diags = self
            .server
            .validate_resource_config(&req.type_name, &raw(req.config));
        traced("ValidateResourceConfig", &req.type_name, started, &diags);
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diagnostics(&diags),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let started = Instant::now();
        let req = request.into_inner();
        crate::debug!(
            "configuring provider",
            terraform_version = req.terraform_version
        );
        let diags = self.server.configure_provider(&raw(req.config)).await;
        traced("ConfigureProvider", "", started, &diags);
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diagnostics(&diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let started = Instant::now();
        let req = request.into_inner();
        let json = req.raw_state.map(|r| r.json).unwrap_or_default();
        let out = self
            .server
            .upgrade_resource_state(&req.type_name, req.version, &json);
        traced("UpgradeResourceState", &req.type_name, started, &out.diags);
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: dynamic(out.state),
            diagnostics: diagnostics(&out.diags),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let started = Instant::now();
        let req = request.into_inner();
        let out = self
            .server
            .read_resource(&req.type_name, &raw(req.current_state), &req.private)
            .await;
        traced("ReadResource", &req.type_name, started, &out.diags);
        Ok(Response::new(pb::read_resource::Response {
            new_state: dynamic(out.state),
            diagnostics: diagnostics(&out.diags),
            private: out.private,
            ..Default::default()
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let started = Instant::now();
        let req = request.into_inner();
        let out = self
            .server
            .plan_resource_change(
                &req.type_name,
                &raw(req.prior_state),
                &raw(req.proposed_new_state),
                &raw(req.config),
                &req.prior_private,
            )
            .await;
        traced("PlanResourceChange", &req.type_name, started, &out.diags);
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state: dynamic(out.planned_state),
            requires_replace: out.requires_replace.iter().map(path).collect(),
            planned_private: out.planned_private,
            diagnostics: diagnostics(&out.diags),
            ..Default::default()
        }))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let started = Instant::now();
        let req = request.into_inner();
        let out = self
            .server
            .apply_resource_change(
                &req.type_name,
                &raw(req.prior_state),
                &raw(req.planned_state),
                &req.planned_private,
            )
            .await;
        traced("ApplyResourceChange", &req.type_name, started, &out.diags);
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: dynamic(out.state),
            private: out.private,
            diagnostics: diagnostics(&out.diags),
            ..Default::default()
        }))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let started = Instant::now();
        let req = request.into_inner();
        let (imported, diags) = self
            .server
            .import_resource_state(&req.type_name, &req.id)
            .await;
        traced("ImportResourceState", &req.type_name, started, &diags);
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: imported
                .into_iter()
                .map(|i| pb::import_resource_state::ImportedResource {
                    type_name: i.type_name,
                    state: dynamic(i.state),
                    private: i.private,
                    ..Default::default()
                })
                .collect(),
            diagnostics: diagnostics(&diags),
            ..Default::default()
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let started = Instant::now();
        let req = request.into_inner();
        let diags = self
            .server
            .validate_data_resource_config(&req.type_name, &raw(req.config));
        traced(
            "ValidateDataResourceConfig",
            &req.type_name,
            started,
            &diags,
        );
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diagnostics(&diags),
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let started = Instant::now();
        let req = request.into_inner();
        let out = self
            .server
            .read_data_source(&req.type_name, &raw(req.config))
            .await;
        traced("ReadDataSource", &req.type_name, started, &out.diags);
        Ok(Response::new(pb::read_data_source::Response {
            state: dynamic(out.state),
            diagnostics: diagnostics(&out.diags),
            ..Default::default()
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        // In-flight AWS calls finish on their own (bounded by retries); Terraform then shuts the
        // plugin down through GRPCController.Shutdown.
        crate::debug!("StopProvider received");
        Ok(Response::new(pb::stop_provider::Response::default()))
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        // Destroy plans come to PlanResourceChange with a null proposed state; the framework
        // answers them, so Terraform 1.3+ may ask.
        plan_destroy: true,
        ..Default::default()
    }
}
