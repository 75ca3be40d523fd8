using System.Collections.Concurrent;

namespace AgentCrm.Core.Durable.Workers;

/// <summary>
/// The per-queue activity budget of this worker (Durable__MaxConcurrentActivities), shared by the queue
/// loop and by Local dispatch, so activities run on the fast path count against the same limit. Local
/// work already leased to this worker waits for a slot rather than taking the slower way through the queue.
/// </summary>
internal sealed class ActivitySlots(DurableOptions options)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _queues = new(StringComparer.Ordinal);

    public SemaphoreSlim For(string queue) =>
        _queues.GetOrAdd(queue, _ => new SemaphoreSlim(options.MaxConcurrentActivities, options.MaxConcurrentActivities));

}
