using AgentCrm.Core.Platform.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AgentCrm.Core.Durable.Queues;

/// <summary>
/// Each queue's depth, oldest wait and dead letters in /api/health (not a readiness check: a backlog is no
/// reason to stop serving). Degraded while a queue's oldest ready message has waited longer than
/// Durable__QueueAgeDegradedSeconds: its handlers are down, too few or too slow.
/// </summary>
public sealed class QueueHealthCheck(QueueStatistics statistics, DurableOptions options, IOptions<HealthOptions> health) : IHealthCheck
{
    public const string Name = "queues";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<QueueDepth> depths;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(health.Value.PostgresTimeout); // the postgres check reports an absent database; this one must not hang on it
        try
        {
            depths = await statistics.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Degraded($"Queue figures were not read within {health.Value.PostgresTimeout.TotalMilliseconds} ms.");
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            return HealthCheckResult.Degraded($"Could not read queue figures: {ex.Message}");
        }

        var data = depths.ToDictionary(d => d.Queue, d => (object)new
        {
            visible = d.Visible,
            delayed = d.Delayed,
            inFlight = d.InFlight,
            oldestVisibleAgeSeconds = d.OldestVisibleAgeSeconds,
            deadLetters = d.DeadLetters,
        });
        var limit = options.QueueAgeDegraded.TotalSeconds;
        var stale = depths.Where(d => d.OldestVisibleAgeSeconds > limit).Select(d => $"{d.Queue} ({d.OldestVisibleAgeSeconds:0} s)").ToList();
        return stale.Count == 0
            ? HealthCheckResult.Healthy(depths.Count == 0 ? "No queues." : $"{depths.Count} queue(s); none has waited over {limit:0} s.", data)
            : HealthCheckResult.Degraded($"Oldest ready message older than {limit:0} s on: {string.Join(", ", stale)}.", data: data);
    }
}
