using AgentCrm.Core.Durable.Client;
using AgentCrm.Core.Durable.Queues;
using AgentCrm.Core.Durable.Housekeeping;
using AgentCrm.Core.Durable.Store;
using AgentCrm.Core.Durable.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentCrm.Core.Durable;

/// <summary>Registers the engine: store, registry, client, wake-ups, queue functions, the background workers, housekeeping and health.</summary>
public static class DurableServices
{
    public static IServiceCollection AddDurableEngine(this IServiceCollection services, DurableOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<TaskHubStore>();
        services.AddSingleton<DurableRegistry>();
        services.AddSingleton<DurableClient>();
        services.AddSingleton<DurableWakeUps>();
        services.AddSingleton<WorkerIdentity>();
        services.AddSingleton<ExecutionCache>();
        services.AddSingleton<ActivityRunner>();
        services.AddSingleton<ActivitySlots>();
        services.AddSingleton<LimitGuard>();
        services.AddSingleton<TurnProcessor>();
        services.AddSingleton<LeaseRenewer>();
        services.AddHostedService(sp => sp.GetRequiredService<LeaseRenewer>());
        services.AddHostedService<WakeUpListener>();
        services.AddHostedService<OrchestrationWorker>();
        services.AddHostedService<ActivityWorker>();
        services.AddSingleton<Platform.Maintenance.IHousekeepingJob, SweepOrphanInboxJob>();

        services.AddSingleton<QueueStore>();
        services.AddSingleton<QueueClient>();
        services.AddSingleton<QueueStatistics>();
        services.AddSingleton<DeadLetterStore>();
        services.AddHostedService<QueueWorker>();
        services.AddSingleton<QueueHealthCheck>();
        services.AddHealthChecks().Add(new HealthCheckRegistration(QueueHealthCheck.Name, sp => sp.GetRequiredService<QueueHealthCheck>(), HealthStatus.Degraded, tags: []));
        services.AddSingleton<Platform.Maintenance.IHousekeepingJob, PurgeRetentionJob>();
        services.AddSingleton<StuckInstanceReport>();
        services.AddSingleton<StuckInstancesHealthCheck>();
        // Shown in /api/health, never in /ready: at worst degraded (see the check).
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            StuckInstancesHealthCheck.Name, sp => sp.GetRequiredService<StuckInstancesHealthCheck>(), HealthStatus.Degraded, tags: []));
        return services;
    }

    /// <summary>Adds orchestrators and activities (features call this; so do tests).</summary>
    public static IServiceCollection AddDurableFunctions(this IServiceCollection services, Action<DurableRegistry> register) =>
        services.AddSingleton(new DurableRegistration(register));
}
