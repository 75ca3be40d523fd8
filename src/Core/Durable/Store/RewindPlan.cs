using System.Globalization;
using AgentCrm.Core.Durable.Runtime;

namespace AgentCrm.Core.Durable.Store;

/// <summary>
/// Works out a rewind from a failed execution's history (pure, so it is unit-tested): where to cut, which
/// consumed results to deliver again, which activities to dispatch again and which sub-orchestrations
/// the caller must look at. The cut is a turn boundary, so the kept history is one a live run could have
/// written, and replaying it schedules exactly what it records.
/// </summary>
public sealed class RewindPlan
{
    private RewindPlan(int cut) => Cut = cut;

    /// <summary>The first history sequence number removed.</summary>
    public int Cut { get; }

    public List<Message> Redeliver { get; } = [];

    public List<Task> Dispatch { get; } = [];

    /// <summary>The kept history never started the orchestrator (it failed in its first turn): its start is delivered again.</summary>
    public bool NeedsStart { get; private set; }

    /// <summary>Task ids of sub-orchestrations created after the cut: replay creates them again (same ids), so the old ones must go.</summary>
    public List<int> CutChildren { get; } = [];

    /// <summary>Task ids of sub-orchestrations created before the cut whose result the kept history lacks (and the cut one did not carry as a success).</summary>
    public List<int> UnresolvedChildren { get; } = [];

    public static RewindPlan For(IReadOnlyList<Event> history)
    {
        var failure = history.ToList().FindIndex(e => e.Kind is EventKind.TaskFailed or EventKind.SubOrchestrationFailed or EventKind.ExecutionFailed);
        if (failure < 0)
        {
            throw new InvalidOperationException("The history records no failure to rewind.");
        }

        // Back to the OrchestratorStarted that opened the failing turn (every turn opens with one).
        var start = failure;
        while (start > 0 && history[start].Kind != EventKind.OrchestratorStarted)
        {
            start--;
        }

        var plan = new RewindPlan(history[start].Seq);
        var kept = history.Take(start).ToList();
        var cut = history.Skip(start).ToList();
        plan.NeedsStart = !kept.Any(e => e.Kind == EventKind.ExecutionStarted);
        plan.CutChildren.AddRange(cut.Where(e => e.Kind == EventKind.SubOrchestrationCreated).Select(e => e.TaskId));
        var resolved = kept.Where(e => e.Kind is EventKind.TaskCompleted or EventKind.TaskFailed or EventKind.TimerFired
            or EventKind.SubOrchestrationCompleted or EventKind.SubOrchestrationFailed).Select(e => e.TaskId).ToHashSet();
        var scheduled = kept.Where(e => e.Kind is EventKind.TaskScheduled or EventKind.TimerCreated or EventKind.SubOrchestrationCreated)
            .Where(e => !resolved.Contains(e.TaskId)).ToDictionary(e => e.TaskId);

        // Successes the cut turns consumed for work the kept history scheduled come back as messages; results of
        // work scheduled after the cut are dropped (that work is scheduled again); raised events always come back.
        var redelivered = new HashSet<int>();
        foreach (var e in cut)
        {
            if (e.Kind == EventKind.EventRaised)
            {
                plan.Redeliver.Add(new Message(e.Kind, e.TaskId, e.Name, e.PayloadId, null));
            }
            else if (e.Kind is EventKind.TaskCompleted or EventKind.TimerFired or EventKind.SubOrchestrationCompleted && scheduled.ContainsKey(e.TaskId) && redelivered.Add(e.TaskId))
            {
                plan.Redeliver.Add(new Message(e.Kind, e.TaskId, null, e.PayloadId, null));
            }
        }

        foreach (var (taskId, e) in scheduled.Where(kv => !redelivered.Contains(kv.Key)).OrderBy(kv => kv.Key))
        {
            switch (e.Kind)
            {
                case EventKind.TaskScheduled:
                    plan.Dispatch.Add(new Task(taskId, e.Name ?? string.Empty, e.PayloadId, e.Options));
                    break;
                case EventKind.TimerCreated:
                    // The TimerCreated payload is the due time in round-trip format (OrchestrationExecution.Actions).
                    var fireAt = DateTime.Parse(e.Data!.Trim('"'), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
                    plan.Redeliver.Add(new Message(EventKind.TimerFired, taskId, null, null, fireAt.ToUniversalTime()));
                    break;
                default:
                    plan.UnresolvedChildren.Add(taskId);
                    break;
            }
        }

        return plan;
    }

    /// <summary>One history row as a rewind reads it (<see cref="Data"/>: a timer's payload, its due time).</summary>
    public sealed record Event(int Seq, EventKind Kind, int TaskId, string? Name, Guid? PayloadId, StoredTaskOptions? Options, string? Data);

    /// <summary>An inbox message to insert; <see cref="VisibleAt"/> null means now.</summary>
    public sealed record Message(EventKind Kind, int TaskId, string? Name, Guid? PayloadId, DateTime? VisibleAt);

    /// <summary>An activity to dispatch again, as its TaskScheduled event recorded it.</summary>
    public sealed record Task(int TaskId, string Name, Guid? InputId, StoredTaskOptions? Options);
}
