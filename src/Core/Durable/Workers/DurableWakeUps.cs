using System.Collections.Concurrent;
using AgentCrm.Core.Platform.Data;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Durable.Workers;

/// <summary>
/// Tells idle workers there is work. In this process the signal is immediate; other processes hear a
/// NOTIFY on channel dt_wake sent after commit and coalesced over a few milliseconds (never inside the
/// hot transaction, where NOTIFY would serialise commits). Polling with back-off covers lost notifies.
/// </summary>
public sealed partial class DurableWakeUps(PostgresDataSources dataSources, ILogger<DurableWakeUps> logger) : IDisposable
{
    public const string Channel = "dt_wake";
    public const string OrchestrationsPayload = "o";
    private static readonly TimeSpan CoalesceWindow = TimeSpan.FromMilliseconds(5);

    private readonly ConcurrentDictionary<string, WakeSignal> _queues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, WakeSignal> _messageQueues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _pending = new(StringComparer.Ordinal);
    private int _flushScheduled;

    public WakeSignal Orchestrations { get; } = new();

    public WakeSignal Queue(string queue) => _queues.GetOrAdd(queue, _ => new WakeSignal());

    /// <summary>The signal of a message queue (queue functions; a namespace apart from activity task queues).</summary>
    public WakeSignal MessageQueue(string queue) => _messageQueues.GetOrAdd(queue, _ => new WakeSignal());

    /// <summary>New orchestration messages exist (here or in another process).</summary>
    public void OrchestrationWork() => Publish(OrchestrationsPayload);

    /// <summary>New tasks exist in <paramref name="queue"/>.</summary>
    public void TaskWork(string queue) => Publish("t:" + queue);

    /// <summary>New messages exist on message queue <paramref name="queue"/>.</summary>
    public void QueueMessageWork(string queue) => Publish("q:" + queue);

    /// <summary>After a gap in listening (anything may have been missed): every worker of this process looks once.</summary>
    public void WakeAll()
    {
        Orchestrations.Set();
        foreach (var signal in _queues.Values.Concat(_messageQueues.Values))
        {
            signal.Set();
        }
    }

    /// <summary>A payload heard on the channel, from any process.</summary>
    public void Received(string payload)
    {
        if (payload == OrchestrationsPayload)
        {
            Orchestrations.Set();
        }
        else if (payload.StartsWith("t:", StringComparison.Ordinal))
        {
            Queue(payload[2..]).Set();
        }
        else if (payload.StartsWith("q:", StringComparison.Ordinal))
        {
            MessageQueue(payload[2..]).Set();
        }
    }

    private void Publish(string payload)
    {
        Received(payload);
        _pending[payload] = 0;
        if (Interlocked.Exchange(ref _flushScheduled, 1) == 0)
        {
            _ = FlushSoonAsync();
        }
    }

    private async Task FlushSoonAsync()
    {
        try
        {
            await Task.Delay(CoalesceWindow);
            Interlocked.Exchange(ref _flushScheduled, 0);
            var payloads = _pending.Keys.ToArray();
            foreach (var payload in payloads)
            {
                _pending.TryRemove(payload, out _);
            }

            await using var command = dataSources.Pooled.CreateCommand("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p");
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = Channel });
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = payloads });
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or ObjectDisposedException)
        {
            // Other processes fall back to polling; nothing is lost.
            LogNotifyFailed(logger, ex.Message);
        }
    }

    public void Dispose()
    {
        Orchestrations.Dispose();
        foreach (var signal in _queues.Values.Concat(_messageQueues.Values))
        {
            signal.Dispose();
        }
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Could not send the durable wake-up NOTIFY: {Reason}")]
    private static partial void LogNotifyFailed(ILogger logger, string reason);
}
