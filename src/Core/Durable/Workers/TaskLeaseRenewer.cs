using System.Collections.Concurrent;
using AgentCrm.Core.Durable.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Durable.Workers;

/// <summary>
/// Keeps this worker's running activities leased: every third of a lease it renews them all in one
/// statement. A task whose lease was taken, or whose instance was terminated, has its token cancelled.
/// </summary>
public sealed partial class TaskLeaseRenewer(TaskHubStore store, DurableOptions options, WorkerIdentity identity, TimeProvider time, ILogger<TaskLeaseRenewer> logger)
    : BackgroundService
{
    private readonly ConcurrentDictionary<long, CancellationTokenSource> _running = new();

    public void Track(long taskId, CancellationTokenSource cancellation) => _running[taskId] = cancellation;

    public void Untrack(long taskId) => _running.TryRemove(taskId, out _);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Lease / 3, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
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

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Renewing activity leases failed: {Reason}")]
    private static partial void LogRenewFailed(ILogger logger, string reason);
}

/// <summary>This process's lease-owner name: unique per start, so a restarted process never mistakes old leases for its own.</summary>
public sealed class WorkerIdentity(Platform.Hosting.AppInfo app)
{
    public string Owner { get; } = $"{app.Instance}/{Guid.NewGuid().ToString("N")[..8]}";
}
