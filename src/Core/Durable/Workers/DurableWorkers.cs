using AgentCrm.Core.Durable.Store;
using AgentCrm.Core.Platform.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AgentCrm.Core.Durable.Workers;

/// <summary>Leases instances with work and runs their turns. Off on a slot whose background switch is off.</summary>
internal sealed class OrchestrationWorker(
    TaskHubStore store, DurableRegistry registry, TurnProcessor turns, DurableOptions options, WorkerIdentity identity, DurableWakeUps wakeUps,
    BackgroundLoopMonitor monitor, IOptions<BackgroundOptions> background, TimeProvider time) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!background.Value.Enabled || registry.OrchestratorKeys.Count == 0)
        {
            return Task.CompletedTask;
        }

        var keys = registry.OrchestratorKeys.ToArray();
        var loop = new PollingLoop<InstanceWorkItem>("durable-orchestrations", new SemaphoreSlim(options.MaxConcurrentOrchestrations, options.MaxConcurrentOrchestrations), options, wakeUps.Orchestrations, monitor, time,
            (count, ct) => store.LockInstancesAsync(identity.Owner, options.Lease, count, keys, ct),
            turns.RunAsync,
            ct => store.NextDueAsync(null, ct));
        return loop.RunAsync(stoppingToken);
    }
}

/// <summary>Leases activity tasks from each configured queue and runs them.</summary>
internal sealed class ActivityWorker(
    TaskHubStore store, DurableRegistry registry, ActivityRunner runner, DurableOptions options, WorkerIdentity identity, DurableWakeUps wakeUps,
    ActivitySlots slots, BackgroundLoopMonitor monitor, IOptions<BackgroundOptions> background, TimeProvider time) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!background.Value.Enabled || !registry.HasActivities)
        {
            return Task.CompletedTask;
        }

        return Task.WhenAll(options.Queues.Select(queue =>
        {
            var loop = new PollingLoop<TaskWorkItem>("durable-activities:" + queue, slots.For(queue), options, wakeUps.Queue(queue), monitor, time,
                (count, ct) => store.LockTasksAsync(queue, identity.Owner, options.Lease, count, ct),
                (task, _) => runner.RunAsync(task),
                ct => store.NextDueAsync(queue, ct));
            return loop.RunAsync(stoppingToken);
        }));
    }
}
