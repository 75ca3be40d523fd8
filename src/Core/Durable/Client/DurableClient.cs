using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Runtime;
using AgentCrm.Core.Durable.Store;
using AgentCrm.Core.Durable.Workers;

namespace AgentCrm.Core.Durable.Client;

/// <summary>Options for starting an instance.</summary>
public sealed record StartOptions
{
    /// <summary>Default: a new GUID. At most 256 characters, none of / \ ? # or control characters.</summary>
    public string? InstanceId { get; init; }

    /// <summary>Default: the version registered last for the orchestrator's name.</summary>
    public string? Version { get; init; }

    /// <summary>Delayed start.</summary>
    public DateTime? StartAt { get; init; }

    /// <summary>The owning workspace, for management queries.</summary>
    public string? Scope { get; init; }
}

/// <summary>
/// Starts and manages orchestration instances: what tests, features and the management API use.
/// Bad requests (unknown orchestrator, bad id, oversized input) fail here, before anything is stored.
/// </summary>
public sealed partial class DurableClient(TaskHubStore store, DurableRegistry registry, DurableOptions options, DurableWakeUps wakeUps, TimeProvider time)
{
    public const int MaxInstanceIdLength = 256;

    public async Task<string> StartAsync(string name, object? input = null, StartOptions? start = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!registry.HasOrchestrator(name))
        {
            throw new ArgumentException($"No orchestrator named '{name}' is registered.", nameof(name));
        }

        var instanceId = start?.InstanceId ?? Guid.NewGuid().ToString("N");
        ValidateInstanceId(instanceId);
        var json = DurableJson.Serialize(input);
        if (json?.Length > options.MaxPayloadBytes)
        {
            throw new ArgumentException($"The input is {json.Length} bytes; the limit is {options.MaxPayloadBytes}.", nameof(input));
        }

        var version = start?.Version ?? registry.DefaultVersion(name);
        if (registry.FindOrchestrator(name, version) is null)
        {
            throw new ArgumentException($"Orchestrator '{name}' has no version '{version}' registered.", nameof(start));
        }

        var startAt = start?.StartAt is { } at ? DateTime.SpecifyKind(at.ToUniversalTime(), DateTimeKind.Utc) : (DateTime?)null;
        await store.StartAsync(new StartRequest(instanceId, name, version, json, start?.Scope, startAt), cancellationToken);
        wakeUps.OrchestrationWork();
        return instanceId;
    }

    /// <summary>An instance's state; with <paramref name="scope"/>, null unless that workspace owns it.</summary>
    public Task<OrchestrationMetadata?> GetAsync(string instanceId, bool withPayloads = true, string? scope = null, CancellationToken cancellationToken = default) =>
        store.GetInstanceAsync(instanceId, withPayloads, scope, cancellationToken);

    /// <summary>The history of an instance already read (its current execution's), without reading the instance again.</summary>
    public Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(OrchestrationMetadata instance, CancellationToken cancellationToken = default) =>
        store.ReadHistoryAsync(instance.InstanceId, instance.ExecutionId, cancellationToken);

    public async Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId, string? scope = null, CancellationToken cancellationToken = default)
    {
        var instance = await store.GetInstanceAsync(instanceId, withPayloads: false, scope, cancellationToken);
        return instance is null ? [] : await store.ReadHistoryAsync(instanceId, instance.ExecutionId, cancellationToken);
    }

    /// <summary>Polls (20 ms growing to 500 ms) until the instance is Completed, Failed or Terminated.</summary>
    public async Task<OrchestrationMetadata> WaitForCompletionAsync(string instanceId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        var delay = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            var instance = await store.GetInstanceAsync(instanceId, withPayloads: true, null, limit.Token)
                ?? throw new InvalidOperationException($"Instance '{instanceId}' does not exist.");
            if (instance.Status.IsTerminal())
            {
                return instance;
            }

            try
            {
                await Task.Delay(delay, time, limit.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Instance '{instanceId}' did not finish within {timeout}; it is {instance.Status}.");
            }

            delay = TimeSpan.FromMilliseconds(Math.Min(500, delay.TotalMilliseconds * 1.5));
        }
    }

    /// <summary>Queues an event; <paramref name="eventId"/> makes a repeated send of the same event a no-op.</summary>
    public async Task<DeliveryResult> RaiseEventAsync(
        string instanceId, string eventName, object? payload = null, string? eventId = null, string? scope = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        var json = DurableJson.Serialize(payload);
        if (json?.Length > options.MaxPayloadBytes)
        {
            throw new ArgumentException($"The payload of event '{eventName}' is {json.Length} bytes; the limit is {options.MaxPayloadBytes}.", nameof(payload));
        }

        var result = await store.SendAsync(instanceId, EventKind.EventRaised, eventName, json, eventId, scope, cancellationToken);
        if (result == DeliveryResult.Delivered)
        {
            wakeUps.OrchestrationWork();
        }

        return result;
    }

    /// <summary>Ends the instance as Terminated at its next turn (no replay needed) and cancels its running activities.</summary>
    public async Task<DeliveryResult> TerminateAsync(string instanceId, object? output = null, string? scope = null, CancellationToken cancellationToken = default)
    {
        var result = await store.SendAsync(instanceId, EventKind.ExecutionTerminated, null, DurableJson.Serialize(output), null, scope, cancellationToken);
        if (result == DeliveryResult.Delivered)
        {
            wakeUps.OrchestrationWork();
        }

        return result;
    }

    public static void ValidateInstanceId(string instanceId)
    {
        if (string.IsNullOrEmpty(instanceId) || instanceId.Length > MaxInstanceIdLength)
        {
            throw new ArgumentException($"An instance id must be 1 to {MaxInstanceIdLength} characters; this one has {instanceId?.Length ?? 0}.", nameof(instanceId));
        }

        if (instanceId.Any(c => c is '/' or '\\' or '?' or '#' || char.IsControl(c)))
        {
            throw new ArgumentException("An instance id may not contain / \\ ? # or control characters.", nameof(instanceId));
        }
    }
}
