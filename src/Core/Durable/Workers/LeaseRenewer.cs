using System.Collections.Concurrent;
using AgentCrm.Core.Durable.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Durable.Workers;

/// <summary>
/// Keeps this worker's leases while it works: every third of a lease it renews its running activities
/// in one statement (a task whose lease was taken, or whose instance was terminated, has its token
/// cancelled), and the instances whose turn is still running (a huge replay must not lose its lease
/// half-way and be started over by another worker, which would lose it too).
/// </summary>
public sealed partial class LeaseRenewer(TaskHubStore store, DurableOptions options, WorkerIdentity identity, TimeProvider time, ILogger<LeaseRenewer> logger)
    : BackgroundService
{
    private readonly ConcurrentDictionary<long, CancellationTokenSource> _running = new();
    private readonly ConcurrentDictionary<string, byte> _turns = new(StringComparer.Ordinal);

    public void Track(long taskId, CancellationTokenSource cancellation) => _running[taskId] = cancellation;

    public void Untrack(long taskId) => _running.TryRemove(taskId, out _);

    public void TrackTurn(string instanceId) => _turns[instanceId] = 0;

    public void UntrackTurn(string instanceId) => _turns.TryRemove(instanceId, out _);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Lease / 3, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RenewTurnsAsync(stoppingToken);
            var ids = _running.Keys.ToArray();
            if (ids.Length == 0)
            {
                continue;
            }

            try
            {
                var (lost, cancelled) = await store.RenewTaskLeasesAsync(identity.Owner, ids, options.Lease, stoppingToken);
                foreach (var id in lost.Concat(cancelled))
                {
                    if (_running.TryGetValue(id, out var cancellation))
                    {
                        try
                        {
                            await cancellation.CancelAsync();
                        }
                        catch (ObjectDisposedException)
                        {
                            // the attempt finished meanwhile
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
            {
                // The next tick tries again; leases are long enough to survive a missed renewal or two.
                LogRenewFailed(logger, ex.Message);
            }
        }
    }

    private async Task RenewTurnsAsync(CancellationToken stoppingToken)
    {
        var instances = _turns.Keys.ToArray();
        if (instances.Length == 0)
        {
            return;
        }

        try
        {
            await store.RenewInstanceLeasesAsync(identity.Owner, instances, options.Lease, stoppingToken);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            LogRenewFailed(logger, ex.Message);
        }
    }

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Renewing leases failed: {Reason}")]
    private static partial void LogRenewFailed(ILogger logger, string reason);
}

/// <summary>This process's lease-owner name: unique per start, so a restarted process never mistakes old leases for its own.</summary>
public sealed class WorkerIdentity(Platform.Hosting.AppInfo app)
{
    public string Owner { get; } = $"{app.Instance}/{Guid.NewGuid().ToString("N")[..8]}";
}
