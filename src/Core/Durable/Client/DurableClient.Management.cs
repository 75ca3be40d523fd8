using System.Text.Json;
using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Store;

namespace AgentCrm.Core.Durable.Client;

/// <summary>Operator actions. Each takes an optional workspace scope: with one, other workspaces' instances do not exist.</summary>
public sealed partial class DurableClient
{
    /// <summary>Up to <see cref="InstanceQuery.Limit"/> + 1 instances, newest first (the extra one says another page exists).</summary>
    public Task<List<OrchestrationMetadata>> QueryAsync(InstanceQuery query, string? scope = null, CancellationToken cancellationToken = default) =>
        store.QueryInstancesAsync(query, scope, cancellationToken);

    /// <summary>
    /// Stops the instance taking turns until resumed; messages wait, running activities finish. Returns its status
    /// now: Suspended, or what it was when it could not be suspended (null: no such instance).
    /// </summary>
    public async Task<OrchestrationStatus?> SuspendAsync(string instanceId, string? scope = null, CancellationToken cancellationToken = default) =>
        (await store.SuspendAsync(instanceId, scope, cancellationToken)).Status;

    /// <summary>Lets a suspended instance take turns again; returns its status now (a live one not suspended is left as it is).</summary>
    public async Task<OrchestrationStatus?> ResumeAsync(string instanceId, string? scope = null, CancellationToken cancellationToken = default)
    {
        var (changed, status) = await store.ResumeAsync(instanceId, scope, cancellationToken);
        if (changed)
        {
            wakeUps.OrchestrationWork();
        }

        return status;
    }

    /// <summary>
    /// Runs a Failed instance again from the turn of its first failure (TaskHubStore.Rewind). Returns the status
    /// before (only Failed is rewound; null: no such instance). Throws <see cref="InvalidOperationException"/>
    /// when a sub-orchestration it needs was purged or terminated.
    /// </summary>
    public async Task<OrchestrationStatus?> RewindAsync(string instanceId, string? reason = null, string? scope = null, CancellationToken cancellationToken = default)
    {
        var result = await store.RewindAsync(instanceId, reason, scope, cancellationToken);
        if (result.Status == OrchestrationStatus.Failed)
        {
            foreach (var queue in result.Queues)
            {
                wakeUps.TaskWork(queue);
            }

            wakeUps.OrchestrationWork();
        }

        return result.Status;
    }

    /// <summary>
    /// Starts the instance's orchestrator again with its original input: under a new id, or under the same one once it
    /// has finished (a live one throws <see cref="OrchestrationAlreadyExistsException"/>). Null when there is no such instance.
    /// </summary>
    public async Task<string?> RestartAsync(string instanceId, bool newInstanceId, string? scope = null, CancellationToken cancellationToken = default)
    {
        if (await store.GetInstanceAsync(instanceId, withPayloads: true, scope, cancellationToken) is not { } instance)
        {
            return null;
        }

        using var input = instance.Input is null ? null : JsonDocument.Parse(instance.Input);
        var version = registry.FindOrchestrator(instance.Name, instance.Version) is null ? null : instance.Version;
        return await StartAsync(instance.Name, input?.RootElement, new StartOptions
        {
            InstanceId = newInstanceId ? null : instanceId,
            Version = version,
            Scope = instance.Scope,
        }, cancellationToken);
    }

    /// <summary>Deletes a finished instance and all its rows. Returns its status (purged only if terminal), or null when there is none.</summary>
    public Task<OrchestrationStatus?> PurgeAsync(string instanceId, string? scope = null, CancellationToken cancellationToken = default) =>
        store.PurgeInstanceAsync(instanceId, scope, cancellationToken);

    /// <summary>Deletes the finished instances the filter matches, in batches; returns how many.</summary>
    public Task<long> PurgeAsync(PurgeFilter filter, string? scope = null, CancellationToken cancellationToken = default) =>
        store.PurgeInstancesAsync(filter, scope, cancellationToken);
}
