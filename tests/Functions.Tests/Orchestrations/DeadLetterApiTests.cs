using System.Net;
using AgentCrm.Core.Durable.Queues;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Orchestrations;

/// <summary>/api/dead-letters: a poison message reaches the store, is inspected, replayed cleanly or discarded, and stays in its workspace.</summary>
public sealed class DeadLetterApiTests(OrchestrationApiFixture f) : IClassFixture<OrchestrationApiFixture>
{
    private QueueClient Queues => f.App.Services.GetRequiredService<QueueClient>();

    private async Task<string> PoisonAsync(Guid workspace, string token, string key)
    {
        await Queues.EnqueueAsync(OrchestrationApiFixture.PoisonQueue, key, new QueueMessageOptions { Scope = workspace.ToString() });
        string? id = null;
        // The workspace is this test's own: its one letter is this message's.
        await Eventually.TrueAsync(async () =>
        {
            var page = await HttpAssert.JsonAsync(await f.SendAsync(HttpMethod.Get, $"/api/dead-letters?source=queue&queue={OrchestrationApiFixture.PoisonQueue}", token), HttpStatusCode.OK);
            id = page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetString()).SingleOrDefault();
            return id is not null;
        });
        return id!;
    }

    [Fact]
    public async Task A_poison_message_is_listed_and_inspected_with_its_error_then_replayed_cleanly_once_its_handler_works()
    {
        var (workspace, owner) = await f.Seed.WorkspaceWithOwnerAsync();
        var key = Guid.NewGuid().ToString("N");
        var id = await PoisonAsync(workspace, owner.Token, key);

        var letter = await HttpAssert.JsonAsync(await f.SendAsync(HttpMethod.Get, $"/api/dead-letters/{id}", owner.Token), HttpStatusCode.OK);
        Assert.Equal("queue", letter.GetProperty("source").GetString());
        Assert.Equal(2, letter.GetProperty("dequeueCount").GetInt32());
        Assert.Equal(key, letter.GetProperty("payload").GetString());
        Assert.Contains($"gate {key} is closed", letter.GetProperty("detail").GetRawText(), StringComparison.Ordinal);

        ManagementWorkflows.OpenGates[key] = true;
        var replay = await HttpAssert.JsonAsync(await f.SendAsync(HttpMethod.Post, $"/api/dead-letters/{id}/replay", owner.Token), HttpStatusCode.Accepted);

        var messageId = replay.GetProperty("messageId").GetInt64();
        await Eventually.TrueAsync(() => ManagementWorkflows.Handled.TryGetValue(key, out var handled) && handled == messageId);
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Get, $"/api/dead-letters/{id}", owner.Token), HttpStatusCode.NotFound, "not-found");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, $"/api/dead-letters/{id}/replay", owner.Token), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task A_discarded_letter_is_gone_and_another_workspace_cannot_see_replay_or_discard_it()
    {
        var (workspace, owner) = await f.Seed.WorkspaceWithOwnerAsync();
        var stranger = await f.AdminAsync();
        var id = await PoisonAsync(workspace, owner.Token, Guid.NewGuid().ToString("N"));

        Assert.Empty((await HttpAssert.JsonAsync(await f.SendAsync(HttpMethod.Get, "/api/dead-letters", stranger), HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Get, $"/api/dead-letters/{id}", stranger), HttpStatusCode.NotFound, "not-found");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, $"/api/dead-letters/{id}/replay", stranger), HttpStatusCode.NotFound, "not-found");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Delete, $"/api/dead-letters/{id}", stranger), HttpStatusCode.NotFound, "not-found");

        Assert.Equal(HttpStatusCode.NoContent, (await f.SendAsync(HttpMethod.Delete, $"/api/dead-letters/{id}", owner.Token)).StatusCode);
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Get, $"/api/dead-letters/{id}", owner.Token), HttpStatusCode.NotFound, "not-found");
        foreach (var bad in new[] { "source=elsewhere", "cursor=zz", "limit=1000" })
        {
            await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Get, $"/api/dead-letters?{bad}", owner.Token), HttpStatusCode.BadRequest, "validation");
        }
    }

    [Fact]
    public async Task Replaying_a_poison_task_rewinds_its_failed_instance_and_refuses_when_the_instance_is_not_failed()
    {
        var (workspace, owner) = await f.Seed.WorkspaceWithOwnerAsync();
        var key = Guid.NewGuid().ToString("N");
        var failed = await f.StartAsync(owner.Token, "Rewindable", key);
        await f.WaitForAsync(owner.Token, failed, "Failed");
        var running = await f.StartAsync(owner.Token, "Approval", 60_000);
        // The engine writes a task's letter when the task keeps killing its worker; here it is written as the engine writes it.
        async Task<long> LetterAsync(string instance) => await f.Db.ScalarAsync<long>(
            $"INSERT INTO dt.dead_letters (source, instance_id, name, detail, scope) VALUES ('task', '{instance}', 'Gate', '{{}}', '{workspace}') RETURNING id");
        var taskLetter = await LetterAsync(failed);
        var runningLetter = await LetterAsync(running);

        ManagementWorkflows.OpenGates[key] = true;
        var replay = await HttpAssert.JsonAsync(await f.SendAsync(HttpMethod.Post, $"/api/dead-letters/{taskLetter}/replay", owner.Token), HttpStatusCode.Accepted);

        Assert.Equal(failed, replay.GetProperty("instanceId").GetString());
        Assert.Equal($"{key}:counted|{key}:open", (await f.WaitForAsync(owner.Token, failed, "Completed")).GetProperty("output").GetString());
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Get, $"/api/dead-letters/{taskLetter}", owner.Token), HttpStatusCode.NotFound, "not-found");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, $"/api/dead-letters/{runningLetter}/replay", owner.Token), HttpStatusCode.Conflict, "conflict");
    }
}
