using AgentCrm.Core.Durable.Workers;
using AgentCrm.Core.Platform.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentCrm.Core.Durable.Queues;

/// <summary>Runs one consumer per registered queue handler. Off on a slot whose background switch is off.</summary>
internal sealed class QueueWorker(
    IEnumerable<QueueHandlerRegistration> registrations, QueueStore store, QueueStatistics statistics, DurableOptions options, WorkerIdentity identity, DurableWakeUps wakeUps,
    BackgroundLoopMonitor monitor, IOptions<BackgroundOptions> background, IServiceScopeFactory scopes, IHostApplicationLifetime lifetime,
    TimeProvider time, ILoggerFactory loggers) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!background.Value.Enabled)
        {
            return Task.CompletedTask;
        }

        statistics.Publish();
        var logger = loggers.CreateLogger<QueueConsumer>();
        return Task.WhenAll(registrations.Select(r =>
            new QueueConsumer(r, store, options, identity, wakeUps, monitor, scopes, lifetime, time, logger).RunAsync(stoppingToken)));
    }
}
