using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Functions.Tests.Infrastructure;
using Npgsql;
using static AgentCrm.Functions.Tests.Infrastructure.TenantSeeder;

namespace AgentCrm.Functions.Tests.Identity;

public sealed class WorkspaceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private TestApp _app = null!;
    private TenantSeeder _seed = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(migrate: true);
        _app = await TestApp.StartAsync(_db);
        _seed = new TenantSeeder(_db, _app);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, string? token, object? body, HttpStatusCode expected) =>
        await HttpAssert.JsonAsync(await _app.Client.SendAsync(Request(method, path, token, body)), expected);

    private async Task<(string Access, string Email)> RegisterAsync()
    {
        var email = $"u{Guid.NewGuid():N}@example.test";
        var tokens = await SendAsync(HttpMethod.Post, "/api/auth/register", null, new { email, password = "correct horse 42", displayName = "U" }, HttpStatusCode.Created);
        return (tokens.GetProperty("accessToken").GetString()!, email);
    }

    [Fact]
    public async Task A_new_user_creates_a_workspace_owns_it_and_after_login_it_is_active()
    {
        var (token, email) = await RegisterAsync();

        var created = await SendAsync(HttpMethod.Post, "/api/workspaces", token, new { name = "Acme" }, HttpStatusCode.Created);
        var id = created.GetProperty("id").GetGuid();
        Assert.Equal("owner", created.GetProperty("role").GetString());
        Assert.Equal("FREE", created.GetProperty("tier").GetString());

        var login = await SendAsync(HttpMethod.Post, "/api/auth/login", null, new { email, password = "correct horse 42" }, HttpStatusCode.OK);
        Assert.Equal(id, login.GetProperty("workspaceId").GetGuid());
        var mine = await SendAsync(HttpMethod.Get, "/api/workspaces", login.GetProperty("accessToken").GetString(), null, HttpStatusCode.OK);
        Assert.Equal(id, Assert.Single(mine.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task Rename_validates_the_name_and_an_admin_may_rename()
    {
        var (ws, owner) = await _seed.WorkspaceWithOwnerAsync();
        var admin = await _seed.MemberAsync(ws, WorkspaceRole.Admin);

        await HttpAssert.ProblemAsync(await _app.Client.SendAsync(Request(HttpMethod.Patch, $"/api/workspaces/{ws}", admin.Token, new { name = new string('x', 101) })), HttpStatusCode.BadRequest, "validation");
        var renamed = await SendAsync(HttpMethod.Patch, $"/api/workspaces/{ws}", admin.Token, new { name = "Renamed" }, HttpStatusCode.OK);

        Assert.Equal("Renamed", renamed.GetProperty("name").GetString());
        Assert.Equal("Renamed", (await SendAsync(HttpMethod.Get, $"/api/workspaces/{ws}", owner.Token, null, HttpStatusCode.OK)).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Switching_answers_a_token_for_the_new_workspace_and_remembers_it()
    {
        var (first, owner) = await _seed.WorkspaceWithOwnerAsync();
        var second = await _seed.WorkspaceAsync();
        await _db.ScalarAsync<int>($"INSERT INTO workspace_members VALUES ('{second}', '{owner.Id}', 'viewer', now())");

        var switched = await SendAsync(HttpMethod.Post, $"/api/workspaces/{second}/switch", owner.Token, null, HttpStatusCode.OK);

        Assert.Equal(second, switched.GetProperty("workspaceId").GetGuid());
        var me = await SendAsync(HttpMethod.Get, "/api/me", switched.GetProperty("accessToken").GetString(), null, HttpStatusCode.OK);
        Assert.Equal(second, me.GetProperty("activeWorkspaceId").GetGuid());
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task A_switch_cannot_renew_the_token_of_an_ended_session()
    {
        var (token, _) = await RegisterAsync();
        var ws = (await SendAsync(HttpMethod.Post, "/api/workspaces", token, new { name = "Mine" }, HttpStatusCode.Created)).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await _app.Client.SendAsync(Request(HttpMethod.Post, "/api/auth/logout", token))).StatusCode);

        var refused = await _app.Client.SendAsync(Request(HttpMethod.Post, $"/api/workspaces/{ws}/switch", token));

        await HttpAssert.ProblemAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task A_transaction_scoped_to_one_workspace_cannot_write_the_rows_of_another_the_user_belongs_to()
    {
        var (home, user) = await _seed.WorkspaceWithOwnerAsync();
        var other = await _seed.WorkspaceAsync();
        await _db.ScalarAsync<int>($"INSERT INTO workspace_members VALUES ('{other}', '{user.Id}', 'viewer', now())");

        await using var connection = new NpgsqlConnection(_db.AppConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var scope = new NpgsqlCommand($"SELECT set_config('app.workspace_id', '{home}', true), set_config('app.user_id', '{user.Id}', true)", connection, transaction);
        await scope.ExecuteNonQueryAsync();
        await using var visible = new NpgsqlCommand("SELECT count(*) FROM workspace_members WHERE user_id = @u", connection, transaction);
        visible.Parameters.AddWithValue("u", user.Id);
        Assert.Equal(2L, (long)(await visible.ExecuteScalarAsync())!); // the user may see both memberships

        await using var delete = new NpgsqlCommand($"DELETE FROM workspace_members WHERE workspace_id = '{other}'", connection, transaction);
        await using var rename = new NpgsqlCommand($"UPDATE workspaces SET name = 'hijacked' WHERE id = '{other}'", connection, transaction);

        Assert.Equal(0, await delete.ExecuteNonQueryAsync());
        Assert.Equal(0, await rename.ExecuteNonQueryAsync());
    }

    [Fact]
    public async Task Roles_change_but_the_last_owner_cannot_be_demoted_or_removed_and_only_owners_touch_owners()
    {
        var (ws, owner) = await _seed.WorkspaceWithOwnerAsync();
        var admin = await _seed.MemberAsync(ws, WorkspaceRole.Admin);
        var member = await _seed.MemberAsync(ws, WorkspaceRole.Member);
        // The seeder's workspace has a creating owner too; remove it so "owner" is the only one.
        await _db.ScalarAsync<int>($"DELETE FROM workspace_members WHERE workspace_id = '{ws}' AND role = 'owner' AND user_id <> '{owner.Id}'");

        var promoted = await SendAsync(HttpMethod.Patch, $"/api/workspaces/{ws}/members/{member.Id}", admin.Token, new { role = "viewer" }, HttpStatusCode.OK);
        Assert.Equal("viewer", promoted.GetProperty("role").GetString());
        await HttpAssert.ProblemAsync(await _app.Client.SendAsync(Request(HttpMethod.Patch, $"/api/workspaces/{ws}/members/{member.Id}", admin.Token, new { role = "owner" })), HttpStatusCode.Forbidden, "forbidden");
        await HttpAssert.ProblemAsync(await _app.Client.SendAsync(Request(HttpMethod.Patch, $"/api/workspaces/{ws}/members/{owner.Id}", owner.Token, new { role = "admin" })), HttpStatusCode.Conflict, "conflict");
        await HttpAssert.ProblemAsync(await _app.Client.SendAsync(Request(HttpMethod.Delete, $"/api/workspaces/{ws}/members/{owner.Id}", owner.Token)), HttpStatusCode.Conflict, "conflict");
        await HttpAssert.ProblemAsync(await _app.Client.SendAsync(Request(HttpMethod.Patch, $"/api/workspaces/{ws}/members/{member.Id}", admin.Token, new { role = "emperor" })), HttpStatusCode.BadRequest, "validation");

        // With a second owner the first may step down; the removed member loses access at once.
        await SendAsync(HttpMethod.Patch, $"/api/workspaces/{ws}/members/{admin.Id}", owner.Token, new { role = "owner" }, HttpStatusCode.OK);
        await SendAsync(HttpMethod.Patch, $"/api/workspaces/{ws}/members/{owner.Id}", owner.Token, new { role = "member" }, HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.NoContent, (await _app.Client.SendAsync(Request(HttpMethod.Delete, $"/api/workspaces/{ws}/members/{member.Id}", admin.Token))).StatusCode);
        await HttpAssert.ProblemAsync(await _app.Client.SendAsync(Request(HttpMethod.Get, $"/api/workspaces/{ws}", member.Token)), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Concurrent_demotions_of_the_last_two_owners_leave_one_owner()
    {
        var (ws, first) = await _seed.WorkspaceWithOwnerAsync();
        var second = await _seed.MemberAsync(ws, WorkspaceRole.Owner);
        await _db.ScalarAsync<int>($"DELETE FROM workspace_members WHERE workspace_id = '{ws}' AND role = 'owner' AND user_id NOT IN ('{first.Id}', '{second.Id}')");

        var results = await Task.WhenAll(
            _app.Client.SendAsync(Request(HttpMethod.Patch, $"/api/workspaces/{ws}/members/{first.Id}", first.Token, new { role = "admin" })),
            _app.Client.SendAsync(Request(HttpMethod.Patch, $"/api/workspaces/{ws}/members/{second.Id}", second.Token, new { role = "admin" })));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], results.Select(r => r.StatusCode).Order());
        Assert.Equal(1L, await _db.ScalarAsync<long>($"SELECT count(*) FROM workspace_members WHERE workspace_id = '{ws}' AND role = 'owner'"));
    }

    [Fact]
    public async Task An_invitation_is_accepted_once_by_the_invited_email_only()
    {
        var (ws, owner) = await _seed.WorkspaceWithOwnerAsync();
        var (inviteeToken, inviteeEmail) = await RegisterAsync();
        var (strangerToken, _) = await RegisterAsync();

        var invitation = await SendAsync(HttpMethod.Post, $"/api/workspaces/{ws}/invitations", owner.Token, new { email = inviteeEmail.ToUpperInvariant(), role = "member" }, HttpStatusCode.Created);
        var token = invitation.GetProperty("token").GetString();
        Assert.Equal(1, (await SendAsync(HttpMethod.Get, $"/api/workspaces/{ws}/invitations", owner.Token, null, HttpStatusCode.OK)).GetProperty("items").GetArrayLength());

        await HttpAssert.ProblemAsync(await _app.Client.SendAsync(Request(HttpMethod.Post, "/api/invitations/accept", strangerToken, new { token })), HttpStatusCode.Forbidden, "forbidden");
        var accepted = await SendAsync(HttpMethod.Post, "/api/invitations/accept", inviteeToken, new { token }, HttpStatusCode.OK);
        Assert.Equal("member", accepted.GetProperty("role").GetString());
        await HttpAssert.ProblemAsync(await _app.Client.SendAsync(Request(HttpMethod.Post, "/api/invitations/accept", inviteeToken, new { token })), HttpStatusCode.Gone, "gone");
        await HttpAssert.ProblemAsync(await _app.Client.SendAsync(Request(HttpMethod.Post, "/api/invitations/accept", inviteeToken, new { token = "nope" })), HttpStatusCode.NotFound, "not-found");

        var members = await SendAsync(HttpMethod.Get, $"/api/workspaces/{ws}/members", owner.Token, null, HttpStatusCode.OK);
        Assert.Contains(members.GetProperty("items").EnumerateArray(), m => m.GetProperty("email").GetString() == inviteeEmail && m.GetProperty("role").GetString() == "member");
    }

    [Fact]
    public async Task An_owner_invitation_or_a_bad_email_is_a_validation_problem()
    {
        var (ws, owner) = await _seed.WorkspaceWithOwnerAsync();

        var problem = await HttpAssert.ProblemAsync(await _app.Client.SendAsync(Request(HttpMethod.Post, $"/api/workspaces/{ws}/invitations", owner.Token, new { email = "nope", role = "owner" })), HttpStatusCode.BadRequest, "validation");

        Assert.True(problem.GetProperty("errors").TryGetProperty("email", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("role", out _));
    }

    [Fact]
    public async Task An_api_key_is_shown_once_works_by_either_header_and_stops_when_revoked()
    {
        var (ws, owner) = await _seed.WorkspaceWithOwnerAsync();

        var created = await SendAsync(HttpMethod.Post, $"/api/workspaces/{ws}/api-keys", owner.Token, new { name = "CI", scopes = new[] { "read" } }, HttpStatusCode.Created);
        var key = created.GetProperty("key").GetString()!;
        Assert.StartsWith(created.GetProperty("prefix").GetString()! + "_", key, StringComparison.Ordinal);

        var listed = Assert.Single((await SendAsync(HttpMethod.Get, $"/api/workspaces/{ws}/api-keys", owner.Token, null, HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        Assert.False(listed.TryGetProperty("key", out _));
        Assert.Equal(0L, await _db.ScalarAsync<long>($"SELECT count(*) FROM api_keys WHERE secret_hash = convert_to('{key.Split('_')[2]}', 'UTF8')"));

        await SendAsync(HttpMethod.Get, $"/api/workspaces/{ws}", key, null, HttpStatusCode.OK);
        var byHeader = new HttpRequestMessage(HttpMethod.Get, $"/api/workspaces/{ws}/members");
        byHeader.Headers.Add("X-Api-Key", key);
        Assert.Equal(HttpStatusCode.OK, (await _app.Client.SendAsync(byHeader)).StatusCode);
        Assert.NotNull(await _db.ScalarAsync<DateTime?>($"SELECT last_used_at FROM api_keys WHERE workspace_id = '{ws}'"));

        Assert.Equal(HttpStatusCode.NoContent, (await _app.Client.SendAsync(Request(HttpMethod.Delete, $"/api/workspaces/{ws}/api-keys/{created.GetProperty("id").GetGuid()}", owner.Token))).StatusCode);
        var refused = await HttpAssert.ProblemAsync(await _app.Client.SendAsync(Request(HttpMethod.Get, $"/api/workspaces/{ws}", key)), HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Contains("API key", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_key_scopes_are_validated()
    {
        var (ws, owner) = await _seed.WorkspaceWithOwnerAsync();

        var response = await _app.Client.SendAsync(Request(HttpMethod.Post, $"/api/workspaces/{ws}/api-keys", owner.Token, new { name = "x", scopes = new[] { "superuser" } }));

        Assert.True((await HttpAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "validation")).GetProperty("errors").TryGetProperty("scopes", out _));
    }

    [Fact]
    public async Task Without_the_workspace_setting_the_app_login_sees_no_tenant_rows()
    {
        var (ws, _) = await _seed.WorkspaceWithOwnerAsync();
        await _seed.ApiKeyAsync(ws, "read");

        await using var connection = new NpgsqlConnection(_db.AppConnectionString);
        await connection.OpenAsync();
        foreach (var table in new[] { "workspaces", "workspace_members", "api_keys", "workspace_invitations" })
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
            Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
        }

        // The owner (migrations) sees them: the rows exist, RLS hides them from the app.
        Assert.True(await _db.ScalarAsync<long>("SELECT count(*) FROM api_keys") > 0);
        await using var write = new NpgsqlCommand($"INSERT INTO api_keys (workspace_id, id, prefix, secret_hash, name, scopes, created_at) VALUES ('{ws}', gen_random_uuid(), 'x', '\\x00', 'x', '{{read}}', now())", connection);
        Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => write.ExecuteNonQueryAsync())).SqlState);
    }
}
