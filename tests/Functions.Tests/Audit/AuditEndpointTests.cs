using System.Net;
using System.Text.Json;
using AgentCrm.Core.Audit;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Audit;

public class AuditEndpointTests
{
    [Fact]
    public async Task Filters_by_event_actor_and_time_and_pages_newest_first()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db);
        var seed = new TenantSeeder(db, app);
        var (ws, owner) = await seed.WorkspaceWithOwnerAsync();
        var alice = Guid.NewGuid();
        for (var i = 0; i < 7; i++)
        {
            await AuditSql.AppendAsync(app, ws, i % 2 == 0 ? AuditEvents.Login : AuditEvents.AdminAction, i < 3 ? alice : owner.Id, $"n{i}");
        }

        var logins = await ListAsync(app, owner, "?event=auth.login");
        Assert.Equal([7L, 5, 3, 1], Seqs(logins));
        Assert.All(logins.GetProperty("items").EnumerateArray(), e => Assert.Equal("auth.login", e.GetProperty("event").GetString()));

        var byAlice = await ListAsync(app, owner, $"?actor={alice}");
        Assert.Equal([3L, 2, 1], Seqs(byAlice));
        Assert.Matches("^[0-9a-f]{64}$", byAlice.GetProperty("items")[0].GetProperty("hash").GetString());
        Assert.Equal("n2", byAlice.GetProperty("items")[0].GetProperty("details").GetProperty("note").GetString());

        var times = (await ListAsync(app, owner, "")).GetProperty("items").EnumerateArray()
            .ToDictionary(e => e.GetProperty("seq").GetInt64(), e => e.GetProperty("occurredAt").GetDateTimeOffset());
        var window = await ListAsync(app, owner, $"?from={Uri.EscapeDataString(times[3].ToString("O"))}&to={Uri.EscapeDataString(times[6].ToString("O"))}");
        Assert.Equal([5L, 4, 3], Seqs(window));

        var first = await ListAsync(app, owner, "?limit=3");
        Assert.Equal([7L, 6, 5], Seqs(first));
        var cursor = first.GetProperty("nextCursor").GetString();
        var second = await ListAsync(app, owner, $"?limit=3&cursor={cursor}");
        Assert.Equal([4L, 3, 2], Seqs(second));
        var last = await ListAsync(app, owner, $"?limit=3&cursor={second.GetProperty("nextCursor").GetString()}");
        Assert.Equal([1L], Seqs(last));
        Assert.Equal(JsonValueKind.Null, last.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task Malformed_filters_are_validation_problems()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db);
        var (_, owner) = await new TenantSeeder(db, app).WorkspaceWithOwnerAsync();

        var response = await app.Client.SendAsync(TenantSeeder.Request(HttpMethod.Get, "/api/audit?event=nope&actor=x&from=yesterday&limit=1000&cursor=abc", owner.Token));

        var problem = await HttpAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "validation");
        var errors = problem.GetProperty("errors");
        foreach (var field in new[] { "event", "actor", "from", "limit", "cursor" })
        {
            Assert.True(errors.TryGetProperty(field, out _), field);
        }
    }

    [Fact]
    public async Task Another_workspace_sees_none_of_these_rows()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db);
        var seed = new TenantSeeder(db, app);
        var (ws, owner) = await seed.WorkspaceWithOwnerAsync();
        var (_, stranger) = await seed.WorkspaceWithOwnerAsync();
        await AuditSql.AppendAsync(app, ws, note: "secret");
        await AuditSql.AppendAsync(app, null, AuditEvents.FailedLogin);

        var mine = await ListAsync(app, owner, "");
        var theirs = await ListAsync(app, stranger, "");
        var theirsVerified = await HttpAssert.JsonAsync(await app.Client.SendAsync(TenantSeeder.Request(HttpMethod.Post, "/api/audit/verify", stranger.Token)), HttpStatusCode.OK);

        Assert.Single(mine.GetProperty("items").EnumerateArray());
        Assert.Empty(theirs.GetProperty("items").EnumerateArray());
        Assert.Equal(0, theirsVerified.GetProperty("checked").GetInt64());
        Assert.True(theirsVerified.GetProperty("valid").GetBoolean());
        var selectedInOther = await app.Client.SendAsync(TenantSeeder.Request(HttpMethod.Get, "/api/audit", stranger.Token).WithWorkspace(ws));
        await HttpAssert.ProblemAsync(selectedInOther, HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task A_member_is_refused_and_the_refusal_is_audited()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db);
        var seed = new TenantSeeder(db, app);
        var (ws, owner) = await seed.WorkspaceWithOwnerAsync();
        var member = await seed.MemberAsync(ws, WorkspaceRole.Member);

        await HttpAssert.ProblemAsync(await app.Client.SendAsync(TenantSeeder.Request(HttpMethod.Get, "/api/audit", member.Token)), HttpStatusCode.Forbidden, "forbidden");
        await HttpAssert.ProblemAsync(await app.Client.SendAsync(TenantSeeder.Request(HttpMethod.Post, "/api/audit/verify", member.Token)), HttpStatusCode.Forbidden, "forbidden");

        var denied = await ListAsync(app, owner, $"?event=access.denied&actor={member.Id}");
        var items = denied.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        Assert.Equal("/api/audit/verify", items[0].GetProperty("details").GetProperty("path").GetString());
        Assert.Equal("/api/audit", items[1].GetProperty("details").GetProperty("path").GetString());
    }

    private static async Task<JsonElement> ListAsync(TestApp app, SeededUser user, string query) =>
        await HttpAssert.JsonAsync(await app.Client.SendAsync(TenantSeeder.Request(HttpMethod.Get, "/api/audit" + query, user.Token)), HttpStatusCode.OK);

    private static long[] Seqs(JsonElement page) => [.. page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("seq").GetInt64())];
}

internal static class RequestExtensions
{
    public static HttpRequestMessage WithWorkspace(this HttpRequestMessage request, Guid workspaceId)
    {
        request.Headers.Add("X-Workspace-Id", workspaceId.ToString());
        return request;
    }
}
