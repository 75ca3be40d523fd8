using AgentCrm.Core.Durable;
using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Runtime;
using Microsoft.Extensions.Logging;
using static AgentCrm.Core.Tests.Durable.ReplayHarness;

namespace AgentCrm.Core.Tests.Durable;

public class OrchestrationReplayTests
{
    private static DurableRegistry Sequence(string step = "AddOne") => new DurableRegistry().AddOrchestrator<int, int>("Sequence", async (ctx, n) =>
    {
        var value = n;
        for (var i = 0; i < 3; i++)
        {
            value = await ctx.CallActivityAsync<int>(step, value);
        }

        return value;
    });

    [Fact]
    public void A_sequence_schedules_one_activity_per_turn_and_completes_with_the_last_result()
    {
        var run = new ReplayHarness(Sequence(), "Sequence");

        var first = run.Start(1);
        var second = run.Turn(Completed(0, 2));
        run.Turn(Completed(1, 3));
        var last = run.Turn(Completed(2, 4));

        Assert.Equal([EventKind.OrchestratorStarted, EventKind.ExecutionStarted, EventKind.TaskScheduled], first.NewHistory.Select(e => e.Kind));
        var scheduled = Assert.IsType<ScheduleTaskAction>(Assert.Single(first.Outbox));
        Assert.Equal(("AddOne", "1", 0), (scheduled.Name, scheduled.Input, scheduled.TaskId));
        Assert.Equal(1, Assert.IsType<ScheduleTaskAction>(Assert.Single(second.Outbox)).TaskId);
        Assert.Equal("4", Assert.IsType<CompletedOutcome>(last.Outcome).Output);
        Assert.Equal(EventKind.ExecutionCompleted, last.NewHistory[^1].Kind);
    }

    [Fact]
    public void Replay_rebuilds_the_same_state_so_the_next_turn_continues_where_it_left_off()
    {
        var run = new ReplayHarness(Sequence(), "Sequence");
        run.Start(10);
        run.Turn(Completed(0, 11));

        run.ReplayFromHistory();
        var next = run.Turn(Completed(1, 12));

        Assert.Equal(2, Assert.IsType<ScheduleTaskAction>(Assert.Single(next.Outbox)).TaskId);
        Assert.Equal("12", ((ScheduleTaskAction)next.Outbox[0]).Input);
        Assert.Equal(run.History.Count, run.Execution.HistorySize.Events);
    }

    [Fact]
    public void A_replay_that_schedules_a_different_activity_names_both()
    {
        var run = new ReplayHarness(Sequence("AddOne"), "Sequence");
        run.Start(1);
        run.Turn(Completed(0, 2));

        var error = Assert.Throws<NonDeterministicOrchestrationException>(() => run.ReplayFromHistory(Sequence("AddTwo")));

        Assert.Contains("history records activity 'AddOne' as task 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("the code scheduled activity 'AddTwo'", error.Message, StringComparison.Ordinal);
        Assert.Contains("instance i-1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_replay_that_schedules_something_extra_is_refused()
    {
        var once = new DurableRegistry().AddOrchestrator<int, int>("O", async (ctx, _) => await ctx.CallActivityAsync<int>("A"));
        var twice = new DurableRegistry().AddOrchestrator<int, int>("O", async (ctx, _) =>
        {
            var tasks = new[] { ctx.CallActivityAsync<int>("A"), ctx.CallActivityAsync<int>("B") };
            return (await Task.WhenAll(tasks)).Sum();
        });
        var run = new ReplayHarness(once, "O");
        run.Start(0);

        var error = Assert.Throws<NonDeterministicOrchestrationException>(() => run.ReplayFromHistory(twice));
        Assert.Contains("activity 'B' as task 1, which the history does not record", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fan_out_schedules_everything_in_one_turn_and_fan_in_waits_for_all_in_any_order()
    {
        var registry = new DurableRegistry().AddOrchestrator<int, int>("FanOut", async (ctx, n) =>
            (await Task.WhenAll(Enumerable.Range(0, n).Select(i => ctx.CallActivityAsync<int>("Square", i)))).Sum());
        var run = new ReplayHarness(registry, "FanOut");

        var first = run.Start(4);
        var partial = run.Turn(Completed(3, 9), Completed(0, 0));
        var done = run.Turn(Completed(2, 4), Completed(1, 1));

        Assert.Equal(4, first.Outbox.Count);
        Assert.Null(partial.Outcome);
        Assert.Equal("14", Assert.IsType<CompletedOutcome>(done.Outcome).Output);
    }

    [Fact]
    public void An_event_that_arrives_before_the_wait_is_kept_for_it()
    {
        var registry = new DurableRegistry().AddOrchestrator<int, string>("Approve", async (ctx, _) =>
        {
            await ctx.CallActivityAsync("Prepare");
            return await ctx.WaitForExternalEvent<string>("approval");
        });
        var run = new ReplayHarness(registry, "Approve");
        run.Start(0);

        run.Turn(Event("APPROVAL", "yes")); // names match case-insensitively
        var done = run.Turn(Completed(0, null));

        Assert.Equal("\"yes\"", Assert.IsType<CompletedOutcome>(done.Outcome).Output);
    }

    [Fact]
    public void An_event_wait_with_a_timeout_creates_a_durable_timer_and_throws_when_it_fires()
    {
        var registry = new DurableRegistry().AddOrchestrator<int, string>("Wait", async (ctx, _) =>
        {
            try
            {
                return await ctx.WaitForExternalEvent<string>("go", TimeSpan.FromMinutes(5));
            }
            catch (TimeoutException)
            {
                return "timed out";
            }
        });
        var run = new ReplayHarness(registry, "Wait");

        var first = run.Start(0);
        var timer = Assert.IsType<CreateTimerAction>(Assert.Single(first.Outbox));
        run.ReplayFromHistory();
        var done = run.Turn(TimerFired(timer.TaskId));

        Assert.Equal(T0.AddMinutes(5), timer.FireAt);
        Assert.Equal("\"timed out\"", Assert.IsType<CompletedOutcome>(done.Outcome).Output);
    }

    [Fact]
    public void When_the_event_wins_the_timer_is_cancelled_and_its_late_firing_ignored()
    {
        var registry = new DurableRegistry().AddOrchestrator<int, string>("Wait", async (ctx, _) =>
        {
            var value = await ctx.WaitForExternalEvent<string>("go", TimeSpan.FromMinutes(5));
            await ctx.CallActivityAsync("After");
            return value;
        });
        var run = new ReplayHarness(registry, "Wait");
        run.Start(0);

        var afterEvent = run.Turn(Event("go", "now"));
        var lateTimer = run.Turn(TimerFired(0));
        var done = run.Turn(Completed(1, null));

        Assert.Equal("After", Assert.IsType<ScheduleTaskAction>(Assert.Single(afterEvent.Outbox)).Name);
        Assert.Empty(lateTimer.Outbox);
        Assert.Null(lateTimer.Outcome);
        Assert.Equal("\"now\"", Assert.IsType<CompletedOutcome>(done.Outcome).Output);
    }

    [Fact]
    public void Time_and_guids_are_deterministic_across_replay()
    {
        var seen = new List<(DateTime Now, Guid Guid, bool Replaying)>();
        var registry = new DurableRegistry().AddOrchestrator<int, int>("Clock", async (ctx, _) =>
        {
            seen.Add((ctx.CurrentUtcDateTime, ctx.NewGuid(), ctx.IsReplaying));
            await ctx.CallActivityAsync("Tick");
            seen.Add((ctx.CurrentUtcDateTime, ctx.NewGuid(), ctx.IsReplaying));
            await ctx.CallActivityAsync("Tick");
            return 0;
        });
        var run = new ReplayHarness(registry, "Clock");
        run.Start(0);
        run.Turn(T0.AddMinutes(7), Completed(0, null));
        var live = seen.ToList();
        seen.Clear();

        run.ReplayFromHistory();

        Assert.Equal(live.Select(s => (s.Now, s.Guid)), seen.Select(s => (s.Now, s.Guid)));
        Assert.Equal(T0.AddMinutes(7), live[1].Now);
        Assert.NotEqual(live[0].Guid, live[1].Guid);
        Assert.All(seen, s => Assert.True(s.Replaying));
        Assert.All(live, s => Assert.False(s.Replaying));
    }

    [Fact]
    public void History_size_reads_the_same_live_and_on_replay()
    {
        var seen = new List<int>();
        var registry = new DurableRegistry().AddOrchestrator<int, int>("Size", async (ctx, _) =>
        {
            var first = ctx.CallActivityAsync("A");
            seen.Add(ctx.HistorySize.Events);
            await first;
            var second = ctx.CallActivityAsync("B");
            seen.Add(ctx.HistorySize.Events);
            await second;
            return 0;
        });
        var run = new ReplayHarness(registry, "Size");
        run.Start(0);
        run.Turn(Completed(0, null));
        var live = seen.ToList();
        seen.Clear();

        run.ReplayFromHistory();

        Assert.Equal(live, seen);
        Assert.Equal(run.History.Count, run.Execution.HistorySize.Events);
    }

    [Fact]
    public void A_failed_activity_is_a_catchable_failure_with_its_details()
    {
        var registry = new DurableRegistry().AddOrchestrator<int, string>("Catch", async (ctx, _) =>
        {
            try
            {
                await ctx.CallActivityAsync("Boom");
                return "no";
            }
            catch (TaskFailedException ex)
            {
                return $"{ex.TaskName}|{ex.FailureDetails.ErrorType}|{ex.FailureDetails.ErrorMessage}|{ex.FailureDetails.Attempts}";
            }
        });
        var run = new ReplayHarness(registry, "Catch");
        run.Start(0);
        var failure = new TaskFailureDetails("System.IO.IOException", "disk", null, 3);

        var done = run.Turn(new HistoryEvent(EventKind.TaskFailed, 0, null, DurableJson.Serialize(failure), T0));

        Assert.Equal("\"Boom|System.IO.IOException|disk|3\"", Assert.IsType<CompletedOutcome>(done.Outcome).Output);
    }

    [Fact]
    public void An_unhandled_exception_fails_the_execution_with_its_type_and_message()
    {
        var registry = new DurableRegistry().AddOrchestrator<int, int>("Throws", async (ctx, _) =>
        {
            await ctx.CallActivityAsync("A");
            throw new InvalidOperationException("bad state");
        });
        var run = new ReplayHarness(registry, "Throws");
        run.Start(0);

        var done = run.Turn(Completed(0, null));

        var failed = Assert.IsType<FailedOutcome>(done.Outcome);
        Assert.Equal("System.InvalidOperationException", failed.Failure.ErrorType);
        Assert.Equal("bad state", failed.Failure.ErrorMessage);
        Assert.Equal(EventKind.ExecutionFailed, done.NewHistory[^1].Kind);
    }

    [Fact]
    public void Continue_as_new_carries_the_new_input_and_unconsumed_events()
    {
        var registry = new DurableRegistry().AddOrchestrator<int, int>("Loop", async (ctx, n) =>
        {
            await ctx.CallActivityAsync("Work", n);
            ctx.ContinueAsNew(n + 1);
            return n;
        });
        var run = new ReplayHarness(registry, "Loop");
        run.Start(1);

        var done = run.Turn(Event("later", 42), Completed(0, null));

        var next = Assert.IsType<ContinuedAsNewOutcome>(done.Outcome);
        Assert.Equal("2", next.Input);
        Assert.Equal("later", Assert.Single(next.CarriedEvents).Name);
    }

    [Fact]
    public void Terminate_ends_the_execution_with_the_given_output()
    {
        var run = new ReplayHarness(Sequence(), "Sequence");
        run.Start(1);

        var done = run.Turn(new HistoryEvent(EventKind.ExecutionTerminated, -1, null, "\"stop\"", T0), Completed(0, 2));

        Assert.Equal("\"stop\"", Assert.IsType<TerminatedOutcome>(done.Outcome).Output);
        Assert.Empty(done.Outbox);
    }

    [Fact]
    public void The_handle_predicate_decides_retries_without_touching_history()
    {
        var policy = new RetryPolicy(5, TimeSpan.FromSeconds(1), 2) { HandleFailure = f => f.ErrorType != "Fatal" };
        var registry = new DurableRegistry().AddOrchestrator<int, int>("Retry", async (ctx, _) =>
            await ctx.CallActivityAsync<int>("Flaky", null, TaskOptions.FromRetryPolicy(policy)));
        var run = new ReplayHarness(registry, "Retry");
        run.Start(0);

        var retried = run.Turn(new HistoryEvent(EventKind.TaskAttemptFailed, 0, null, DurableJson.Serialize(new TaskFailureDetails("Transient", "x", null, 2)), T0));
        var failed = run.Turn(new HistoryEvent(EventKind.TaskAttemptFailed, 0, null, DurableJson.Serialize(new TaskFailureDetails("Fatal", "y", null, 3)), T0));

        var retry = Assert.IsType<RetryTaskAction>(Assert.Single(retried.Outbox));
        Assert.Equal(TimeSpan.FromSeconds(2), retry.Delay); // 1 s × 2^(2-1)
        Assert.Equal([EventKind.OrchestratorStarted], retried.NewHistory.Select(e => e.Kind));
        Assert.Contains(failed.NewHistory, e => e.Kind == EventKind.TaskFailed);
        var outcome = Assert.IsType<FailedOutcome>(failed.Outcome); // the orchestrator did not catch it
        Assert.Equal(typeof(TaskFailedException).FullName, outcome.Failure.ErrorType);
        Assert.Contains("Fatal: y", outcome.Failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_replay_safe_logger_writes_each_line_once()
    {
        var sink = new ListLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(sink));
        var registry = new DurableRegistry().AddOrchestrator<int, int>("Logs", async (ctx, _) =>
        {
            var log = ctx.CreateReplaySafeLogger("Test");
            log.LogInformation("before");
            await ctx.CallActivityAsync("A");
            log.LogInformation("after");
            await ctx.CallActivityAsync("B");
            return 0;
        });
        OrchestrationExecution Fresh() => new("i-log", Guid.Empty, registry.FindOrchestrator("Logs", "")!, registry.DefaultVersion, loggers);
        var live = Fresh();
        var history = new List<HistoryEvent>();
        history.AddRange(live.RunTurn([new HistoryEvent(EventKind.ExecutionStarted, -1, null, "0", T0)], T0).NewHistory);
        history.AddRange(live.RunTurn([Completed(0, null)], T0).NewHistory);

        Fresh().Replay(history);

        Assert.Equal(["before", "after"], sink.Messages);
    }

    [Fact]
    public void An_oversized_activity_input_fails_at_the_call_with_a_readable_reason()
    {
        var registry = new DurableRegistry().AddOrchestrator<int, int>("Big", async (ctx, _) => await ctx.CallActivityAsync<int>("Take", new string('x', 5000)));
        var execution = new OrchestrationExecution("i-big", Guid.NewGuid(), registry.FindOrchestrator("Big", "")!, registry.DefaultVersion,
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, maxPayloadBytes: 1024);

        var result = execution.RunTurn([new HistoryEvent(EventKind.ExecutionStarted, -1, null, "0", T0)], T0);

        var failed = Assert.IsType<FailedOutcome>(result.Outcome);
        Assert.Contains("input of activity 'Take' is 5002 bytes; the limit is 1024", failed.Failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Empty(result.Outbox);
    }

    [Fact]
    public void Sub_orchestrations_and_sent_events_are_actions_with_deterministic_child_ids()
    {
        var registry = new DurableRegistry()
            .AddOrchestrator<int, int>("Child", (_, n) => Task.FromResult(n))
            .AddOrchestrator<int, int>("Parent", async (ctx, _) =>
            {
                ctx.SendEvent("other", "ping", 1);
                return await ctx.CallSubOrchestratorAsync<int>("Child", 5);
            });
        var first = new ReplayHarness(registry, "Parent").Start(0);
        var again = new ReplayHarness(registry, "Parent").Start(0);

        var child = Assert.IsType<StartSubOrchestrationAction>(first.Outbox[1]);
        Assert.Equal(("other", "ping"), (((SendEventAction)first.Outbox[0]).InstanceId, ((SendEventAction)first.Outbox[0]).EventName));
        Assert.Equal(child.InstanceId, ((StartSubOrchestrationAction)again.Outbox[1]).InstanceId);
        Assert.Equal("5", child.Input);
    }
}

internal sealed class ListLoggerProvider : ILoggerProvider
{
    public List<string> Messages { get; } = [];

    public ILogger CreateLogger(string categoryName) => new ListLogger(Messages);

    public void Dispose() { }

    private sealed class ListLogger(List<string> messages) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            messages.Add(formatter(state, exception));
    }
}
