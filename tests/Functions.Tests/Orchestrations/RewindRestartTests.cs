using System.Net;
using System.Text.Json;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Orchestrations;

/// <summary>Rewind re-runs a failed instance from its first failure without repeating what succeeded; restart starts it over.</summary>
public sealed class RewindRestartTests(OrchestrationApiFixture f) : IClassFixture<OrchestrationApiFixture>
{
    [Fact]
    public async Task A_rewound_instance_reruns_only_the_failed_activity_with_its_retry_policy_and_completes()
    {
        var token = await f.AdminAsync();
        var key = Guid.NewGuid().ToString("N");
        var id = await f.StartAsync(token, "Rewindable", key);
        var failed = await f.WaitForAsync(token, id, "Failed");
        Assert.Contains($"gate {key} is closed", failed.GetProperty("failureDetails").GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, ManagementWorkflows.Runs[key]);

        ManagementWorkflows.OpenGates[key] = true;
        Assert.Equal(HttpStatusCode.Accepted, (await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/rewind?reason=gate%20fixed", token)).StatusCode);

        var done = await f.WaitForAsync(token, id, "Completed", "?showHistory=true&showHistoryOutput=true");
        Assert.Equal($"{key}:counted|{key}:open", done.GetProperty("output").GetString());
        Assert.Equal(1, ManagementWorkflows.Runs[key]); // what succeeded before the failure is not run again
        var history = done.GetProperty("historyEvents").EnumerateArray().ToList();
        var rewound = Assert.Single(history, e => e.GetProperty("eventType").GetString() == "ExecutionRewound");
        Assert.Equal("gate fixed", rewound.GetProperty("payload").GetString());
        Assert.DoesNotContain(history, e => e.GetProperty("eventType").GetString() is "TaskFailed" or "ExecutionFailed");
        Assert.Equal(JsonValueKind.Null, done.GetProperty("failureDetails").ValueKind);
        // The history and the instance agree on its length, so a later replay reads what a live turn wrote.
        Assert.Equal((long)history.Count, await f.Db.ScalarAsync<int>($"SELECT history_events FROM dt.instances WHERE instance_id = '{id}'"));
        Assert.Equal((long)history.Count, await f.Db.ScalarAsync<long>($"SELECT count(*) FROM dt.history WHERE instance_id = '{id}'"));
    }

    [Fact]
    public async Task Rewinding_a_parent_rewinds_its_failed_child_and_both_complete()
    {
        var token = await f.AdminAsync();
        var key = Guid.NewGuid().ToString("N");
        var id = await f.StartAsync(token, "RewindableParent", key);
        await f.WaitForAsync(token, id, "Failed");

        ManagementWorkflows.OpenGates[key] = true;
        Assert.Equal(HttpStatusCode.Accepted, (await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/rewind", token)).StatusCode);

        Assert.Equal($"parent({key}:counted|{key}:open)", (await f.WaitForAsync(token, id, "Completed")).GetProperty("output").GetString());
        Assert.Equal(1, ManagementWorkflows.Runs[key]);
        Assert.Equal(0L, await f.Db.ScalarAsync<long>($"SELECT count(*) FROM dt.instances WHERE parent_instance_id = '{id}' AND status <> 2"));
    }

    [Theory]
    [InlineData("FailsAtStart", ":started")]
    [InlineData("TimerAndGate", ":open|timer")]
    public async Task An_instance_that_failed_in_its_first_turn_or_with_a_timer_pending_is_rewound_to_completion(string name, string suffix)
    {
        var token = await f.AdminAsync();
        var key = Guid.NewGuid().ToString("N");
        var id = await f.StartAsync(token, name, key);
        await f.WaitForAsync(token, id, "Failed");

        ManagementWorkflows.OpenGates[key] = true;
        Assert.Equal(HttpStatusCode.Accepted, (await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/rewind", token)).StatusCode);

        Assert.Equal(key + suffix, (await f.WaitForAsync(token, id, "Completed")).GetProperty("output").GetString());
    }

    [Fact]
    public async Task Only_a_failed_instance_can_be_rewound()
    {
        var token = await f.AdminAsync();
        var running = await f.StartAsync(token, "Approval", 60_000);
        await f.WaitForAsync(token, running, "Running");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{running}/rewind", token), HttpStatusCode.Conflict, "conflict");

        var done = await f.StartAsync(token, "Sequence5", 1);
        await f.WaitForAsync(token, done, "Completed");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{done}/rewind", token), HttpStatusCode.Gone, "gone");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, "/api/orchestrations/nobody/rewind", token), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task A_failure_of_the_orchestrator_code_itself_can_be_rewound_and_fails_again_while_the_code_still_throws()
    {
        var token = await f.AdminAsync();
        var id = await f.StartAsync(token, "Failing", 0);
        await f.WaitForAsync(token, id, "Failed");

        Assert.Equal(HttpStatusCode.Accepted, (await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/rewind", token)).StatusCode);

        // It ran again (a turn took the rewind), and the same code failed the same way, without running AddOne twice.
        await Eventually.TrueAsync(async () => await f.Db.ScalarAsync<long>($"SELECT count(*) FROM dt.history WHERE instance_id = '{id}' AND kind = 18") == 1
            && await f.Db.ScalarAsync<short>($"SELECT status FROM dt.instances WHERE instance_id = '{id}'") == 3);
        var state = await f.StatusAsync(token, id, "?showHistory=true");
        Assert.Equal("the orchestrator gave up", state.GetProperty("failureDetails").GetProperty("errorMessage").GetString());
        Assert.Equal(1, state.GetProperty("historyEvents").EnumerateArray().Count(e => e.GetProperty("eventType").GetString() == "TaskScheduled"));
    }

    [Fact]
    public async Task Restart_runs_a_finished_instance_again_under_its_id_or_a_new_one_and_refuses_a_running_one()
    {
        var token = await f.AdminAsync();
        var id = await f.StartAsync(token, "Sequence5", 10);
        await f.WaitForAsync(token, id, "Completed");

        var again = await HttpAssert.JsonAsync(await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/restart", token), HttpStatusCode.Accepted);
        Assert.Equal(id, again.GetProperty("id").GetString());
        Assert.Equal(15, (await f.WaitForAsync(token, id, "Completed")).GetProperty("output").GetInt32());

        var copy = await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/restart?restartWithNewInstanceId=true", token);
        var copyId = (await HttpAssert.JsonAsync(copy, HttpStatusCode.Accepted)).GetProperty("id").GetString()!;
        Assert.NotEqual(id, copyId);
        Assert.Equal($"{f.App.Client.BaseAddress!.GetLeftPart(UriPartial.Authority)}/api/orchestrations/{copyId}", copy.Headers.Location!.ToString());
        Assert.Equal(10, (await f.WaitForAsync(token, copyId, "Completed")).GetProperty("input").GetInt32());

        var running = await f.StartAsync(token, "Approval", 60_000);
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{running}/restart", token), HttpStatusCode.Conflict, "conflict");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{running}/restart?restartWithNewInstanceId=sometimes", token),
            HttpStatusCode.BadRequest, "validation");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, "/api/orchestrations/nobody/restart", token), HttpStatusCode.NotFound, "not-found");
    }
}
