using AgentCrm.Core.Durable;
using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Client;
using AgentCrm.Core.Durable.Runtime;
using AgentCrm.Core.Durable.Store;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Durable;

/// <summary>The engine end to end: the app's workers, real PostgreSQL, the C# client.</summary>
public class DurableEngineTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private TestDatabase _db = null!;
    private TestApp _app = null!;

    private DurableClient Client => _app.Services.GetRequiredService<DurableClient>();

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(migrate: true);
        _app = await TestApp.StartAsync(_db, new() { ["Durable:LeaseSeconds"] = "5", ["Durable:PollMaxMs"] = "250" },
            configure: b => b.Services.AddDurableFunctions(TestWorkflows.Register));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Theory]
    [InlineData("Sequence5")]
    [InlineData("Sequence5Local")]
    public async Task A_sequence_of_activities_completes_with_its_output(string name)
    {
        var id = await Client.StartAsync(name, 1);

        var done = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal(OrchestrationStatus.Completed, done.Status);
        Assert.Equal(6, done.ReadOutput<int>());
        Assert.Equal("1", done.Input);
        var history = await Client.GetHistoryAsync(id);
        Assert.Equal(5, history.Count(e => e.Kind == EventKind.TaskScheduled));
        Assert.Equal(EventKind.ExecutionCompleted, history[^1].Kind);
        Assert.Equal(0L, await _db.ScalarAsync<long>($"SELECT count(*) FROM dt.tasks WHERE instance_id = '{id}'"));
    }

    [Fact]
    public async Task A_fan_out_of_a_thousand_activities_fans_back_in()
    {
        var id = await Client.StartAsync("FanOut", 1000);

        var done = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal(OrchestrationStatus.Completed, done.Status);
        Assert.Equal(Enumerable.Range(1, 1000).Sum(), done.ReadOutput<int>());
        Assert.Equal(0L, await _db.ScalarAsync<long>($"SELECT count(*) FROM dt.inbox WHERE instance_id = '{id}'"));
    }

    [Fact]
    public async Task A_durable_timer_fires_no_earlier_than_asked()
    {
        var id = await Client.StartAsync("Timer", 400);

        var done = await Client.WaitForCompletionAsync(id, Patience);

        Assert.True(done.ReadOutput<double>() >= 400, $"orchestration time advanced only {done.Output} ms");
    }

    [Fact]
    public async Task An_external_event_is_delivered_and_custom_status_is_visible()
    {
        var id = await Client.StartAsync("Approval", 60_000);
        await Eventually.TrueAsync(async () => (await Client.GetAsync(id))?.CustomStatus == "\"waiting for approval\"");

        Assert.Equal(DeliveryResult.Delivered, await Client.RaiseEventAsync(id, "approve", "yes"));
        var done = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal("yes", done.ReadOutput<string>());
        Assert.Equal(DeliveryResult.AlreadyFinished, await Client.RaiseEventAsync(id, "approve", "again"));
        Assert.Equal(DeliveryResult.NotFound, await Client.RaiseEventAsync("no-such-instance", "approve"));
    }

    [Fact]
    public async Task An_event_wait_times_out_on_a_durable_timer()
    {
        var id = await Client.StartAsync("Approval", 300);

        Assert.Equal("timeout", (await Client.WaitForCompletionAsync(id, Patience)).ReadOutput<string>());
    }

    [Fact]
    public async Task A_sub_orchestration_runs_as_its_own_instance_and_returns_to_its_parent()
    {
        var id = await Client.StartAsync("Parent", 10);

        var done = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal(115, done.ReadOutput<int>());
        Assert.Equal(1L, await _db.ScalarAsync<long>($"SELECT count(*) FROM dt.instances WHERE parent_instance_id = '{id}' AND status = 2"));
    }

    [Fact]
    public async Task A_sub_orchestration_whose_id_is_taken_fails_in_the_parent_instead_of_hanging()
    {
        var taken = await Client.StartAsync("Approval", 60_000);

        var id = await Client.StartAsync("ParentWithChildId", taken);

        Assert.Equal("OrchestrationAlreadyExists", (await Client.WaitForCompletionAsync(id, Patience)).ReadOutput<string>());
        Assert.Equal(OrchestrationStatus.Running, (await Client.GetAsync(taken))!.Status);
    }

    [Fact]
    public async Task Two_calls_with_one_child_id_in_one_turn_start_one_child_and_fail_the_other()
    {
        var id = await Client.StartAsync("TwinChildren");

        Assert.Equal("6,OrchestrationAlreadyExists", (await Client.WaitForCompletionAsync(id, Patience)).ReadOutput<string>());
    }

    [Fact]
    public async Task Retries_beyond_the_poison_threshold_are_attempts_not_poison()
    {
        var id = await Client.StartAsync("ManyAttempts", 12); // more than Durable:MaxDispatchCount (10)

        Assert.Equal(12, (await Client.WaitForCompletionAsync(id, Patience)).ReadOutput<int>());
    }

    [Fact]
    public async Task Messages_left_for_finished_instances_never_block_new_work_and_are_swept()
    {
        var finished = await Client.StartAsync("Sequence5", 1);
        await Client.WaitForCompletionAsync(finished, Patience);
        await _db.ScalarAsync<int>($"INSERT INTO dt.inbox (instance_id, kind, name, created_at) SELECT '{finished}', 11, 'late', now() - interval '1 hour' FROM generate_series(1, 300)");

        var fresh = await Client.StartAsync("Sequence5", 1);
        Assert.Equal(6, (await Client.WaitForCompletionAsync(fresh, Patience)).ReadOutput<int>());
        var sweep = await new AgentCrm.Core.Durable.Workers.SweepOrphanInboxJob(_app.Services.GetRequiredService<AgentCrm.Core.Platform.Data.PostgresDataSources>()).RunAsync(CancellationToken.None);

        Assert.Equal("Deleted 300 undeliverable inbox message(s).", sweep);
    }

    [Fact]
    public async Task Continue_as_new_restarts_with_a_fresh_history()
    {
        var id = await Client.StartAsync("Countdown", 3);

        var done = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal(OrchestrationStatus.Completed, done.Status);
        Assert.True(done.ReadOutput<int>() <= 3, "the last execution's history should hold only its own few events");
        Assert.Equal(0L, await _db.ScalarAsync<long>($"SELECT count(*) FROM dt.history WHERE instance_id = '{id}' AND execution_id <> '{done.ExecutionId}'"));
    }

    [Fact]
    public async Task Retries_that_succeed_leave_no_trace_in_history()
    {
        var id = await Client.StartAsync("Retries");

        var done = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal(3, done.ReadOutput<int>()); // succeeded on the third attempt
        var history = await Client.GetHistoryAsync(id);
        Assert.Single(history, e => e.Kind == EventKind.TaskScheduled);
        Assert.DoesNotContain(history, e => e.Kind is EventKind.TaskFailed or EventKind.TimerCreated);
    }

    [Theory]
    [InlineData("non-retryable", "System.InvalidOperationException|1")]
    [InlineData("handle-no", "System.InvalidOperationException|1")]
    [InlineData("handle-yes", "System.InvalidOperationException|3")]
    [InlineData("none", "System.InvalidOperationException|1")]
    [InlineData("unknown", "ActivityNotFound|1")]
    public async Task A_failure_after_retries_is_catchable_with_type_and_attempts(string mode, string expected)
    {
        var id = await Client.StartAsync("CatchFailure", mode);

        Assert.Equal(expected, (await Client.WaitForCompletionAsync(id, Patience)).ReadOutput<string>());
    }

    [Fact]
    public async Task The_retry_timeout_stops_retries_before_the_attempts_run_out()
    {
        var id = await Client.StartAsync("CatchFailure", "timeout");

        var result = (await Client.WaitForCompletionAsync(id, Patience)).ReadOutput<string>()!.Split('|');

        Assert.Equal("System.InvalidOperationException", result[0]);
        Assert.InRange(int.Parse(result[1], System.Globalization.CultureInfo.InvariantCulture), 2, 100);
    }

    [Fact]
    public async Task An_unhandled_orchestrator_exception_fails_the_instance_with_details()
    {
        var id = await Client.StartAsync("Failing");

        var done = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal(OrchestrationStatus.Failed, done.Status);
        Assert.Equal("System.InvalidOperationException", done.Failure!.ErrorType);
        Assert.Equal("the orchestrator gave up", done.Failure.ErrorMessage);
    }

    [Fact]
    public async Task Terminate_ends_the_instance_and_cancels_its_running_activity()
    {
        var id = await Client.StartAsync("WaitsForever");
        await TestWorkflows.BlockingStarted.Task.WaitAsync(Patience);

        Assert.Equal(DeliveryResult.Delivered, await Client.TerminateAsync(id, "enough"));
        var done = await Client.WaitForCompletionAsync(id, Patience);
        await TestWorkflows.BlockingCancelled.Task.WaitAsync(Patience);

        Assert.Equal(OrchestrationStatus.Terminated, done.Status);
        Assert.Equal("enough", done.ReadOutput<string>());
        Assert.Equal(DeliveryResult.AlreadyFinished, await Client.TerminateAsync(id));
        await Eventually.TrueAsync(async () => await _db.ScalarAsync<long>($"SELECT count(*) FROM dt.tasks WHERE instance_id = '{id}'") == 0);
    }

    [Fact]
    public async Task A_running_instance_id_cannot_be_started_twice_but_a_finished_one_can_be_reused()
    {
        var id = "dup-" + Guid.NewGuid().ToString("N");
        await Client.StartAsync("Approval", 60_000, new StartOptions { InstanceId = id });

        await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() => Client.StartAsync("Sequence5", 1, new StartOptions { InstanceId = id }));
        await Client.TerminateAsync(id);
        await Client.WaitForCompletionAsync(id, Patience);
        await Client.StartAsync("Sequence5", 1, new StartOptions { InstanceId = id });

        Assert.Equal(6, (await Client.WaitForCompletionAsync(id, Patience)).ReadOutput<int>());
    }

    [Fact]
    public async Task The_idempotency_key_is_stable_and_names_instance_execution_and_task()
    {
        var id = await Client.StartAsync("Keys");

        var done = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal($"{id}:{done.ExecutionId:N}:0", done.ReadOutput<string>());
    }

    [Fact]
    public async Task Bad_starts_are_refused_before_anything_is_stored()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Client.StartAsync("NoSuchOrchestrator"));
        await Assert.ThrowsAsync<ArgumentException>(() => Client.StartAsync("Sequence5", 1, new StartOptions { InstanceId = new string('x', 257) }));
        await Assert.ThrowsAsync<ArgumentException>(() => Client.StartAsync("Sequence5", 1, new StartOptions { InstanceId = "a/b" }));
        var tooBig = await Assert.ThrowsAsync<ArgumentException>(() => Client.StartAsync("Sequence5", new string('x', 3 * 1024 * 1024)));

        Assert.Contains("limit", tooBig.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM dt.instances WHERE name = 'NoSuchOrchestrator' OR length(instance_id) > 256"));
    }

    [Fact]
    public async Task An_input_the_orchestrator_cannot_read_fails_the_instance_with_a_readable_reason()
    {
        var id = await Client.StartAsync("Sequence5", "not a number");

        var done = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal(OrchestrationStatus.Failed, done.Status);
        Assert.Equal("System.Text.Json.JsonException", done.Failure!.ErrorType);
    }

    [Fact]
    public async Task A_delayed_start_waits_until_its_time()
    {
        var startAt = DateTime.UtcNow.AddMilliseconds(2000); // room for a loaded machine to read it back while still pending
        var id = await Client.StartAsync("Sequence5", 1, new StartOptions { StartAt = startAt });

        var pending = await Client.GetAsync(id);
        var done = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal(OrchestrationStatus.Pending, pending!.Status);
        Assert.True(done.CompletedAt >= startAt.AddMilliseconds(-50), $"completed {done.CompletedAt:O}, start was {startAt:O}");
    }

    [Fact]
    public async Task An_attempt_over_its_start_to_close_timeout_is_cancelled_and_fails_as_a_timeout()
    {
        var id = await Client.StartAsync("StartToClose");

        Assert.Equal(typeof(TimeoutException).FullName, (await Client.WaitForCompletionAsync(id, Patience)).ReadOutput<string>());
    }

    [Fact]
    public async Task Heartbeat_details_reach_the_next_attempt()
    {
        var id = await Client.StartAsync("Heartbeats");

        Assert.Equal("{\"step\":1}", (await Client.WaitForCompletionAsync(id, Patience)).ReadOutput<string>());
    }

    [Fact]
    public async Task One_instance_can_send_an_event_to_another()
    {
        var waiting = await Client.StartAsync("Approval", 60_000);
        await Eventually.TrueAsync(async () => (await Client.GetAsync(waiting))?.Status == OrchestrationStatus.Running);

        var sender = await Client.StartAsync("Sender", waiting);

        Assert.Equal("sent", (await Client.WaitForCompletionAsync(sender, Patience)).ReadOutput<string>());
        Assert.Equal($"sent by {sender}", (await Client.WaitForCompletionAsync(waiting, Patience)).ReadOutput<string>());
    }
}
