using System.Net;
using System.Text;
using System.Text.Json;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Functions.Access;
using AgentCrm.Functions.Tests.Infrastructure;
using static AgentCrm.Functions.Tests.Infrastructure.TenantSeeder;

namespace AgentCrm.Functions.Tests.Api;

/// <summary>
/// Walks <see cref="AccessRules.Table"/>: every row against every role, every key scope and no
/// credentials; then every route that takes an id against another workspace's id. Generated from the
/// table, so a new route is covered the moment it has a row.
/// </summary>
public sealed class AccessMatrixTests : IAsyncLifetime
{
    private static readonly WorkspaceRole[] Roles = [WorkspaceRole.Viewer, WorkspaceRole.Member, WorkspaceRole.Admin, WorkspaceRole.Owner];
    private TestDatabase _db = null!;
    private TestApp _app = null!;
    private TenantSeeder _seed = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(migrate: true);
        _app = await TestApp.StartAsync(_db, new() { ["Diagnostics:TestEndpoints"] = "false" });
        _seed = new TenantSeeder(_db, _app);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    private static string Fill(string route, Guid workspaceId, Func<string, string>? id = null) =>
        System.Text.RegularExpressions.Regex.Replace(route, "{([a-zA-Z]+)}", m =>
            m.Groups[1].Value == "workspaceId" ? workspaceId.ToString() : id?.Invoke(m.Groups[1].Value) ?? Guid.NewGuid().ToString());

    /// <summary>Bodies that would succeed in the right workspace, so a 404 cannot hide behind a 400.</summary>
    private static readonly Dictionary<string, string> ValidBodies = new()
    {
        ["POST /api/campaigns/{id}/transitions"] = """{"to":"cancelled"}""",
        ["PATCH /api/campaigns/{id}"] = """{"name":"Renamed"}""",
        ["PATCH /api/contacts/{id}"] = """{"name":"Renamed"}""",
        ["PATCH /api/workspaces/{workspaceId}/members/{userId}"] = """{"role":"viewer"}""",
        ["PATCH /api/workspaces/{workspaceId}"] = """{"name":"Renamed"}""",
        ["POST /api/workspaces/{workspaceId}/invitations"] = """{"email":"x@example.test","role":"member"}""",
        ["POST /api/workspaces/{workspaceId}/api-keys"] = """{"name":"k","scopes":["read"]}""",
    };

    private async Task<HttpResponseMessage> CallAsync(AccessRule rule, string path, string? bearer, string? apiKey, bool validBody = false)
    {
        var request = Request(new HttpMethod(rule.Method), path, bearer);
        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        if (rule.Method is "POST" or "PATCH" or "PUT")
        {
            var body = validBody && ValidBodies.TryGetValue($"{rule.Method} {rule.Route}", out var valid) ? valid : "{}";
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return await _app.Client.SendAsync(request);
    }

    [Fact]
    public async Task Every_rule_admits_exactly_the_roles_and_key_scopes_it_names()
    {
        var failures = new List<string>();
        foreach (var rule in AccessRules.Table.Where(r => r.Audience != Audience.Anonymous))
        {
            // A fresh workspace per row: a row's side effects (a switch, a rename) never leak into the next.
            var workspace = await _seed.WorkspaceAsync();
            var path = Fill(rule.Route, workspace);
            var anonymous = await CallAsync(rule, path, null, null);
            if (anonymous.StatusCode != HttpStatusCode.Unauthorized)
            {
                failures.Add($"{rule.Method} {rule.Route} without credentials: {(int)anonymous.StatusCode}");
            }

            foreach (var role in Roles)
            {
                var user = await _seed.MemberAsync(workspace, role);
                var allowed = rule.Audience == Audience.User || role >= rule.MinRole;
                Check(failures, rule, $"{role} user", allowed, await CallAsync(rule, path, user.Token, null));
            }

            foreach (var scope in ApiKeyScopes.All)
            {
                var key = await _seed.ApiKeyAsync(workspace, scope);
                var allowed = rule.Audience == Audience.Workspace && rule.ApiKeys && ApiKeyScopes.RoleFor([scope]) >= rule.MinRole;
                Check(failures, rule, $"{scope} key", allowed, await CallAsync(rule, path, null, key));
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    private static void Check(List<string> failures, AccessRule rule, string who, bool allowed, HttpResponseMessage response)
    {
        var status = response.StatusCode;
        var refused = status is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized;
        if (allowed == refused || status >= HttpStatusCode.InternalServerError)
        {
            failures.Add($"{rule.Method} {rule.Route} as {who}: expected {(allowed ? "admitted" : "403")}, got {(int)status}");
        }
    }

    [Fact]
    public async Task Every_route_with_an_id_answers_404_for_an_id_from_another_workspace()
    {
        var (home, homeOwner) = await _seed.WorkspaceWithOwnerAsync("PRO");
        var (_, stranger) = await _seed.WorkspaceWithOwnerAsync("PRO");
        var ids = await ResourcesAsync(home, homeOwner);
        var failures = new List<string>();
        foreach (var rule in AccessRules.Table.Where(r => r.Route.Contains('{', StringComparison.Ordinal) && r.Route != "/api/openapi/{documentName}.json"))
        {
            var path = Fill(rule.Route, home, name => ids.TryGetValue(name + ":" + rule.Route.Split('/')[2], out var id) || ids.TryGetValue(name, out id)
                ? id
                : throw new InvalidOperationException($"No resource to aim {rule.Route} at: add one for {{{name}}} here."));
            var response = await CallAsync(rule, path, stranger.Token, null, validBody: true);
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                failures.Add($"{rule.Method} {path}: {(int)response.StatusCode}");
            }
        }

        Assert.True(failures.Count == 0, "Another workspace's ids must be 404:\n" + string.Join('\n', failures));
    }

    /// <summary>One real resource of each kind in the home workspace, by route placeholder (and area when ambiguous).</summary>
    private async Task<Dictionary<string, string>> ResourcesAsync(Guid workspace, SeededUser owner)
    {
        async Task<string> CreateAsync(string path, object body)
        {
            var created = await HttpAssert.JsonAsync(await _app.Client.SendAsync(Request(HttpMethod.Post, path, owner.Token, body)), HttpStatusCode.Created);
            return created.GetProperty("id").GetString()!;
        }

        var member = await _seed.MemberAsync(workspace, WorkspaceRole.Member);
        return new Dictionary<string, string>
        {
            ["userId"] = member.Id.ToString(),
            ["invitationId"] = await CreateAsync($"/api/workspaces/{workspace}/invitations", new { email = "invited@example.test", role = "member" }),
            ["keyId"] = await CreateAsync($"/api/workspaces/{workspace}/api-keys", new { name = "k", scopes = new[] { "read" } }),
            ["id:contacts"] = await CreateAsync("/api/contacts", new { email = "c@example.test", name = "Contact" }),
            ["id:campaigns"] = await CreateAsync("/api/campaigns", new { name = "Campaign", subject = "Hello", body = "Hi there" }),
            ["instanceId"] = await InstanceAsync(workspace),
            ["eventName"] = "approve",
            ["id:dead-letters"] = await DeadLetterAsync(workspace),
        };
    }

    private async Task<string> DeadLetterAsync(Guid workspace) =>
        (await _db.ScalarAsync<long>($"INSERT INTO dt.dead_letters (source, name, queue, payload, detail, scope) VALUES ('queue', 'q', 'q', '1', '{{}}', '{workspace}') RETURNING id"))
        .ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A running orchestration instance of the workspace (this app registers no orchestrators, so it is written directly).</summary>
    private async Task<string> InstanceAsync(Guid workspace)
    {
        var id = $"matrix-{Guid.NewGuid():N}";
        await _db.ScalarAsync<int>($"INSERT INTO dt.instances (instance_id, execution_id, name, status, scope, history_events) VALUES ('{id}', gen_random_uuid(), 'Any', 1, '{workspace}', 1) RETURNING 1");
        return id;
    }

    [Fact]
    public async Task Every_read_refuses_a_non_member_and_shows_nothing()
    {
        var (home, owner) = await _seed.WorkspaceWithOwnerAsync();
        var (_, stranger) = await _seed.WorkspaceWithOwnerAsync();
        var contact = (await HttpAssert.JsonAsync(await _app.Client.SendAsync(Request(HttpMethod.Post, "/api/contacts", owner.Token, new { email = "x@example.test" })), HttpStatusCode.Created))
            .GetProperty("id").GetString()!;
        // The owner reads first, so whatever a read caches is warm when the stranger asks.
        var failures = new List<string>();
        foreach (var rule in AccessRules.Table.Where(r => r.Audience == Audience.Workspace && r.Method == "GET"))
        {
            var path = Fill(rule.Route, home, _ => contact);
            var warm = Request(HttpMethod.Get, path, owner.Token);
            warm.Headers.Add("X-Workspace-Id", home.ToString());
            await _app.Client.SendAsync(warm);

            var request = Request(HttpMethod.Get, path, stranger.Token);
            request.Headers.Add("X-Workspace-Id", home.ToString());
            var response = await _app.Client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            // A workspace named in the route is hidden (404); the one named by header is refused (403).
            var expected = rule.WorkspaceRouteValue is null ? HttpStatusCode.Forbidden : HttpStatusCode.NotFound;
            if (response.StatusCode != expected || body.Contains("x@example.test", StringComparison.Ordinal))
            {
                failures.Add($"{path}: {(int)response.StatusCode} {body}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.True(await _db.ScalarAsync<long>($"SELECT count(*) FROM audit_log WHERE event = 'access.denied' AND actor_user_id = '{stranger.Id}'") > 0);
    }

    [Fact]
    public async Task A_key_cannot_reach_another_workspace_by_naming_it()
    {
        var (home, _) = await _seed.WorkspaceWithOwnerAsync();
        var other = await _seed.WorkspaceAsync();
        var key = await _seed.ApiKeyAsync(home, ApiKeyScopes.Admin);

        var response = await _app.Client.SendAsync(Request(HttpMethod.Get, $"/api/workspaces/{other}/members", key));

        await HttpAssert.ProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        Assert.Equal(JsonValueKind.Object, (await HttpAssert.JsonAsync(await _app.Client.SendAsync(Request(HttpMethod.Get, $"/api/workspaces/{home}", key)), HttpStatusCode.OK)).ValueKind);
    }
}
