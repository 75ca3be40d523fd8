using AgentCrm.Core.Durable.Runtime;
using AgentCrm.Core.Durable.Store;

namespace AgentCrm.Core.Tests.Durable;

public class RewindPlanTests
{
    private static readonly StoredTaskOptions Billing = new("billing", null, 5000, null);

    private static RewindPlan.Event E(int seq, EventKind kind, int task = -1, string? name = null, StoredTaskOptions? options = null, string? data = null) =>
        new(seq, kind, task, name, Guid.NewGuid(), options, data);

    [Fact]
    public void The_cut_is_the_start_of_the_failing_turn_and_what_that_turn_consumed_comes_back()
    {
        var fireAt = new DateTime(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);
        RewindPlan.Event[] history =
        [
            E(0, EventKind.OrchestratorStarted), E(1, EventKind.ExecutionStarted),
            E(2, EventKind.TaskScheduled, 0, "A"), E(3, EventKind.TaskScheduled, 1, "B", Billing), E(4, EventKind.TimerCreated, 2, data: fireAt.ToString("O")),
            E(5, EventKind.TaskScheduled, 3, "Done"),
            E(6, EventKind.OrchestratorStarted), E(7, EventKind.TaskCompleted, 3),
            E(8, EventKind.OrchestratorStarted), E(9, EventKind.TaskCompleted, 0), E(10, EventKind.EventRaised, name: "go"), E(11, EventKind.TaskFailed, 1),
            E(12, EventKind.TaskScheduled, 4, "Compensate"), E(13, EventKind.OrchestratorStarted), E(14, EventKind.TaskCompleted, 4), E(15, EventKind.ExecutionFailed),
        ];

        var plan = RewindPlan.For(history);

        Assert.Equal(8, plan.Cut);
        // A's result and the event come back; Compensate (scheduled after the cut) is scheduled again by replay, so its result is dropped.
        Assert.Equal([(EventKind.TaskCompleted, 0), (EventKind.EventRaised, -1), (EventKind.TimerFired, 2)], plan.Redeliver.Select(m => (m.Kind, m.TaskId)));
        Assert.Equal(fireAt, plan.Redeliver[^1].VisibleAt);
        var b = Assert.Single(plan.Dispatch);
        Assert.Equal((1, "B", Billing), (b.TaskId, b.Name, b.Options));
        Assert.Empty(plan.UnresolvedChildren);
        Assert.False(plan.NeedsStart);
    }

    [Fact]
    public void A_failure_in_the_first_turn_cuts_everything_and_asks_for_the_start_again_and_children_after_the_cut_are_named()
    {
        RewindPlan.Event[] history =
        [
            E(0, EventKind.OrchestratorStarted), E(1, EventKind.ExecutionStarted), E(2, EventKind.SubOrchestrationCreated, 0, "Child"), E(3, EventKind.TaskFailed, 9),
        ];

        var plan = RewindPlan.For(history);

        Assert.Equal(0, plan.Cut);
        Assert.True(plan.NeedsStart);
        Assert.Equal([0], plan.CutChildren);
    }

    [Fact]
    public void A_failure_written_as_a_turn_of_its_own_cuts_just_that_turn_and_an_unresolved_child_is_reported()
    {
        RewindPlan.Event[] history =
        [
            E(0, EventKind.OrchestratorStarted), E(1, EventKind.ExecutionStarted), E(2, EventKind.SubOrchestrationCreated, 0, "Child"),
            E(3, EventKind.OrchestratorStarted), E(4, EventKind.ExecutionFailed),
        ];

        var plan = RewindPlan.For(history);

        Assert.Equal(3, plan.Cut);
        Assert.Empty(plan.Redeliver);
        Assert.Empty(plan.Dispatch);
        Assert.Equal([0], plan.UnresolvedChildren);
    }

    [Fact]
    public void A_history_without_a_failure_cannot_be_rewound() =>
        Assert.Throws<InvalidOperationException>(() => RewindPlan.For([E(0, EventKind.OrchestratorStarted), E(1, EventKind.ExecutionStarted)]));
}
