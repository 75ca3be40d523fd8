using System.Text.Json;
using AgentCrm.Core.Durable;
using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Client;
using AgentCrm.Core.Durable.Store;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Core.Orchestrations;

/// <summary>
/// The management API's use cases over <see cref="DurableClient"/>, always scoped to the caller's workspace:
/// another workspace's instance is a 404 like one that never existed. Durable Functions' codes: 404 unknown,
/// 410 finished (events, terminate, suspend, resume, rewind of a completed one), 409 where the state forbids it.
/// </summary>
public sealed class OrchestrationManagement(DurableClient client, DurableRegistry registry, DurableOptions options)
{
    public const int MaxReasonLength = 1000;

    /// <summary>Starts an instance for the workspace; returns its id. A live instance with the id is a 409 whose Location names it.</summary>
    public async Task<string> StartAsync(WorkspaceAccess access, StartOrchestration body, string statusPath, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        if (string.IsNullOrWhiteSpace(body.Name))
        {
            errors.Add("name", "is required: the orchestrator to start.");
        }
        else if (!registry.HasOrchestrator(body.Name))
        {
            errors.Add("name", $"no orchestrator named '{body.Name}' is registered.");
        }
        else if (body.Version is not null && registry.FindOrchestrator(body.Name, body.Version) is null)
        {
            errors.Add("version", $"orchestrator '{body.Name}' has no version '{body.Version}'.");
        }

        if (body.InstanceId is not null)
        {
            try
            {
                DurableClient.ValidateInstanceId(body.InstanceId);
            }
            catch (ArgumentException ex)
            {
                errors.Add("instanceId", ex.Message.Split(" (Parameter", 2)[0]);
            }
        }

        errors.ThrowIfAny();
        var input = body.Input is { ValueKind: not JsonValueKind.Null } value ? value.GetRawText() : null;
        if (input?.Length > options.MaxPayloadBytes)
        {
            throw new ProblemException(ProblemTypes.PayloadTooLarge, $"The input is {input.Length} bytes; an orchestration's input may be at most {options.MaxPayloadBytes}.");
        }

        var scope = Scope(access);
        try
        {
            return await client.StartAsync(body.Name!, body.Input is { ValueKind: not JsonValueKind.Null } i ? i : null,
                new StartOptions { InstanceId = body.InstanceId, Version = body.Version, Scope = scope }, cancellationToken);
        }
        catch (OrchestrationAlreadyExistsException ex)
        {
            // Where the running instance is, if it is this workspace's; another workspace's stays unnamed.
            var mine = await client.GetAsync(body.InstanceId!, withPayloads: false, scope, cancellationToken) is not null;
            throw new ProblemException(ProblemTypes.Conflict, mine ? ex.Message : $"Instance id '{body.InstanceId}' is in use; choose another.")
            {
                Location = mine ? string.Format(System.Globalization.CultureInfo.InvariantCulture, statusPath, Uri.EscapeDataString(body.InstanceId!)) : null,
            };
        }
    }

    public async Task<OrchestrationState> GetAsync(WorkspaceAccess access, string instanceId, bool showInput, bool showHistory, bool showHistoryOutput, CancellationToken cancellationToken)
    {
        var instance = await client.GetAsync(instanceId, withPayloads: true, Scope(access), cancellationToken) ?? throw NotFound(instanceId);
        var history = showHistory ? await client.GetHistoryAsync(instance, cancellationToken) : null;
        return OrchestrationJson.State(instance, showInput, history, showHistoryOutput);
    }

    public async Task<Page<OrchestrationState>> ListAsync(WorkspaceAccess access, InstanceQuery query, CancellationToken cancellationToken)
    {
        var rows = await client.QueryAsync(query, Scope(access), cancellationToken);
        var more = rows.Count > query.Limit;
        var page = rows.Take(query.Limit).ToList();
        return new Page<OrchestrationState>(
            [.. page.Select(m => OrchestrationJson.State(m, query.WithInput, null, false))],
            more ? OrchestrationQueryParser.EncodeCursor(page[^1]) : null);
    }

    public async Task RaiseEventAsync(WorkspaceAccess access, string instanceId, string eventName, JsonElement? payload, CancellationToken cancellationToken)
    {
        var json = payload?.GetRawText();
        if (json?.Length > options.MaxPayloadBytes)
        {
            throw new ProblemException(ProblemTypes.PayloadTooLarge, $"The event is {json.Length} bytes; an event may be at most {options.MaxPayloadBytes}.");
        }

        Delivered(await client.RaiseEventAsync(instanceId, eventName, payload, scope: Scope(access), cancellationToken: cancellationToken), instanceId, "raise an event for");
    }

    public async Task TerminateAsync(WorkspaceAccess access, string instanceId, string? reason, CancellationToken cancellationToken) =>
        Delivered(await client.TerminateAsync(instanceId, Reason(reason), Scope(access), cancellationToken), instanceId, "terminate");

    public async Task SuspendAsync(WorkspaceAccess access, string instanceId, string? reason, CancellationToken cancellationToken)
    {
        Reason(reason);
        Live(await client.SuspendAsync(instanceId, Scope(access), cancellationToken), instanceId, "suspend");
    }

    public async Task ResumeAsync(WorkspaceAccess access, string instanceId, string? reason, CancellationToken cancellationToken)
    {
        Reason(reason);
        Live(await client.ResumeAsync(instanceId, Scope(access), cancellationToken), instanceId, "resume");
    }

    public async Task RewindAsync(WorkspaceAccess access, string instanceId, string? reason, CancellationToken cancellationToken)
    {
        OrchestrationStatus? before;
        try
        {
            before = await client.RewindAsync(instanceId, Reason(reason), Scope(access), cancellationToken);
        }
        catch (InvalidOperationException ex)
        {
            throw new ProblemException(ProblemTypes.Conflict, ex.Message);
        }

        switch (before)
        {
            case null:
                throw NotFound(instanceId);
            case OrchestrationStatus.Completed or OrchestrationStatus.Terminated:
                throw new ProblemException(ProblemTypes.Gone, $"Instance '{instanceId}' is {before}; only a Failed instance can be rewound.");
            case not OrchestrationStatus.Failed:
                throw new ProblemException(ProblemTypes.Conflict, $"Instance '{instanceId}' is {before}; only a Failed instance can be rewound.");
        }
    }

    /// <summary>Returns the id of the restarted instance.</summary>
    public async Task<string> RestartAsync(WorkspaceAccess access, string instanceId, bool newInstanceId, CancellationToken cancellationToken)
    {
        try
        {
            return await client.RestartAsync(instanceId, newInstanceId, Scope(access), cancellationToken) ?? throw NotFound(instanceId);
        }
        catch (OrchestrationAlreadyExistsException ex)
        {
            throw new ProblemException(ProblemTypes.Conflict, $"{ex.Message} Restart it under a new id (restartWithNewInstanceId=true), or terminate it first.");
        }
        catch (ArgumentException ex)
        {
            throw new ProblemException(ProblemTypes.Conflict, $"Instance '{instanceId}' cannot be restarted by this build: {ex.Message.Split(" (Parameter", 2)[0]}");
        }
    }

    public async Task<PurgeResult> PurgeAsync(WorkspaceAccess access, string instanceId, CancellationToken cancellationToken)
    {
        var status = await client.PurgeAsync(instanceId, Scope(access), cancellationToken) ?? throw NotFound(instanceId);
        return status.IsTerminal()
            ? new PurgeResult(1)
            : throw new ProblemException(ProblemTypes.Conflict, $"Instance '{instanceId}' is {status}; terminate it before purging it.");
    }

    public async Task<PurgeResult> PurgeAsync(WorkspaceAccess access, PurgeFilter filter, CancellationToken cancellationToken)
    {
        var deleted = await client.PurgeAsync(filter, Scope(access), cancellationToken);
        return deleted > 0 ? new PurgeResult(deleted) : throw new ProblemException(ProblemTypes.NotFound, "No finished instance matches the filter.");
    }

    private static string Scope(WorkspaceAccess access) => access.WorkspaceId.ToString();

    private static string? Reason(string? reason) => reason is { Length: > MaxReasonLength }
        ? throw ProblemException.Validation(new Dictionary<string, string[]> { ["reason"] = [$"must be at most {MaxReasonLength} characters."] })
        : reason;

    private static void Delivered(DeliveryResult result, string instanceId, string action)
    {
        switch (result)
        {
            case DeliveryResult.NotFound:
                throw NotFound(instanceId);
            case DeliveryResult.AlreadyFinished:
                throw new ProblemException(ProblemTypes.Gone, $"Instance '{instanceId}' has finished; there is nothing to {action} any more.");
        }
    }

    private static void Live(OrchestrationStatus? before, string instanceId, string action)
    {
        if (before is null)
        {
            throw NotFound(instanceId);
        }

        if (before.Value.IsTerminal())
        {
            throw new ProblemException(ProblemTypes.Gone, $"Instance '{instanceId}' is {before}; there is nothing to {action}.");
        }
    }

    private static ProblemException NotFound(string instanceId) => new(ProblemTypes.NotFound, $"No orchestration instance '{instanceId}' in this workspace.");
}
