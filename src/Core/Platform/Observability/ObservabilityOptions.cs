using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Platform.Observability;

public enum OtlpProtocol
{
    Grpc,
    HttpProtobuf,
}

/// <summary>Tracing and metrics export. The standard OTEL_* variables are honoured as aliases.</summary>
public sealed record ObservabilityOptions(string ServiceName, Uri? OtlpEndpoint, OtlpProtocol OtlpProtocol, double SamplingRatio)
{
    public static ObservabilityOptions Read(SettingsReader settings, bool isProduction)
    {
        var protocolRaw = settings.OptionalString("Observability:OtlpProtocol", "OTEL_EXPORTER_OTLP_PROTOCOL");
        var protocol = OtlpProtocol.Grpc;
        switch (protocolRaw?.ToUpperInvariant())
        {
            case null or "GRPC":
                break;
            case "HTTP/PROTOBUF" or "HTTPPROTOBUF":
                protocol = OtlpProtocol.HttpProtobuf;
                break;
            default:
                settings.Report("Observability:OtlpProtocol", $"must be grpc or http/protobuf, got \"{protocolRaw}\"", "http/protobuf");
                break;
        }

        return new ObservabilityOptions(
            settings.OptionalString("Observability:ServiceName", "OTEL_SERVICE_NAME") ?? "agentcrm",
            settings.OptionalAbsoluteUri("Observability:OtlpEndpoint", "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_ENDPOINT"),
            protocol,
            // DESIGN.md §11: everything in staging, a tenth in production, unless set.
            settings.Number("Observability:SamplingRatio", isProduction ? 0.1 : 1.0, 0, 1));
    }
}
