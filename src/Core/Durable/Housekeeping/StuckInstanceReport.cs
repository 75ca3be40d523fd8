using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AgentCrm.Core.Durable.Store;
using AgentCrm.Core.Durable.Workers;
using AgentCrm.Core.Platform.Observability;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Durable.Housekeeping;

/// <summary>
/// The stuck-looking instances (see <see cref="TaskHubStore.FindStuckAsync"/>), read at most every
/// <see cref="CacheFor"/> however often health is polled, and exported as a gauge. The gauge's callback must
/// not block on the database, so it reports the last reading and starts a fresh one when that is stale.
/// </summary>
public sealed partial class StuckInstanceReport : IDisposable
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    public const int SampleSize = 5;

    // One gauge for the process; each live report (one per app, several in tests) contributes its reading.
    private static readonly ConcurrentDictionary<StuckInstanceReport, byte> Live = new();
    private static readonly ObservableGauge<long> Gauge = Telemetry.Meter.CreateObservableGauge(
        DurableMetrics.StuckInstancesName, ObserveAll, description: "Live instances whose ready work has gone unconsumed for longer than Durable:StuckAfterMinutes.");

    private readonly TaskHubStore _store;
    private readonly DurableOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<StuckInstanceReport> _logger;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile StuckSnapshot? _snapshot;

    public StuckInstanceReport(TaskHubStore store, DurableOptions options, TimeProvider time, ILogger<StuckInstanceReport> logger)
    {
        (_store, _options, _time, _logger) = (store, options, time, logger);
        _ = Gauge; // touch the static so the gauge exists as soon as any report does
        Live.TryAdd(this, 0);
    }

    public TimeSpan StuckAfter => _options.StuckAfter;

    /// <summary>The cached reading when fresh, else a new one (concurrent callers share it).</summary>
    public async Task<StuckSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        if (Fresh(_snapshot) is { } cached)
        {
            return cached;
        }

        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (Fresh(_snapshot) is { } other)
            {
                return other;
            }

            var stuck = await _store.FindStuckAsync(_options.StuckAfter, SampleSize, cancellationToken);
            return _snapshot = new StuckSnapshot(stuck.Count, stuck.Sample, _time.GetUtcNow());
        }
        finally
        {
            _refresh.Release();
        }
    }

    public void Dispose()
    {
        Live.TryRemove(this, out _);
        _refresh.Dispose();
    }

    private StuckSnapshot? Fresh(StuckSnapshot? snapshot) => snapshot is not null && _time.GetUtcNow() - snapshot.At < CacheFor ? snapshot : null;

    private static IEnumerable<Measurement<long>> ObserveAll()
    {
        foreach (var report in Live.Keys)
        {
            if (report.Observe() is { } count)
            {
                yield return new Measurement<long>(count);
            }
        }
    }

    private long? Observe()
    {
        var snapshot = _snapshot;
        if (Fresh(snapshot) is null && _refresh.CurrentCount > 0)
        {
            _ = Task.Run(RefreshQuietlyAsync);
        }

        return snapshot?.Count;
    }

    private async Task RefreshQuietlyAsync()
    {
        try
        {
            await GetAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or ObjectDisposedException)
        {
            LogRefreshFailed(_logger, ex);
        }
    }

    [LoggerMessage(EventId = 6040, Level = LogLevel.Warning, Message = "Could not read the stuck-instance report for its gauge; the last reading stands")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}

/// <summary>One reading: how many instances look stuck, a few of their ids, and when it was taken.</summary>
public sealed record StuckSnapshot(long Count, IReadOnlyList<string> Sample, DateTimeOffset At);
