using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AgentCrm.Core.Platform.Observability;

/// <summary>The app's own span source and meter, and the built-in ones it subscribes to.</summary>
public static class Telemetry
{
    public const string Name = "AgentCrm";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    /// <summary>Spans: requests (ASP.NET Core), PostgreSQL (Npgsql), outgoing HTTP, and ours.</summary>
    public static readonly string[] ActivitySources = ["Microsoft.AspNetCore", "Npgsql", "System.Net.Http", Name];

    /// <summary>Metrics: http.server.request.duration per route comes from Microsoft.AspNetCore.Hosting.</summary>
    public static readonly string[] Meters =
        ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Npgsql", "System.Net.Http", Name];
}
