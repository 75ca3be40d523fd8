using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentCrm.Core.Platform.Observability;

namespace AgentCrm.Core.Platform.Redis;

/// <summary>A client span per command (only when a listener samples it) and the connection's counters.</summary>
internal static class RedisTelemetry
{
    private static readonly Counter<long> Errors = Telemetry.Meter.CreateCounter<long>("agentcrm.redis.errors", description: "Redis commands that failed, by kind");
    private static readonly Counter<long> Reconnects = Telemetry.Meter.CreateCounter<long>("agentcrm.redis.reconnect_attempts", description: "Attempts to reopen a lost Redis connection");
    private static readonly UpDownCounter<long> Connections = Telemetry.Meter.CreateUpDownCounter<long>("agentcrm.redis.connections", description: "Open Redis command connections");

    public static Activity? StartCommand(string command, RedisEndpoint endpoint)
    {
        var activity = Telemetry.Source.StartActivity(command, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("db.system.name", "redis");
            activity.SetTag("db.operation.name", command);
            activity.SetTag("server.address", endpoint.Host);
            activity.SetTag("server.port", endpoint.Port);
        }

        return activity;
    }

    public static void Failed(Activity? activity, string command, RedisException error)
    {
        var kind = error switch
        {
            RedisTimeoutException => "timeout",
            RedisConnectionException => "connection",
            RedisProtocolException => "protocol",
            RedisServerException => "server",
            _ => "other",
        };
        Errors.Add(1, new KeyValuePair<string, object?>("error.type", kind), new KeyValuePair<string, object?>("db.operation.name", command));
        activity?.SetStatus(ActivityStatusCode.Error, error.Message);
        activity?.SetTag("error.type", kind);
    }

    public static void ReconnectAttempt() => Reconnects.Add(1);

    public static void Connected(int delta) => Connections.Add(delta);
}
