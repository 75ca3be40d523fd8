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
