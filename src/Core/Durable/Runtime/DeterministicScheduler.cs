namespace AgentCrm.Core.Durable.Runtime;

/// <summary>
/// Runs orchestrator code one continuation at a time on the calling thread, only when drained, so the
/// order of everything an orchestrator does depends on its history alone. Awaits inside orchestrator
/// code capture this scheduler (it is TaskScheduler.Current there) and queue their continuations here.
/// </summary>
internal sealed class DeterministicScheduler : TaskScheduler
{
    private readonly Queue<Task> _queue = new();

    public override int MaximumConcurrencyLevel => 1;

    public void Drain()
    {
        while (_queue.TryDequeue(out var task))
        {
            TryExecuteTask(task);
        }
    }

    protected override void QueueTask(Task task) => _queue.Enqueue(task);

    // Never inline: a continuation runs when the engine drains, not inside whoever completed its task.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks() => [.. _queue];
}
