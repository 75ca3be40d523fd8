using AgentCrm.Core.Durable;
using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Client;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Durable;

public class LocalDispatchTests
{
    [Fact]
    public async Task Local_activities_run_on_the_orchestrating_worker_without_going_through_a_queue()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        // This worker serves no queue the tasks are put in, so only Local dispatch can finish anything.
        await using var app = await TestApp.StartAsync(db, new() { ["Durable:Queues"] = "elsewhere" },
            configure: b => b.Services.AddDurableFunctions(TestWorkflows.Register));
        var client = app.Services.GetRequiredService<DurableClient>();

        var local = await client.StartAsync("Sequence5Local", 1);
        var queued = await client.StartAsync("Sequence5", 1);
        var done = await client.WaitForCompletionAsync(local, TimeSpan.FromSeconds(60));

        Assert.Equal(6, done.ReadOutput<int>());
        Assert.Equal(OrchestrationStatus.Running, (await client.GetAsync(queued))!.Status);
        Assert.Equal(1L, await db.ScalarAsync<long>($"SELECT count(*) FROM dt.tasks WHERE instance_id = '{queued}' AND lease_owner IS NULL"));
    }

    [Fact]
    public async Task Local_activities_count_against_the_workers_activity_limit()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var running = 0;
        var most = 0;
        await using var app = await TestApp.StartAsync(db, new() { ["Durable:MaxConcurrentActivities"] = "2" },
            configure: b => b.Services.AddDurableFunctions(r => r
                .AddActivity<int, int>("Tracked", async (_, i) =>
                {
                    var now = Interlocked.Increment(ref running);
                    InterlockedMax(ref most, now);
                    await Task.Delay(50);
                    Interlocked.Decrement(ref running);
                    return i;
                })
                .AddOrchestrator<int, int>("LocalFanOut", async (ctx, n) =>
                {
                    var local = new TaskOptions { Dispatch = DispatchMode.Local };
                    return (await Task.WhenAll(Enumerable.Range(0, n).Select(i => ctx.CallActivityAsync<int>("Tracked", i, local)))).Sum();
                })));
        var client = app.Services.GetRequiredService<DurableClient>();

        var done = await client.WaitForCompletionAsync(await client.StartAsync("LocalFanOut", 12), TimeSpan.FromSeconds(60));

        // Ten of the twelve waited for one of the two slots, which the queue loop shares.
        Assert.Equal(66, done.ReadOutput<int>());
        Assert.InRange(most, 1, 2);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var actual && actual != seen)
        {
            seen = actual;
        }
    }

    [Fact]
    public async Task A_slot_with_background_work_switched_off_runs_no_orchestration()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var staging = await TestApp.StartAsync(db, new() { ["Background:Enabled"] = "false" },
            configure: b => b.Services.AddDurableFunctions(TestWorkflows.Register));
        var client = staging.Services.GetRequiredService<DurableClient>();
        var id = await client.StartAsync("Sequence5", 1);

        await using (var production = await TestApp.StartAsync(db, configure: b => b.Services.AddDurableFunctions(TestWorkflows.Register)))
        {
            // the staging slot started it (its client works) but only a slot with background work on runs it
            var done = await production.Services.GetRequiredService<DurableClient>().WaitForCompletionAsync(id, TimeSpan.FromSeconds(60));
            Assert.Equal(6, done.ReadOutput<int>());
        }

        var history = await client.GetHistoryAsync(id);
        Assert.Equal(OrchestrationStatus.Completed, (await client.GetAsync(id))!.Status);
        Assert.NotEmpty(history);
    }
}
