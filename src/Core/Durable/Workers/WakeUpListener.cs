using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentCrm.Core.Durable.Workers;

/// <summary>LISTENs on dt_wake over a direct session (PgBouncer cannot hold one) and reconnects with back-off.</summary>
public sealed partial class WakeUpListener(
    PostgresDataSources dataSources, DurableWakeUps wakeUps, DurableRegistry registry, IEnumerable<Queues.QueueHandlerRegistration> queueHandlers,
    IOptions<BackgroundOptions> background, TimeProvider time, ILogger<WakeUpListener> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // No workers here (slot switched off, or nothing registered): no session to hold open.
        if (!background.Value.Enabled || (registry.OrchestratorKeys.Count == 0 && !registry.HasActivities && !queueHandlers.Any()))
        {
            return;
        }

        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSources.Direct.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => wakeUps.Received(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {DurableWakeUps.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                delay = TimeSpan.FromMilliseconds(200);
                // Anything sent while we were not listening: let every worker look once.
                wakeUps.WakeAll();
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
                LogListenFailed(logger, ex.Message, delay.TotalMilliseconds);
                await Task.Delay(delay, time, stoppingToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 10_000));
            }
        }
    }

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Durable wake-up LISTEN failed ({Reason}); workers poll until it is back; retrying in {DelayMs} ms")]
    private static partial void LogListenFailed(ILogger logger, string reason, double delayMs);
}
