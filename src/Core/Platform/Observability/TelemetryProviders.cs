using AgentCrm.Core.Platform.Hosting;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AgentCrm.Core.Platform.Observability;

/// <summary>
/// The OpenTelemetry SDK wired by hand (the hosting extensions are not served here). Providers exist
/// only when there is somewhere to export; without them ASP.NET Core still creates request activities,
/// so trace ids and W3C traceparent propagation work either way. Disposing flushes what is buffered.
/// </summary>
public sealed class TelemetryProviders : IDisposable
{
    private readonly TracerProvider? _tracer;
    private readonly MeterProvider? _meter;

    public TelemetryProviders(ObservabilityOptions options, AppInfo app)
    {
        if (options.OtlpEndpoint is not { } endpoint)
        {
            return;
        }

        var resource = ResourceBuilder.CreateDefault()
            .AddService(options.ServiceName, serviceVersion: app.Version, serviceInstanceId: app.Instance)
            .AddAttributes([new("deployment.environment.name", app.Environment), new("agentcrm.slot", app.Slot)]);

        _tracer = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(Telemetry.ActivitySources)
            .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.SamplingRatio)))
            .AddOtlpExporter(o => Configure(o, options, endpoint, "v1/traces"))
            .Build();

        _meter = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(Telemetry.Meters)
            .AddOtlpExporter(o => Configure(o, options, endpoint, "v1/metrics"))
            .Build();
    }

    public bool Exporting => _tracer is not null;

    // With http/protobuf an endpoint set in code is used verbatim, so the signal path is appended here
    // (the OTEL_EXPORTER_OTLP_ENDPOINT convention).
    private static void Configure(OtlpExporterOptions exporter, ObservabilityOptions options, Uri endpoint, string signalPath)
    {
        if (options.OtlpProtocol == OtlpProtocol.HttpProtobuf)
        {
            exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            exporter.Endpoint = new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/" + signalPath);
        }
        else
        {
            exporter.Protocol = OtlpExportProtocol.Grpc;
            exporter.Endpoint = endpoint;
        }
    }

    public void Dispose()
    {
        _tracer?.Dispose();
        _meter?.Dispose();
    }
}
