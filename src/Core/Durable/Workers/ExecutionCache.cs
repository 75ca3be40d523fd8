using System.Collections.Concurrent;
using AgentCrm.Core.Durable.Runtime;

namespace AgentCrm.Core.Durable.Workers;

/// <summary>
/// Executions kept in memory between turns (sticky execution). An entry is used only when the stored
/// instance is exactly where the cached execution left it (same execution, same history length) and no
/// lease came between (the epoch is the next one after the turn it committed): otherwise another worker
/// advanced it, or an operator rewound it to a length it once had, and the history is replayed.
/// </summary>
internal sealed class ExecutionCache(DurableOptions options)
{
    private readonly ConcurrentDictionary<string, (OrchestrationExecution Execution, long Epoch, long LastUsed)> _entries = new(StringComparer.Ordinal);
    private long _clock;

    public OrchestrationExecution? TryTake(string instanceId, Guid executionId, int historyEvents, long epoch)
    {
        if (!_entries.TryRemove(instanceId, out var entry))
        {
            return null;
        }

        return entry.Execution.ExecutionId == executionId && entry.Execution.HistorySize.Events == historyEvents && entry.Epoch + 1 == epoch
            ? entry.Execution
            : null;
    }

    /// <summary>Forgets an instance whose execution ended or moved (terminated, failed without running).</summary>
    public void Evict(string instanceId) => _entries.TryRemove(instanceId, out _);

    /// <summary>Keeps an execution whose turn committed under lease <paramref name="epoch"/>.</summary>
    public void Put(OrchestrationExecution execution, long epoch)
    {
        if (options.MaxCachedInstances == 0)
        {
            return;
        }

        _entries[execution.InstanceId] = (execution, epoch, Interlocked.Increment(ref _clock));
        if (_entries.Count > options.MaxCachedInstances)
        {
            // Evict the least recently used tenth in one go rather than one entry per insert.
            foreach (var stale in _entries.OrderBy(e => e.Value.LastUsed).Take(Math.Max(1, options.MaxCachedInstances / 10)).Select(e => e.Key).ToList())
            {
                _entries.TryRemove(stale, out _);
            }
        }
    }

    public int Count => _entries.Count;
}
