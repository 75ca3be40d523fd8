using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Orchestrations;

/// <summary>/api/orchestrations over real HTTP and PostgreSQL: Durable Functions' shapes and codes.</summary>
public sealed class OrchestrationApiTests(OrchestrationApiFixture f) : IClassFixture<OrchestrationApiFixture>
{
    [Fact]
    public async Task A_start_is_202_with_location_and_links_and_its_status_is_202_while_running_then_200_with_the_output()
    {
        var token = await f.AdminAsync();
        var started = await f.SendAsync(HttpMethod.Post, "/api/orchestrations", token, new { name = "Approval", input = 60_000 });

        var links = await HttpAssert.JsonAsync(started, HttpStatusCode.Accepted);
        var id = links.GetProperty("id").GetString()!;
        Assert.Equal($"{f.App.Client.BaseAddress!.GetLeftPart(UriPartial.Authority)}/api/orchestrations/{id}", started.Headers.Location!.ToString());
        Assert.Equal("10", started.Headers.GetValues("Retry-After").Single());
        Assert.Equal(started.Headers.Location.ToString(), links.GetProperty("statusQueryGetUri").GetString());
        Assert.EndsWith($"/{id}/raiseEvent/{{eventName}}", links.GetProperty("sendEventPostUri").GetString(), StringComparison.Ordinal);
        Assert.EndsWith($"/{id}/rewind?reason={{text}}", links.GetProperty("rewindPostUri").GetString(), StringComparison.Ordinal);

        await f.WaitForAsync(token, id, "Running");
        var running = await f.SendAsync(HttpMethod.Get, $"/api/orchestrations/{id}", token);
        Assert.Equal(HttpStatusCode.Accepted, running.StatusCode);
        Assert.Equal("5", running.Headers.GetValues("Retry-After").Single());
        Assert.Equal($"{f.App.Client.BaseAddress!.GetLeftPart(UriPartial.Authority)}/api/orchestrations/{id}", running.Headers.Location!.ToString());
        var state = await running.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Approval", state.GetProperty("name").GetString());
        Assert.Equal(60_000, state.GetProperty("input").GetInt32());
        Assert.Equal("waiting for approval", state.GetProperty("customStatus").GetString());

        Assert.Equal(HttpStatusCode.Accepted, (await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/raiseEvent/approve", token, "yes")).StatusCode);
        var done = await f.WaitForAsync(token, id, "Completed");
        Assert.Equal("yes", done.GetProperty("output").GetString());
        Assert.Equal(HttpStatusCode.OK, (await f.SendAsync(HttpMethod.Get, $"/api/orchestrations/{id}", token)).StatusCode);
    }

    [Fact]
    public async Task History_comes_with_showHistory_and_payloads_only_with_showHistoryOutput_and_input_can_be_left_out()
    {
        var token = await f.AdminAsync();
        var id = await f.StartAsync(token, "Sequence5", 1);
        await f.WaitForAsync(token, id, "Completed");

        var plain = await f.StatusAsync(token, id, "?showInput=false");
        Assert.False(plain.TryGetProperty("historyEvents", out var none) && none.ValueKind != JsonValueKind.Null);
        Assert.Equal(JsonValueKind.Null, plain.GetProperty("input").ValueKind);
        Assert.Equal(6, plain.GetProperty("output").GetInt32());

        var events = (await f.StatusAsync(token, id, "?showHistory=true")).GetProperty("historyEvents").EnumerateArray().ToList();
        Assert.Equal(5, events.Count(e => e.GetProperty("eventType").GetString() == "TaskScheduled" && e.GetProperty("name").GetString() == "AddOne"));
        Assert.All(events, e => Assert.Equal(JsonValueKind.Null, e.GetProperty("payload").ValueKind));
        var withOutput = (await f.StatusAsync(token, id, "?showHistory=true&showHistoryOutput=true")).GetProperty("historyEvents").EnumerateArray();
        Assert.Contains(withOutput, e => e.GetProperty("eventType").GetString() == "TaskCompleted" && e.GetProperty("payload").ValueKind == JsonValueKind.Number);

        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Get, $"/api/orchestrations/{id}?showHistory=maybe", token), HttpStatusCode.BadRequest, "validation");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Get, "/api/orchestrations/no-such-instance", token), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task A_duplicate_start_of_a_running_id_is_409_naming_it_and_a_finished_id_can_be_started_again()
    {
        var token = await f.AdminAsync();
        var id = $"dup-{Guid.NewGuid():N}";
        await f.StartAsync(token, "Approval", 60_000, id);

        var duplicate = await f.SendAsync(HttpMethod.Post, "/api/orchestrations", token, new { name = "Approval", input = 1, instanceId = id });
        await HttpAssert.ProblemAsync(duplicate, HttpStatusCode.Conflict, "conflict");
        Assert.Equal($"{f.App.Client.BaseAddress!.GetLeftPart(UriPartial.Authority)}/api/orchestrations/{id}", duplicate.Headers.Location!.ToString());

        // Another workspace learns nothing about where the instance lives.
        var stranger = await f.SendAsync(HttpMethod.Post, "/api/orchestrations", await f.AdminAsync(), new { name = "Approval", input = 1, instanceId = id });
        await HttpAssert.ProblemAsync(stranger, HttpStatusCode.Conflict, "conflict");
        Assert.Null(stranger.Headers.Location);

        Assert.Equal(HttpStatusCode.Accepted, (await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/terminate?reason=done", token)).StatusCode);
        await f.WaitForAsync(token, id, "Terminated");
        // Finished, the id is still this workspace's: another may not take it over (and so wipe it).
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, "/api/orchestrations", await f.AdminAsync(), new { name = "Sequence5", input = 1, instanceId = id }),
            HttpStatusCode.Conflict, "conflict");
        Assert.Equal("Terminated", (await f.StatusAsync(token, id)).GetProperty("runtimeStatus").GetString());
        Assert.Equal(id, await f.StartAsync(token, "Sequence5", 1, id));
        Assert.Equal(6, (await f.WaitForAsync(token, id, "Completed")).GetProperty("output").GetInt32());
    }

    [Fact]
    public async Task The_same_idempotency_key_returns_the_same_instance_and_starts_only_one()
    {
        var (workspace, owner) = await f.Seed.WorkspaceWithOwnerAsync();
        var body = new { name = "Sequence5", input = 3 };
        var key = Guid.NewGuid().ToString();

        var first = await f.SendAsync(HttpMethod.Post, "/api/orchestrations", owner.Token, body, key);
        var second = await f.SendAsync(HttpMethod.Post, "/api/orchestrations", owner.Token, body, key);

        var id = (await HttpAssert.JsonAsync(first, HttpStatusCode.Accepted)).GetProperty("id").GetString();
        Assert.Equal(id, (await HttpAssert.JsonAsync(second, HttpStatusCode.Accepted)).GetProperty("id").GetString());
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(1L, await f.Db.ScalarAsync<long>($"SELECT count(*) FROM dt.instances WHERE scope = '{workspace}'"));
    }

    [Fact]
    public async Task Bad_starts_are_problems_naming_the_field()
    {
        var token = await f.AdminAsync();

        await HttpAssert.ProblemAsync(await f.RawAsync(HttpMethod.Post, "/api/orchestrations", token, "{\"name\": "), HttpStatusCode.BadRequest, "malformed-json");
        var unknown = await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, "/api/orchestrations", token, new { name = "NoSuchWorkflow" }), HttpStatusCode.BadRequest, "validation");
        Assert.Contains("NoSuchWorkflow", unknown.GetProperty("errors").GetProperty("name")[0].GetString(), StringComparison.Ordinal);
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, "/api/orchestrations", token, new { input = 1 }), HttpStatusCode.BadRequest, "validation");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, "/api/orchestrations", token, new { name = "Sequence5", colour = "red" }), HttpStatusCode.BadRequest, "malformed-json");
        var longId = await HttpAssert.ProblemAsync(
            await f.SendAsync(HttpMethod.Post, "/api/orchestrations", token, new { name = "Sequence5", instanceId = new string('x', 257) }), HttpStatusCode.BadRequest, "validation");
        Assert.Contains("256", longId.GetProperty("errors").GetProperty("instanceId")[0].GetString(), StringComparison.Ordinal);
        var version = await HttpAssert.ProblemAsync(
            await f.SendAsync(HttpMethod.Post, "/api/orchestrations", token, new { name = "Sequence5", version = "9" }), HttpStatusCode.BadRequest, "validation");
        Assert.True(version.GetProperty("errors").TryGetProperty("version", out _));
        await HttpAssert.ProblemAsync(
            await f.SendAsync(HttpMethod.Post, "/api/orchestrations", token, new { name = "Sequence5", input = new string('x', OrchestrationApiFixture.MaxPayloadBytes) }),
            HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
    }

    [Fact]
    public async Task Events_are_404_for_an_unknown_instance_410_once_finished_and_must_be_json_within_the_limit()
    {
        var token = await f.AdminAsync();
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, "/api/orchestrations/nobody/raiseEvent/approve", token, "x"), HttpStatusCode.NotFound, "not-found");

        var id = await f.StartAsync(token, "Approval", 60_000);
        await HttpAssert.ProblemAsync(await f.RawAsync(HttpMethod.Post, $"/api/orchestrations/{id}/raiseEvent/approve", token, "yes", "text/plain"),
            HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        await HttpAssert.ProblemAsync(await f.RawAsync(HttpMethod.Post, $"/api/orchestrations/{id}/raiseEvent/approve", token, "{not json"),
            HttpStatusCode.BadRequest, "malformed-json");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/raiseEvent/approve", token, new string('x', OrchestrationApiFixture.MaxPayloadBytes)),
            HttpStatusCode.RequestEntityTooLarge, "payload-too-large");

        Assert.Equal(HttpStatusCode.Accepted, (await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/raiseEvent/approve", token, "ok")).StatusCode);
        Assert.Equal("ok", (await f.WaitForAsync(token, id, "Completed")).GetProperty("output").GetString());
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/raiseEvent/approve", token, "late"), HttpStatusCode.Gone, "gone");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/terminate", token), HttpStatusCode.Gone, "gone");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/suspend", token), HttpStatusCode.Gone, "gone");
    }

    [Fact]
    public async Task Terminate_ends_an_instance_and_cancels_its_running_activity()
    {
        var token = await f.AdminAsync();
        var id = await f.StartAsync(token, "WaitsForever", 0);
        await Eventually.TrueAsync(async () => await f.Db.ScalarAsync<long>($"SELECT count(*) FROM dt.tasks WHERE instance_id = '{id}' AND lease_owner IS NOT NULL") == 1);

        Assert.Equal(HttpStatusCode.Accepted, (await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/terminate?reason=operator%20said%20so", token)).StatusCode);

        var state = await f.WaitForAsync(token, id, "Terminated");
        Assert.Equal("operator said so", state.GetProperty("output").GetString());
        await Eventually.TrueAsync(async () => await f.Db.ScalarAsync<long>($"SELECT count(*) FROM dt.tasks WHERE instance_id = '{id}'") == 0);
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/terminate?reason={new string('r', 1001)}", token),
            HttpStatusCode.BadRequest, "validation");
    }

    [Fact]
    public async Task A_suspended_instance_holds_its_events_until_resumed_and_can_still_be_terminated()
    {
        var token = await f.AdminAsync();
        var id = await f.StartAsync(token, "Approval", 60_000);
        await f.WaitForAsync(token, id, "Running");

        Assert.Equal(HttpStatusCode.Accepted, (await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/suspend?reason=hold", token)).StatusCode);
        Assert.Equal("Suspended", (await f.StatusAsync(token, id)).GetProperty("runtimeStatus").GetString());
        Assert.Equal(HttpStatusCode.Accepted, (await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/raiseEvent/approve", token, "held")).StatusCode);
        // The event waits in the inbox: the workers see it (it is visible) and leave it, as they must for a suspended instance.
        await Eventually.TrueAsync(async () => await f.Db.ScalarAsync<long>($"SELECT count(*) FROM dt.inbox WHERE instance_id = '{id}' AND kind = 11") == 1);
        Assert.Equal("Suspended", (await f.StatusAsync(token, id)).GetProperty("runtimeStatus").GetString());

        Assert.Equal(HttpStatusCode.Accepted, (await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{id}/resume", token)).StatusCode);
        Assert.Equal("held", (await f.WaitForAsync(token, id, "Completed")).GetProperty("output").GetString());

        var other = await f.StartAsync(token, "Approval", 60_000);
        await f.WaitForAsync(token, other, "Running");
        Assert.Equal(HttpStatusCode.Accepted, (await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{other}/suspend", token)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{other}/terminate", token)).StatusCode);
        await f.WaitForAsync(token, other, "Terminated");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, $"/api/orchestrations/{other}/resume", token), HttpStatusCode.Gone, "gone");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Post, "/api/orchestrations/nobody/suspend", token), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Purge_deletes_a_finished_instance_and_all_its_rows_but_refuses_a_running_one()
    {
        var token = await f.AdminAsync();
        var running = await f.StartAsync(token, "Approval", 60_000);
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Delete, $"/api/orchestrations/{running}", token), HttpStatusCode.Conflict, "conflict");

        var id = await f.StartAsync(token, "Sequence5", 1);
        await f.WaitForAsync(token, id, "Completed");
        var purged = await HttpAssert.JsonAsync(await f.SendAsync(HttpMethod.Delete, $"/api/orchestrations/{id}", token), HttpStatusCode.OK);

        Assert.Equal(1, purged.GetProperty("instancesDeleted").GetInt32());
        foreach (var table in new[] { "instances", "history", "payloads", "inbox", "tasks" })
        {
            Assert.Equal(0L, await f.Db.ScalarAsync<long>($"SELECT count(*) FROM dt.{table} WHERE instance_id = '{id}'"));
        }

        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Get, $"/api/orchestrations/{id}", token), HttpStatusCode.NotFound, "not-found");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Delete, $"/api/orchestrations/{id}", token), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Purge_by_filter_needs_createdTimeFrom_takes_only_finished_instances_of_this_workspace()
    {
        var token = await f.AdminAsync();
        var otherToken = await f.AdminAsync();
        var from = DateTime.UtcNow.AddMinutes(-1).ToString("O");
        var done = new[] { await f.StartAsync(token, "Sequence5", 1), await f.StartAsync(token, "Sequence5", 2) };
        var running = await f.StartAsync(token, "Approval", 60_000);
        var others = await f.StartAsync(otherToken, "Sequence5", 3);
        foreach (var id in done)
        {
            await f.WaitForAsync(token, id, "Completed");
        }

        await f.WaitForAsync(otherToken, others, "Completed");

        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Delete, "/api/orchestrations", token), HttpStatusCode.BadRequest, "validation");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Delete, $"/api/orchestrations?createdTimeFrom={from}&runtimeStatus=Running", token), HttpStatusCode.BadRequest, "validation");
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Delete, "/api/orchestrations?createdTimeFrom=yesterday", token), HttpStatusCode.BadRequest, "validation");

        var purged = await HttpAssert.JsonAsync(await f.SendAsync(HttpMethod.Delete, $"/api/orchestrations?createdTimeFrom={Uri.EscapeDataString(from)}&runtimeStatus=Completed", token), HttpStatusCode.OK);

        Assert.Equal(2, purged.GetProperty("instancesDeleted").GetInt32());
        Assert.Equal("Running", (await f.StatusAsync(token, running)).GetProperty("runtimeStatus").GetString());
        Assert.Equal("Completed", (await f.StatusAsync(otherToken, others)).GetProperty("runtimeStatus").GetString());
        await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Delete, $"/api/orchestrations?createdTimeFrom={Uri.EscapeDataString(from)}", token), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task The_list_pages_newest_first_with_a_cursor_and_filters_by_status_name_prefix_and_time()
    {
        var token = await f.AdminAsync();
        var prefix = $"q{Guid.NewGuid():N}"[..12];
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await f.StartAsync(token, "Sequence5", i, $"{prefix}-{i}"));
        }

        var waiting = await f.StartAsync(token, "Approval", 60_000, $"{prefix}-waiting");
        foreach (var id in ids)
        {
            await f.WaitForAsync(token, id, "Completed");
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await HttpAssert.JsonAsync(await f.SendAsync(HttpMethod.Get, $"/api/orchestrations?limit=2&runtimeStatus=Completed,Failed{(cursor is null ? "" : "&cursor=" + cursor)}", token), HttpStatusCode.OK);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("instanceId").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(Enumerable.Reverse(ids), seen);
        var byPrefix = await HttpAssert.JsonAsync(await f.SendAsync(HttpMethod.Get, $"/api/orchestrations?instanceIdPrefix={prefix}-w&name=Approval&showInput=true", token), HttpStatusCode.OK);
        var only = Assert.Single(byPrefix.GetProperty("items").EnumerateArray());
        Assert.Equal(waiting, only.GetProperty("instanceId").GetString());
        Assert.Equal(60_000, only.GetProperty("input").GetInt32());
        var future = Uri.EscapeDataString(DateTime.UtcNow.AddHours(1).ToString("O"));
        Assert.Empty((await HttpAssert.JsonAsync(await f.SendAsync(HttpMethod.Get, $"/api/orchestrations?createdTimeFrom={future}", token), HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        foreach (var bad in new[] { "cursor=nonsense", "runtimeStatus=Sleeping", "limit=0", "limit=abc", "createdTimeTo=soon", "showInput=perhaps" })
        {
            await HttpAssert.ProblemAsync(await f.SendAsync(HttpMethod.Get, $"/api/orchestrations?{bad}", token), HttpStatusCode.BadRequest, "validation");
        }
    }

    [Fact]
    public async Task Another_workspace_cannot_see_or_touch_an_instance_and_row_level_security_hides_it_too()
    {
        var (workspace, owner) = await f.Seed.WorkspaceWithOwnerAsync();
        var (strangerWorkspace, stranger) = await f.Seed.WorkspaceWithOwnerAsync();
        var id = await f.StartAsync(owner.Token, "Approval", 60_000);
        await f.WaitForAsync(owner.Token, id, "Running");

        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, $"/api/orchestrations/{id}"), (HttpMethod.Post, $"/api/orchestrations/{id}/raiseEvent/approve"), (HttpMethod.Post, $"/api/orchestrations/{id}/terminate"),
            (HttpMethod.Post, $"/api/orchestrations/{id}/suspend"), (HttpMethod.Post, $"/api/orchestrations/{id}/resume"), (HttpMethod.Post, $"/api/orchestrations/{id}/rewind"),
            (HttpMethod.Post, $"/api/orchestrations/{id}/restart"), (HttpMethod.Delete, $"/api/orchestrations/{id}"),
        })
        {
            await HttpAssert.ProblemAsync(await f.SendAsync(method, path, stranger.Token, method == HttpMethod.Post ? "x" : null), HttpStatusCode.NotFound, "not-found");
        }

        var list = await HttpAssert.JsonAsync(await f.SendAsync(HttpMethod.Get, "/api/orchestrations", stranger.Token), HttpStatusCode.OK);
        Assert.Empty(list.GetProperty("items").EnumerateArray());
        Assert.Equal("Running", (await f.StatusAsync(owner.Token, id)).GetProperty("runtimeStatus").GetString());

        // Below the code: the app's own login, as the tenant role a management request takes on, scoped to the
        // stranger's workspace, sees no row of it at all; scoped to its own, it does.
        await using var app = new Npgsql.NpgsqlConnection(f.Db.AppConnectionString);
        await app.OpenAsync();
        await using var tx = await app.BeginTransactionAsync();
        await using var scope = new Npgsql.NpgsqlCommand($"SELECT set_config('role', 'agentcrm_tenant', true), set_config('app.workspace_id', '{strangerWorkspace}', true)", app, tx);
        await scope.ExecuteScalarAsync();
        await using var count = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM dt.instances WHERE instance_id = '{id}'", app, tx);
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
        await using var own = new Npgsql.NpgsqlCommand($"SELECT set_config('app.workspace_id', '{workspace}', true); SELECT count(*) FROM dt.instances WHERE instance_id = '{id}'", app, tx);
        await using var reader = await own.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        Assert.Equal(1L, reader.GetInt64(0));
    }
}
