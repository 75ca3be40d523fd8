using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Runtime;
using AgentCrm.Core.Durable.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Durable.Workers;

/// <summary>
/// Runs one leased activity attempt, for the queue workers and for Local dispatch alike, and records
/// the outcome: the result; a retry in the task row when the policy allows; the failure otherwise.
/// Poison (a task dispatched too often without finishing) is dead-lettered and fails its caller.
/// </summary>
public sealed partial class ActivityRunner(
    TaskHubStore store, DurableRegistry registry, DurableOptions options, WorkerIdentity identity, LeaseRenewer renewer,
    DurableWakeUps wakeUps, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<ActivityRunner> logger)
{
    /// <summary>Runs the attempt; a final outcome goes to <paramref name="finishLocally"/> first, which may fold it into the next turn.</summary>
    public async Task RunAsync(TaskWorkItem task, Func<TaskWorkItem, EventKind, string?, Task<bool>>? finishLocally = null)
    {
        try
        {
            await RunAttemptAsync(task, finishLocally);
        }
        catch (LeaseLostException)
        {
            LogLeaseLost(logger, task.Name, task.InstanceId, task.TaskId);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            // Recording failed: the lease lapses and the attempt runs again elsewhere (at-least-once).
            LogRecordFailed(logger, ex, task.Name, task.InstanceId);
        }
    }

    private async Task RunAttemptAsync(TaskWorkItem task, Func<TaskWorkItem, EventKind, string?, Task<bool>>? finishLocally)
    {
        if (task.DequeueCount > options.MaxDispatchCount)
        {
            var poison = Failure("PoisonMessage", $"Activity '{task.Name}' was dispatched {task.DequeueCount - 1} times without finishing (its worker died each time); it was dead-lettered.", task.Attempt);
            await store.DeadLetterTaskAsync(task, identity.Owner, poison, CancellationToken.None);
            wakeUps.OrchestrationWork();
            return;
        }

        var now = time.GetUtcNow().UtcDateTime;
        if (task.ScheduleToCloseAt is { } deadline && now >= deadline)
        {
            await FinishAsync(task, finishLocally, EventKind.TaskFailed, Failure(typeof(TimeoutException).FullName!, $"Activity '{task.Name}' passed its schedule-to-close timeout before attempt {task.Attempt}.", task.Attempt - 1));
            return;
        }

        if (registry.FindActivity(task.Name) is not { } activity)
        {
            await FinishAsync(task, finishLocally, EventKind.TaskFailed, Failure("ActivityNotFound", $"No activity named '{task.Name}' is registered on this worker.", task.Attempt));
            return;
        }

        using var startToClose = task.StartToClose is { } limit ? new CancellationTokenSource(limit, time) : null;
        using var cancellation = startToClose is null
            ? CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping)
            : CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping, startToClose.Token);

        if (task.CancelRequested)
        {
            await cancellation.CancelAsync();
        }

        renewer.Track(task.Id, cancellation);
        string? result;
        TaskFailureDetails? failure = null;
        try
        {
            result = await activity.RunAsync(new ActivityContext(task, store, identity, cancellation.Token), task.Input);
            if (result?.Length > options.MaxPayloadBytes)
            {
                failure = new TaskFailureDetails(DurableLimitException.PayloadTooLarge, $"Activity '{task.Name}' returned {result.Length} bytes; the limit is {options.MaxPayloadBytes} (Durable__MaxPayloadBytes).", null, task.Attempt);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            result = null;
            if (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                return; // shutting down: leave the lease to lapse so another worker runs the attempt
            }

            var timedOut = ex is OperationCanceledException && startToClose?.IsCancellationRequested == true;
            failure = timedOut
                ? new TaskFailureDetails(typeof(TimeoutException).FullName!, $"Activity '{task.Name}' attempt {task.Attempt} exceeded its start-to-close timeout of {task.StartToClose}.", ex.StackTrace, task.Attempt)
                : TaskFailureDetails.From(ex, task.Attempt);
        }
        finally
        {
            renewer.Untrack(task.Id);
        }

        if (failure is null)
        {
            await FinishAsync(task, finishLocally, EventKind.TaskCompleted, result);
            return;
        }

        if (cancellation.IsCancellationRequested && startToClose?.IsCancellationRequested != true)
        {
            // Cancelled because the instance ended or the lease moved: record nothing retryable (a lost lease refuses the write).
            await FinishAsync(task, null, EventKind.TaskFailed, DurableJson.Serialize(failure));
            return;
        }

        await HandleFailureAsync(task, failure, finishLocally);
    }

    private async Task HandleFailureAsync(TaskWorkItem task, TaskFailureDetails failure, Func<TaskWorkItem, EventKind, string?, Task<bool>>? finishLocally)
    {
        var json = DurableJson.Serialize(failure)!;
        var policy = task.Retry?.ToPolicy();
        var since = time.GetUtcNow().UtcDateTime - task.FirstScheduledAt;
        if (policy is null || !policy.AllowsRetry(failure, task.Attempt, since))
        {
            await FinishAsync(task, finishLocally, EventKind.TaskFailed, json);
            return;
        }

        if (task.Retry!.HasHandle)
        {
            await FinishAsync(task, null, EventKind.TaskAttemptFailed, json);
            return;
        }

        var delay = policy.DelayAfter(task.Attempt);
        if (policy.Jitter > 0)
        {
#pragma warning disable CA5394 // jitter only spreads retries; it needs no cryptographic randomness
            delay *= 1 + (policy.Jitter * ((Random.Shared.NextDouble() * 2) - 1));
#pragma warning restore CA5394
        }

        await store.RescheduleTaskAsync(task, identity.Owner, delay, json, CancellationToken.None);
        LogRetrying(logger, task.Name, task.InstanceId, task.Attempt, delay.TotalMilliseconds);
    }

    private async Task FinishAsync(TaskWorkItem task, Func<TaskWorkItem, EventKind, string?, Task<bool>>? finishLocally, EventKind kind, string? payload)
    {
        if (finishLocally is not null && await finishLocally(task, kind, payload))
        {
            return;
        }

        await store.CompleteTaskAsync(task, identity.Owner, kind, payload, CancellationToken.None);
        wakeUps.OrchestrationWork();
    }

    private static string Failure(string type, string message, int attempts) =>
        DurableJson.Serialize(new TaskFailureDetails(type, message, null, attempts))!;

    private sealed class ActivityContext(TaskWorkItem task, TaskHubStore store, WorkerIdentity identity, CancellationToken cancellationToken) : TaskActivityContext
    {
        public override string Name => task.Name;

        public override string InstanceId => task.InstanceId;

        public override int Attempt => task.Attempt;

        public override DateTime ScheduledAt => DateTime.SpecifyKind(task.FirstScheduledAt, DateTimeKind.Utc);

        public override string IdempotencyKey => $"{task.InstanceId}:{task.ExecutionId:N}:{task.TaskId}";

        public override CancellationToken CancellationToken => cancellationToken;

        public override string? LastHeartbeatDetails => task.HeartbeatDetails;

        public override Task HeartbeatAsync(object? details = null) =>
            store.HeartbeatAsync(task, identity.Owner, DurableJson.Serialize(details), cancellationToken);
    }

    [LoggerMessage(EventId = 6010, Level = LogLevel.Information, Message = "Activity {Activity} for {InstanceId} failed attempt {Attempt}; retrying in {DelayMs:0} ms")]
    private static partial void LogRetrying(ILogger logger, string activity, string instanceId, int attempt, double delayMs);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Warning, Message = "Lease on activity {Activity} (instance {InstanceId}, task {TaskId}) was lost; its result is discarded")]
    private static partial void LogLeaseLost(ILogger logger, string activity, string instanceId, int taskId);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Warning, Message = "Could not record the outcome of activity {Activity} for {InstanceId}; it will run again when its lease lapses")]
    private static partial void LogRecordFailed(ILogger logger, Exception exception, string activity, string instanceId);
}
