using System.Security.Cryptography;
using System.Text;
using AgentCrm.Core.Durable.Api;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Durable.Runtime;

/// <summary>The orchestrator-facing API: each call becomes a numbered action, recorded (or, on replay, matched).</summary>
internal sealed partial class OrchestrationExecution
{
    public override T? GetInput<T>() where T : default => DurableJson.Deserialize<T>(_input);

    public override Task<T> CallActivityAsync<T>(string name, object? input = null, TaskOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (input is TaskOptions)
        {
            throw new ArgumentException("A TaskOptions was passed as the activity's input; pass it as options.", nameof(input));
        }

        var json = Limited(DurableJson.Serialize(input), $"input of activity '{name}'");
        options ??= new TaskOptions();
        var id = NewAction(EventKind.TaskScheduled, name, json, taskId => new ScheduleTaskAction(taskId, name, json, options));
        return Map<T>(Pending(id, name, options));
    }

    public override Task<T> CallSubOrchestratorAsync<T>(string name, object? input = null, SubOrchestrationOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var childId = options?.InstanceId ?? NewGuid().ToString("N");
        var version = options?.Version ?? _defaultVersion(name);
        var json = Limited(DurableJson.Serialize(input), $"input of sub-orchestration '{name}'");
        var id = NewAction(EventKind.SubOrchestrationCreated, name, json, taskId => new StartSubOrchestrationAction(taskId, name, version, childId, json));
        return Map<T>(Pending(id, name, null));
    }

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken = default)
    {
        var at = DateTime.SpecifyKind(fireAt.ToUniversalTime(), DateTimeKind.Utc);
        var id = NewAction(EventKind.TimerCreated, null, at.ToString("O"), taskId => new CreateTimerAction(taskId, at));
        var timer = Pending(id, "timer", null);
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() =>
            {
                if (_pending.Remove(id, out var pending))
                {
                    pending.Completion.TrySetCanceled(cancellationToken);
                }
            });
        }

        return timer;
    }

    public override Task<T> WaitForExternalEvent<T>(string name, CancellationToken cancellationToken = default)
    {
        if (_buffered.TryGetValue(name, out var queue) && queue.TryDequeue(out var early))
        {
            return Task.FromResult(DurableJson.Deserialize<T>(early.Payload)!);
        }

        var waiter = new TaskCompletionSource<string?>();
        if (!_waiters.TryGetValue(name, out var list))
        {
            _waiters[name] = list = new LinkedList<TaskCompletionSource<string?>>();
        }

        var node = list.AddLast(waiter);
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() =>
            {
                if (node.List is not null)
                {
                    list.Remove(node);
                    waiter.TrySetCanceled(cancellationToken);
                }
            });
        }

        return Map<T>(waiter.Task);
    }

    public override async Task<T> WaitForExternalEvent<T>(string name, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var loser = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var received = WaitForExternalEvent<T>(name, loser.Token);
        var timer = CreateTimer(CurrentUtcDateTime + timeout, loser.Token);
        var first = await Task.WhenAny(received, timer);
#pragma warning disable CA1849 // CancelAsync would run the callbacks on the thread pool, outside the deterministic scheduler
        loser.Cancel();
#pragma warning restore CA1849
        if (first == received)
        {
            return await received;
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new TimeoutException($"Event '{name}' did not arrive within {timeout}.");
    }

    public override void SendEvent(string instanceId, string eventName, object? payload = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        var json = Limited(DurableJson.Serialize(payload), $"payload of event '{eventName}'");
        NewAction(EventKind.EventSent, eventName, json, _ => new SendEventAction(instanceId, eventName, json));
    }

    public override void SetCustomStatus(object? status)
    {
        var json = Limited(DurableJson.Serialize(status), "custom status");
        if (!string.Equals(json, _customStatus, StringComparison.Ordinal))
        {
            _customStatus = json;
            _customStatusChanged = !_replaying || _customStatusChanged;
        }
    }

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
        _continueAsNew = (Limited(DurableJson.Serialize(newInput), "input of ContinueAsNew"), preserveUnprocessedEvents);

    public override Guid NewGuid()
    {
        var name = Encoding.UTF8.GetBytes($"{InstanceId}_{_now:O}_{_guidCounter++}");
        var space = GuidNamespace.ToByteArray(bigEndian: true);
#pragma warning disable CA5350 // RFC 4122 version-5 UUIDs are defined over SHA-1; this is naming, not security.
        var hash = SHA1.HashData([.. space, .. name]);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    public override ILogger CreateReplaySafeLogger(string categoryName) => new ReplaySafeLogger(this, _loggers.CreateLogger(categoryName));

    /// <summary>Refuses a payload over the limit where it is made, with a reason the orchestrator can catch or fail with.</summary>
    private string? Limited(string? json, string what) =>
        json?.Length > _maxPayloadBytes ? throw PayloadTooLarge(json.Length, what) : json;

    private DurableLimitException PayloadTooLarge(int length, string what) =>
        new(DurableLimitException.PayloadTooLarge,
            $"The {what} is {length} bytes; the limit is {_maxPayloadBytes} (Durable__MaxPayloadBytes). Pass a reference (an id) instead of the data.");

    private int NewAction(EventKind kind, string? name, string? payload, Func<int, OutboxAction> action)
    {
        var id = _nextTaskId++;
        var e = new HistoryEvent(kind, id, name, payload, _now);
        Count(e);
        if (_replaying)
        {
            _unmatched[id] = (kind, name);
        }
        else
        {
            _turnHistory.Add(e);
            _outbox.Add(action(id));
        }

        return id;
    }

    private Task<string?> Pending(int id, string name, TaskOptions? options)
    {
        var completion = new TaskCompletionSource<string?>();
        _pending[id] = new PendingTask(name, completion, options);
        return completion.Task;
    }

    private static async Task<T> Map<T>(Task<string?> payload) => DurableJson.Deserialize<T>(await payload)!;

    private void Deliver(HistoryEvent e)
    {
        if (_waiters.TryGetValue(e.Name ?? string.Empty, out var list) && list.First is { } first)
        {
            list.RemoveFirst();
            first.Value.TrySetResult(e.Payload);
            return;
        }

        if (!_buffered.TryGetValue(e.Name ?? string.Empty, out var queue))
        {
            _buffered[e.Name ?? string.Empty] = queue = new Queue<HistoryEvent>();
        }

        queue.Enqueue(e);
    }

    /// <summary>An attempt failed and the policy allows another: the orchestrator's Handle predicate decides.</summary>
    private void DecideRetry(HistoryEvent message)
    {
        if (!_pending.TryGetValue(message.TaskId, out var pending))
        {
            return;
        }

        var failure = DurableJson.Deserialize<TaskFailureDetails>(message.Payload)!;
        var policy = pending.Options?.Retry;
        if (policy?.HandleFailure is { } handle && handle(failure))
        {
            _outbox.Add(new RetryTaskAction(message.TaskId, policy.DelayAfter(failure.Attempts)));
            return;
        }

        Record(new HistoryEvent(EventKind.TaskFailed, message.TaskId, pending.Name, message.Payload, _now));
    }

    private sealed class ReplaySafeLogger(OrchestrationExecution execution, ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => !execution.IsReplaying && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!execution.IsReplaying)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
