using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Observability;

namespace AgentCrm.Core.Durable.Queues;

/// <summary>One queue's figures: messages ready now, delayed or retrying, leased; how long the oldest ready one has waited; dead letters.</summary>
public sealed record QueueDepth(string Queue, long Visible, long Delayed, long InFlight, double? OldestVisibleAgeSeconds, long DeadLetters);

/// <summary>
/// Queue figures for /api/health and the gauges on <see cref="Telemetry.Meter"/>, in one grouped statement.
/// Gauge callbacks cannot wait for the database, so they report the last figures read and start a fresh
/// read when those are older than <see cref="GaugeRefresh"/>: exported values lag by up to one collection.
/// Every process reports the same task-hub-wide figures, so dashboards should take their max, not their sum.
/// </summary>
public sealed class QueueStatistics(PostgresDataSources dataSources, IEnumerable<QueueHandlerRegistration> registrations, TimeProvider time) : IDisposable
{
    public static readonly TimeSpan GaugeRefresh = TimeSpan.FromSeconds(10);

    // The meter is static and apps are many in a test process: gauges are created once and read every published instance.
    private static readonly ConcurrentDictionary<QueueStatistics, byte> Published = new();
    private static readonly Counter<long> Outcomes = Telemetry.Meter.CreateCounter<long>("agentcrm.queue.messages",
        description: "Deliveries finished, by queue and outcome (completed, retried, dead_lettered, released).");

    private readonly string[] _registered = registrations.Select(r => r.Queue).ToArray();
    private volatile Snapshot? _last;
    private int _refreshing;

    static QueueStatistics()
    {
        Telemetry.Meter.CreateObservableGauge("agentcrm.queue.depth", () => Gauge(d => new[]
        {
            new Measurement<long>(d.Visible, new("queue", d.Queue), new("state", "visible")),
            new Measurement<long>(d.Delayed, new("queue", d.Queue), new("state", "delayed")),
            new Measurement<long>(d.InFlight, new("queue", d.Queue), new("state", "in_flight")),
        }), description: "Messages on each queue by state (visible: ready now; delayed: waiting for a delay or retry; in_flight: leased).");
        Telemetry.Meter.CreateObservableGauge("agentcrm.queue.oldest_age", () => Gauge(d => new[]
        {
            new Measurement<double>(d.OldestVisibleAgeSeconds ?? 0, new KeyValuePair<string, object?>("queue", d.Queue)),
        }), unit: "s", description: "How long the oldest ready message of each queue has waited for a handler.");
        Telemetry.Meter.CreateObservableGauge("agentcrm.queue.dead_letters", () => Gauge(d => new[]
        {
            new Measurement<long>(d.DeadLetters, new KeyValuePair<string, object?>("queue", d.Queue)),
        }), description: "Dead-lettered messages of each queue.");
    }

    /// <summary>Starts reporting this app's figures on the gauges (its queue workers call this when they start).</summary>
    public void Publish() => Published[this] = 0;

    internal static void Finished(string queue, string outcome) =>
        Outcomes.Add(1, new KeyValuePair<string, object?>("queue", queue), new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>Every queue with messages or dead letters, and every queue with a handler here (zeros when empty), by name.</summary>
    public async Task<IReadOnlyList<QueueDepth>> ReadAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSources.Pooled.CreateCommand("""
            WITH m AS (
                SELECT queue,
                       count(*) FILTER (WHERE visible_at <= now()) AS visible,
                       count(*) FILTER (WHERE visible_at > now() AND (lease_expires_at IS NULL OR lease_expires_at <= now())) AS delayed,
                       count(*) FILTER (WHERE lease_expires_at > now()) AS in_flight,
                       extract(epoch FROM now() - min(visible_at) FILTER (WHERE visible_at <= now()))::float8 AS oldest
                  FROM dt.queue_messages GROUP BY queue),
                 d AS (SELECT queue, count(*) AS dead FROM dt.dead_letters WHERE source = 'queue' GROUP BY queue)
            SELECT coalesce(m.queue, d.queue), coalesce(m.visible, 0), coalesce(m.delayed, 0), coalesce(m.in_flight, 0), m.oldest, coalesce(d.dead, 0)
              FROM m FULL JOIN d ON d.queue = m.queue
            """);
        var depths = new Dictionary<string, QueueDepth>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var queue = reader.GetString(0);
                depths[queue] = new QueueDepth(queue, reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3),
                    reader.IsDBNull(4) ? null : Math.Round(reader.GetDouble(4), 3), reader.GetInt64(5));
            }
        }

        foreach (var queue in _registered.Where(q => !depths.ContainsKey(q)))
        {
            depths[queue] = new QueueDepth(queue, 0, 0, 0, null, 0);
        }

        var result = depths.Values.OrderBy(d => d.Queue, StringComparer.Ordinal).ToList();
        _last = new Snapshot(result, time.GetUtcNow());
        return result;
    }

    public void Dispose() => Published.TryRemove(this, out _);

    private static List<Measurement<T>> Gauge<T>(Func<QueueDepth, IEnumerable<Measurement<T>>> measure) where T : struct =>
        Published.Keys.SelectMany(s => s.Current()).SelectMany(measure).ToList();

    private IReadOnlyList<QueueDepth> Current()
    {
        var last = _last;
        if ((last is null || time.GetUtcNow() - last.ReadAt > GaugeRefresh) && Interlocked.Exchange(ref _refreshing, 1) == 0)
        {
            _ = RefreshAsync();
        }

        return last?.Depths ?? [];
    }

    private async Task RefreshAsync()
    {
        try
        {
            await ReadAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or ObjectDisposedException)
        {
            // The gauges keep the last figures; the next collection tries again.
        }
        finally
        {
            Interlocked.Exchange(ref _refreshing, 0);
        }
    }

    private sealed record Snapshot(IReadOnlyList<QueueDepth> Depths, DateTimeOffset ReadAt);
}
