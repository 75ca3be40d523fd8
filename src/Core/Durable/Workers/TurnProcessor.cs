using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Runtime;
using AgentCrm.Core.Durable.Store;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Durable.Workers;

/// <summary>
/// Runs one turn of one leased instance: read its messages, get its execution (cached, or rebuilt by
/// replay), apply, commit in one transaction, then wake whoever has new work and start Local activities.
/// </summary>
internal sealed partial class TurnProcessor(
    TaskHubStore store, DurableRegistry registry, DurableOptions options, WorkerIdentity identity, ExecutionCache cache,
    ActivityRunner activities, ActivitySlots slots, LeaseRenewer renewer, DurableWakeUps wakeUps, LimitGuard limits, TimeProvider time, ILoggerFactory loggers)
{
    private const int MaxMessagesPerTurn = 100;
    private readonly ILogger _logger = loggers.CreateLogger<TurnProcessor>();

    public async Task RunAsync(InstanceWorkItem item, CancellationToken cancellationToken)
    {
        try
        {
            await RunTurnAsync(item, cancellationToken);
        }
        catch (LeaseLostException)
        {
            LogLeaseLost(_logger, item.InstanceId);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            // The lease lapses and the turn is tried again; dispatch_count turns repeated failure into poison.
            LogTurnFailed(_logger, ex, item.InstanceId, item.DispatchCount);
        }
    }

    /// <summary>
    /// The Local fast path: a Local activity just finished on this worker; if the instance is free, lease it and
    /// run the next turn with the result folded in (one commit instead of three). False: take the normal path.
    /// </summary>
    public async Task<bool> ContinueLocallyAsync(TaskWorkItem task, EventKind kind, string? payload)
    {
        if (await store.TryLeaseInstanceAsync(task.InstanceId, task.ExecutionId, identity.Owner, options.Lease, MaxMessagesPerTurn, CancellationToken.None)
            is not var (item, messages))
        {
            return false;
        }

        var result = new HistoryEvent(kind, task.TaskId, null, payload, Now());
        try
        {
            await RunTurnAsync(item, CancellationToken.None, messages, result, task);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Nothing was committed: both leases lapse and the task runs again from the queue.
            LogTurnFailed(_logger, ex, item.InstanceId, item.DispatchCount);
        }

        return true;
    }

    private async Task RunTurnAsync(
        InstanceWorkItem item, CancellationToken cancellationToken, IReadOnlyList<InboxMessage>? read = null, HistoryEvent? localResult = null, TaskWorkItem? localTask = null)
    {
        renewer.TrackTurn(item.InstanceId);
        try
        {
            await RunLeasedTurnAsync(item, read, localResult, localTask, cancellationToken);
        }
        finally
        {
            renewer.UntrackTurn(item.InstanceId);
        }
    }

    private async Task RunLeasedTurnAsync(
        InstanceWorkItem item, IReadOnlyList<InboxMessage>? read, HistoryEvent? localResult, TaskWorkItem? localTask, CancellationToken cancellationToken)
    {
        var now = Now();
        // A suspended instance is leased only for its terminate, which may wait behind many held messages: read it first.
        var messages = read ?? await store.ReadInboxAsync(item.InstanceId, MaxMessagesPerTurn, cancellationToken, terminateFirst: item.Status == OrchestrationStatus.Suspended);
        var stale = messages.Where(m => m.ExecutionId is not null && m.ExecutionId != item.ExecutionId).Select(m => m.Id).ToList();
        var live = messages.Where(m => m.ExecutionId is null || m.ExecutionId == item.ExecutionId).ToList();
        var consumed = messages.Select(m => m.Id).ToList();
        var current = live.Select(m => m.Event).ToList();
        if (localResult is not null)
        {
            current.Add(localResult with { Timestamp = now });
        }

        // Terminate needs no replay: it must work however large or broken the history is.
        if (current.FirstOrDefault(e => e.Kind == EventKind.ExecutionTerminated) is { } terminate)
        {
            var turn = new TurnResult([new HistoryEvent(EventKind.OrchestratorStarted, -1, null, null, now), terminate with { Timestamp = now }], [], new TerminatedOutcome(terminate.Payload), null, false);
            await store.CommitTurnAsync(item, identity.Owner, options.Lease, consumed, turn, cancellationToken, localTask);
            cache.Evict(item.InstanceId);
            wakeUps.OrchestrationWork(); // a parent may be waiting
            return;
        }

        if (item.DispatchCount > options.MaxDispatchCount)
        {
            await FailAsync(item, new TaskFailureDetails("PoisonMessage", $"Instance was leased {item.DispatchCount - 1} times without a turn completing.", null), now, localTask, cancellationToken);
            return;
        }

        if (item.Status == OrchestrationStatus.Suspended)
        {
            return; // leased only to be terminated, and the terminate is past this read: leave it to the lease's end
        }

        if (registry.FindOrchestrator(item.Name, item.Version) is not { } registration)
        {
            await FailAsync(item, new TaskFailureDetails("OrchestratorNotFound", $"No orchestrator '{item.Name}' version '{item.Version}' is registered.", null), now, localTask, cancellationToken);
            return;
        }

        var execution = cache.TryTake(item.InstanceId, item.ExecutionId, item.HistoryEvents, item.Epoch);
        if (execution is null)
        {
            if (limits.CheckStored(item, (item.HistoryEvents, item.HistoryBytes)) is { } tooLarge)
            {
                await FailAsync(item, tooLarge, now, localTask, cancellationToken);
                return;
            }

            execution = new OrchestrationExecution(item.InstanceId, item.ExecutionId, registration, registry.DefaultVersion, loggers, options.MaxPayloadBytes);
            try
            {
                execution.Replay(await store.ReadHistoryAsync(item.InstanceId, item.ExecutionId, cancellationToken));
            }
            catch (NonDeterministicOrchestrationException ex)
            {
                await FailAsync(item, TaskFailureDetails.From(ex), now, localTask, cancellationToken);
                return;
            }
        }

        var before = execution.HistorySize;
        var result = execution.RunTurn(current, now);
        if (limits.CheckTurn(item, before, execution.HistorySize, result) is { } overLimit)
        {
            await FailAsync(item, overLimit, now, localTask, cancellationToken);
            return;
        }

        if (result.Outcome is ContinuedAsNewOutcome && result.AppliedMessages < live.Count)
        {
            // Messages after the one that ended this execution stay in the inbox for the next one.
            consumed = [.. stale, .. live.Take(result.AppliedMessages).Select(m => m.Id)];
        }

        var local = await store.CommitTurnAsync(item, identity.Owner, options.Lease, consumed, result, cancellationToken, localTask);
        if (result.Outcome is null)
        {
            cache.Put(execution, item.Epoch);
        }

        Announce(item, result);

        foreach (var task in local)
        {
            _ = Task.Run(() => RunLocalAsync(task), CancellationToken.None);
        }
    }

    /// <summary>
    /// Runs a Local activity within this worker's per-queue budget, waiting for a slot if need be. The task
    /// is leased meanwhile, and tracked so the lease is renewed: the wait is bounded by work in progress,
    /// and if this process dies the lease lapses and a queue worker takes the task.
    /// </summary>
    private async Task RunLocalAsync(TaskWorkItem task)
    {
        var slot = slots.For(task.Queue);
        if (!slot.Wait(0))
        {
            using var waiting = new CancellationTokenSource();
            renewer.Track(task.Id, waiting);
            try
            {
                await slot.WaitAsync(waiting.Token);
            }
            catch (OperationCanceledException)
            {
                return; // the lease moved on or the instance was terminated while it waited
            }
            finally
            {
                renewer.Untrack(task.Id);
            }
        }

        try
        {
            await activities.RunAsync(task, ContinueLocallyAsync);
        }
        finally
        {
            slot.Release();
        }
    }

    private void Announce(InstanceWorkItem item, TurnResult result)
    {
        foreach (var queue in result.Outbox.OfType<ScheduleTaskAction>().Where(t => t.Options.Dispatch == DispatchMode.Queued).Select(t => t.Options.Queue).Distinct())
        {
            wakeUps.TaskWork(queue);
        }

        // Other instances got messages, or a timer changes when idle workers must next look.
        if (result.Outbox.Any(a => a is StartSubOrchestrationAction or SendEventAction or CreateTimerAction)
            || result.Outcome is ContinuedAsNewOutcome
            || (result.Outcome is not null && item.ParentInstanceId is not null))
        {
            wakeUps.OrchestrationWork();
        }
    }

    private async Task FailAsync(InstanceWorkItem item, TaskFailureDetails failure, DateTime now, TaskWorkItem? localTask, CancellationToken cancellationToken)
    {
        LogInstanceFailed(_logger, item.InstanceId, failure.ErrorType, failure.ErrorMessage);
        await store.FailInstanceAsync(item, identity.Owner, failure, now, cancellationToken, localTask);
        cache.Evict(item.InstanceId);
        if (item.ParentInstanceId is not null)
        {
            wakeUps.OrchestrationWork();
        }
    }

    /// <summary>The turn's time, at the microsecond precision PostgreSQL stores, so a replay sees exactly what the live turn saw (NewGuid hashes it).</summary>
    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % 10), DateTimeKind.Utc);
    }

    [LoggerMessage(EventId = 6020, Level = LogLevel.Warning, Message = "Lease on instance {InstanceId} was lost mid-turn; another worker continues it")]
    private static partial void LogLeaseLost(ILogger logger, string instanceId);

    [LoggerMessage(EventId = 6021, Level = LogLevel.Error, Message = "Turn of instance {InstanceId} failed (dispatch {DispatchCount}); it will be retried when the lease lapses")]
    private static partial void LogTurnFailed(ILogger logger, Exception exception, string instanceId, int dispatchCount);

    [LoggerMessage(EventId = 6022, Level = LogLevel.Warning, Message = "Instance {InstanceId} failed by the engine (its code did not fail): {ErrorType}: {ErrorMessage}")]
    private static partial void LogInstanceFailed(ILogger logger, string instanceId, string errorType, string errorMessage);
}
