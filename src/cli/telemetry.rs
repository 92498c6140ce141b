//! Where the CLI's tracing goes: logs to stderr (`-v`, `-q`, `STRAND_LOG`),
//! and, built with the `otlp` feature and given `OTEL_EXPORTER_OTLP_ENDPOINT`,
//! spans to an OpenTelemetry collector over OTLP/HTTP (protobuf).

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// The standard variable naming the collector (`http://host:4318`).
pub const OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// Which spans are exported, unless `STRAND_TRACE` says otherwise: Strand's
/// own at info (attempts, requests), nothing of the libraries beneath.
#[cfg_attr(
    not(feature = "otlp"),
    allow(dead_code, reason = "used with the otlp feature")
)]
const EXPORTED: &str = "warn,strand=info,strand_actors=info,strand_engine=info,strand_server=info";

/// The installed tracing; [`finish`](Self::finish) flushes exported spans.
#[must_use = "finish() flushes the spans not yet exported"]
pub struct Telemetry {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Telemetry {
    /// Log at the level `verbose`/`quiet` give (or `STRAND_LOG`), and export
    /// spans when the build and the environment ask for it.
    pub fn init(verbose: u8, quiet: bool) -> Self {
        let level = match (quiet, verbose) {
            (true, _) => "error",
            (false, 0) => "warn",
            (false, 1) => "info",
            (false, 2) => "debug",
            _ => "trace",
        };
        let logs = EnvFilter::try_from_env("STRAND_LOG").unwrap_or_else(|_| EnvFilter::new(level));
        let stderr = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(logs);
        let registry = tracing_subscriber::registry().with(stderr);
        let asked = std::env::var_os(OTLP_ENDPOINT).is_some_and(|v| !v.is_empty());
        #[cfg(feature = "otlp")]
        {
            if asked {
                match otlp::layer() {
                    Ok((layer, provider)) => {
                        let _ = registry.with(layer).try_init();
                        return Self {
                            provider: Some(provider),
                        };
                    }
                    Err(error) => {
                        let _ = registry.try_init();
                        tracing::warn!(%error, "cannot export traces over OTLP");
                        return Self { provider: None };
                    }
                }
            }
            let _ = registry.try_init();
            Self { provider: None }
        }
        #[cfg(not(feature = "otlp"))]
        {
            let _ = registry.try_init();
            if asked {
                tracing::warn!(
                    "{OTLP_ENDPOINT} is set, but this strand was built without the `otlp` feature: no traces are exported"
                );
            }
            Self {}
        }
    }

    /// Export what is left and stop the exporter (before the process exits).
    #[cfg_attr(
        not(feature = "otlp"),
        allow(
            clippy::unused_self,
            reason = "nothing to flush without the otlp feature"
        )
    )]
    pub fn finish(self) {
        #[cfg(feature = "otlp")]
        if let Some(provider) = self.provider
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!(%error, "traces not flushed to the collector");
        }
    }
}

#[cfg(feature = "otlp")]
mod otlp {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::WithExportConfig as _;
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::{EnvFilter, Layer};

    /// The OTLP layer (batching, on its own thread) and its provider. The
    /// exporter reads the standard `OTEL_EXPORTER_OTLP_*` variables itself.
    pub(super) fn layer<S>()
    -> Result<(impl Layer<S>, SdkTracerProvider), opentelemetry_otlp::ExporterBuildError>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .build()?;
        let resource = if std::env::var_os("OTEL_SERVICE_NAME").is_some() {
            Resource::builder().build()
        } else {
            Resource::builder().with_service_name("strand").build()
        };
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        let wanted = EnvFilter::try_from_env("STRAND_TRACE")
            .unwrap_or_else(|_| EnvFilter::new(super::EXPORTED));
        let layer = tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("strand"))
            .with_filter(wanted);
        Ok((layer, provider))
    }
}
