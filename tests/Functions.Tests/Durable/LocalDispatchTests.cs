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
}
