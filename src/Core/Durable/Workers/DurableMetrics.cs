using System.Diagnostics.Metrics;
using AgentCrm.Core.Platform.Observability;

namespace AgentCrm.Core.Durable.Workers;

/// <summary>The engine's instruments on <see cref="Telemetry.Meter"/>; tag <c>limit</c> is history_events, history_bytes or payload_bytes.</summary>
internal static class DurableMetrics
{
    public const string LimitWarningsName = "agentcrm.durable.limit_warnings";
    public const string LimitFailuresName = "agentcrm.durable.limit_failures";
    public const string StuckInstancesName = "agentcrm.durable.stuck_instances";

    public static readonly Counter<long> LimitWarnings = Telemetry.Meter.CreateCounter<long>(
        LimitWarningsName, description: "Executions that crossed a warn limit (once per crossing), and turns that carried a payload over the warn size.");

    public static readonly Counter<long> LimitFailures = Telemetry.Meter.CreateCounter<long>(
        LimitFailuresName, description: "Instances failed because they went over a fail limit.");
}
