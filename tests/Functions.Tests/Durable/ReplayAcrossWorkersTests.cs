using AgentCrm.Core.Durable;
using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Client;
using AgentCrm.Core.Durable.Runtime;
using AgentCrm.Core.Durable.Store;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Durable;

/// <summary>What happens when an instance moves to another worker: replay, fencing, and code that changed.</summary>
public class ReplayAcrossWorkersTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_worker_whose_code_changed_fails_the_instance_naming_both_activities()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        string id;
        await using (var before = await StartWorker(db, "StepA"))
        {
            var client = before.Services.GetRequiredService<DurableClient>();
            id = await client.StartAsync("Drift");
            await Eventually.TrueAsync(async () => (await client.GetHistoryAsync(id)).Any(e => e.Kind == EventKind.TaskCompleted));
        }

        await using var after = await StartWorker(db, "StepB"); // a fresh process: no cached execution, so it replays
        var afterClient = after.Services.GetRequiredService<DurableClient>();
        await afterClient.RaiseEventAsync(id, "go");
        var done = await afterClient.WaitForCompletionAsync(id, Patience);

        Assert.Equal(OrchestrationStatus.Failed, done.Status);
        Assert.Equal(typeof(NonDeterministicOrchestrationException).FullName, done.Failure!.ErrorType);
        Assert.Contains("activity 'StepA'", done.Failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("activity 'StepB'", done.Failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Guids_and_time_are_the_same_when_another_worker_replays_the_instance()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        string id;
        await using (var first = await StartWorker(db, "StepA"))
        {
            var client = first.Services.GetRequiredService<DurableClient>();
            id = await client.StartAsync("Guids");
            await Eventually.TrueAsync(async () => (await client.GetAsync(id))?.CustomStatus is not null);
        }

        await using var second = await StartWorker(db, "StepA");
        var secondClient = second.Services.GetRequiredService<DurableClient>();
        var live = (await secondClient.GetAsync(id))!.CustomStatus;
        await secondClient.RaiseEventAsync(id, "go");
        var done = await secondClient.WaitForCompletionAsync(id, Patience);

        Assert.Equal(OrchestrationStatus.Completed, done.Status);
        Assert.Equal(live, done.Output); // computed again on the second worker by replay
    }

    [Fact]
    public async Task Events_that_arrive_with_the_one_that_continues_as_new_go_to_the_next_execution()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var idle = await TestApp.StartAsync(db, new() { ["Background:Enabled"] = "false" },
            configure: b => b.Services.AddDurableFunctions(TestWorkflows.Register));
        var client = idle.Services.GetRequiredService<DurableClient>();
        var id = await client.StartAsync("EventLoop", 0);
        await client.RaiseEventAsync(id, "x", 1);
        await client.RaiseEventAsync(id, "x", 2); // all three messages are read in the first turn

        await using var worker = await TestApp.StartAsync(db, configure: b => b.Services.AddDurableFunctions(TestWorkflows.Register));
        var done = await worker.Services.GetRequiredService<DurableClient>().WaitForCompletionAsync(id, Patience);

        Assert.Equal(2, done.ReadOutput<int>());
    }

    [Fact]
    public async Task Nothing_is_ever_written_to_a_finished_instance_even_by_a_lease_holder()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await StartWorker(db, "StepA");
        var client = app.Services.GetRequiredService<DurableClient>();
        var id = await client.StartAsync("Drift");
        await Eventually.TrueAsync(async () => (await client.GetHistoryAsync(id)).Any(e => e.Kind == EventKind.TaskCompleted));
        await client.RaiseEventAsync(id, "go");
        var done = await client.WaitForCompletionAsync(id, Patience);
        // A worker that leased it in the instant its final turn committed (the race the chaos test found).
        await db.ScalarAsync<int>($"UPDATE dt.instances SET lease_owner = 'late-worker', lease_epoch = lease_epoch + 1, lease_expires_at = now() + interval '1 minute' WHERE instance_id = '{id}'");
        var late = new InstanceWorkItem(id, done.ExecutionId, "Drift", "", OrchestrationStatus.Completed,
            await db.ScalarAsync<long>($"SELECT lease_epoch FROM dt.instances WHERE instance_id = '{id}'"), done.HistoryEvents, 1, null, null, null);
        var store = new TaskHubStore(db.DataSources());

        await Assert.ThrowsAsync<LeaseLostException>(() => store.FailInstanceAsync(late, "late-worker",
            new TaskFailureDetails("Late", "must not land", null), DateTime.UtcNow, CancellationToken.None));

        Assert.Equal(OrchestrationStatus.Completed, (await client.GetAsync(id))!.Status);
        Assert.Empty(await store.LockInstancesAsync("another", TimeSpan.FromSeconds(5), 10, ["Drift@"], CancellationToken.None));
    }

    [Fact]
    public async Task Work_held_by_a_dead_worker_moves_on_after_its_lease_and_its_late_writes_are_refused()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var store = new TaskHubStore(db.DataSources());
        await using (var producer = await StartWorker(db, "StepA", background: false))
        {
            await producer.Services.GetRequiredService<DurableClient>().StartAsync("Drift", null, new StartOptions { InstanceId = "orphan" });
        }

        // A worker that then died: it leased the instance, ran the first turn's lease, and never came back.
        var dead = (await store.LockInstancesAsync("dead-worker", TimeSpan.FromSeconds(2), 10, ["Drift@"], CancellationToken.None)).Single();
        await using var survivor = await StartWorker(db, "StepA");
        var client = survivor.Services.GetRequiredService<DurableClient>();
        await Eventually.TrueAsync(async () => (await client.GetHistoryAsync("orphan")).Any(e => e.Kind == EventKind.TaskCompleted));
        await client.RaiseEventAsync("orphan", "go");
        var done = await client.WaitForCompletionAsync("orphan", Patience);

        Assert.Equal(OrchestrationStatus.Completed, done.Status);
        var turn = new TurnResult([new HistoryEvent(EventKind.OrchestratorStarted, -1, null, null, DateTime.UtcNow)], [], null, null, false);
        await Assert.ThrowsAsync<LeaseLostException>(() => store.CommitTurnAsync(dead, "dead-worker", TimeSpan.FromSeconds(2), [], turn, CancellationToken.None));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM (SELECT seq FROM dt.history WHERE instance_id = 'orphan' GROUP BY execution_id, seq HAVING count(*) > 1) d"));
    }

    [Fact]
    public async Task A_turn_that_outlasts_the_lease_keeps_it_and_runs_once()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var first = await StartWorker(db, "StepA");
        await using var second = await StartWorker(db, "StepA"); // polls for expired leases all along
        var client = first.Services.GetRequiredService<DurableClient>();
        var id = await client.StartAsync("SlowTurn");

        var done = await client.WaitForCompletionAsync(id, Patience);

        // The turn blocked for 1.6 leases: had its lease lapsed, the other worker would have run it again.
        Assert.Equal(OrchestrationStatus.Completed, done.Status);
        Assert.Equal(1, SlowTurns[id]);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> SlowTurns = new();

    private static Task<TestApp> StartWorker(TestDatabase db, string step, bool background = true) =>
        TestApp.StartAsync(db, new() { ["Durable:LeaseSeconds"] = "5", ["Durable:PollMaxMs"] = "250", ["Background:Enabled"] = background ? "true" : "false" },
            configure: b => b.Services.AddDurableFunctions(r => r
                .AddOrchestrator<object, string>("Guids", async (ctx, _) =>
                {
                    var first = $"{ctx.NewGuid()}|{ctx.CurrentUtcDateTime:O}";
                    ctx.SetCustomStatus(first);
                    await ctx.WaitForExternalEvent<object>("go");
                    return first;
                })
                .AddOrchestrator<object, int>("SlowTurn", (ctx, _) =>
                {
                    SlowTurns.AddOrUpdate(ctx.InstanceId, 1, (_, n) => n + 1);
                    Thread.Sleep(TimeSpan.FromSeconds(8)); // a turn as slow as a huge replay, lease 5 s
                    return Task.FromResult(1);
                })
                .AddActivity<object, int>(step, (_, _) => Task.FromResult(1))
                .AddOrchestrator<object, int>("Drift", async (ctx, _) =>
                {
                    await ctx.CallActivityAsync<int>(step);
                    await ctx.WaitForExternalEvent<object>("go");
                    return 1;
                })));
}
