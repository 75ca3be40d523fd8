using System.Collections.Concurrent;
using AgentCrm.Core.Durable.Runtime;

namespace AgentCrm.Core.Durable.Workers;

/// <summary>
/// Executions kept in memory between turns (sticky execution). An entry is used only when the stored
/// instance is exactly where the cached execution left it (same execution, same history length);
/// otherwise another worker advanced it and the history is replayed.
/// </summary>
internal sealed class ExecutionCache(DurableOptions options)
{
    private readonly ConcurrentDictionary<string, (OrchestrationExecution Execution, long LastUsed)> _entries = new(StringComparer.Ordinal);
    private long _clock;

    public OrchestrationExecution? TryTake(string instanceId, Guid executionId, int historyEvents)
    {
        if (!_entries.TryRemove(instanceId, out var entry))
        {
            return null;
        }

        return entry.Execution.ExecutionId == executionId && entry.Execution.HistorySize.Events == historyEvents ? entry.Execution : null;
    }

    /// <summary>Forgets an instance whose execution ended or moved (terminated, failed without running).</summary>
    public void Evict(string instanceId) => _entries.TryRemove(instanceId, out _);

    public void Put(OrchestrationExecution execution)
    {
        if (options.MaxCachedInstances == 0)
        {
            return;
        }

        _entries[execution.InstanceId] = (execution, Interlocked.Increment(ref _clock));
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
