using System.Net;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Functions.Tests.Infrastructure;
using Npgsql;

namespace AgentCrm.Functions.Tests.Contacts;

/// <summary>Other workspaces' ids, malformed ids, roles and key scopes, and row-level security underneath.</summary>
public class CrmIsolationTests(CrmFixture crm) : IClassFixture<CrmFixture>
{
    private static readonly (string Method, string Path)[] IdRoutes =
    [
        ("GET", "/api/contacts/{contact}"),
        ("PATCH", "/api/contacts/{contact}"),
        ("DELETE", "/api/contacts/{contact}"),
        ("GET", "/api/campaigns/{campaign}"),
        ("PATCH", "/api/campaigns/{campaign}"),
        ("DELETE", "/api/campaigns/{campaign}"),
        ("POST", "/api/campaigns/{campaign}/transitions"),
        ("GET", "/api/campaigns/{campaign}/audience"),
    ];

    private static object? BodyFor(string method, string path) =>
        path.EndsWith("/transitions", StringComparison.Ordinal) ? new { to = "cancelled" }
        : method == "PATCH" ? new { name = "hijacked" }
        : null;

    [Fact]
    public async Task Every_id_route_answers_404_for_another_workspaces_id_and_for_a_malformed_id()
    {
        var (_, victim) = await crm.Seed.WorkspaceWithOwnerAsync();
        var (_, intruder) = await crm.Seed.WorkspaceWithOwnerAsync();
        var contact = (await crm.CreateContactAsync(victim.Token, new { email = "victim@example.com" })).GetProperty("id").GetString()!;
        var campaign = (await crm.CreateCampaignAsync(victim.Token)).GetProperty("id").GetString()!;

        foreach (var (method, template) in IdRoutes)
        {
            foreach (var (contactId, campaignId) in new[] { (contact, campaign), ("not-a-uuid", "12345"), (Guid.NewGuid().ToString(), Guid.NewGuid().ToString()) })
            {
                var path = template.Replace("{contact}", contactId, StringComparison.Ordinal).Replace("{campaign}", campaignId, StringComparison.Ordinal);
                var response = await crm.SendAsync(new HttpMethod(method), path, intruder.Token, BodyFor(method, template));
                await HttpAssert.ProblemAsync(response, HttpStatusCode.NotFound, "not-found");
            }
        }

        // Nothing changed for the owner.
        var stillThere = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, $"/api/contacts/{contact}", victim.Token), HttpStatusCode.OK);
        Assert.Equal(1, stillThere.GetProperty("version").GetInt32());
        var campaignBody = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, $"/api/campaigns/{campaign}", victim.Token), HttpStatusCode.OK);
        Assert.Equal("draft", campaignBody.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Lists_and_counts_never_show_another_workspaces_contacts()
    {
        var (_, first) = await crm.Seed.WorkspaceWithOwnerAsync();
        var (_, second) = await crm.Seed.WorkspaceWithOwnerAsync();
        await crm.CreateContactAsync(first.Token, new { email = "mine@example.com" });

        var list = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, "/api/contacts", second.Token), HttpStatusCode.OK);
        var preview = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Post, "/api/campaigns/audience-preview", second.Token, new { }), HttpStatusCode.OK);

        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
        Assert.Equal(0, preview.GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task A_viewer_can_read_but_not_write()
    {
        var (ws, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var viewer = await crm.Seed.MemberAsync(ws, WorkspaceRole.Viewer);
        var contact = (await crm.CreateContactAsync(owner.Token, new { email = "seen@example.com" })).GetProperty("id").GetString();

        await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, $"/api/contacts/{contact}", viewer.Token), HttpStatusCode.OK);
        await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, "/api/dashboard", viewer.Token), HttpStatusCode.OK);
        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Post, "/api/contacts", viewer.Token, new { email = "new@example.com" }), HttpStatusCode.Forbidden, "forbidden");
        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Patch, $"/api/contacts/{contact}", viewer.Token, new { name = "x" }), HttpStatusCode.Forbidden, "forbidden");
        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Post, "/api/campaigns", viewer.Token, new { name = "n", subject = "s", body = "b" }), HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task A_read_scoped_api_key_can_read_but_not_write()
    {
        var (ws, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var key = await crm.Seed.ApiKeyAsync(ws, "read");
        await crm.CreateContactAsync(owner.Token, new { email = "keyed@example.com" });

        using var list = new HttpRequestMessage(HttpMethod.Get, "/api/contacts");
        list.Headers.Add("X-Api-Key", key);
        var page = await HttpAssert.JsonAsync(await crm.App.Client.SendAsync(list), HttpStatusCode.OK);
        Assert.Equal(1, page.GetProperty("items").GetArrayLength());
        await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, "/api/dashboard", key), HttpStatusCode.OK);

        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Post, "/api/contacts", key, new { email = "nope@example.com" }), HttpStatusCode.Forbidden, "forbidden");
        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Post, "/api/campaigns", key, new { name = "n", subject = "s", body = "b" }), HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task The_app_login_sees_no_contacts_without_a_workspace_set_although_rows_exist()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        await crm.CreateContactAsync(owner.Token, new { email = "rls@example.com" });
        await crm.CreateCampaignAsync(owner.Token);

        Assert.True(await crm.Db.ScalarAsync<long>("SELECT count(*) FROM contacts") > 0);
        // Unpooled: an idle pooled connection of the app login would keep the database from being dropped.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(crm.Db.AppConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        foreach (var table in new[] { "contacts", "campaigns" })
        {
            await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
            Assert.Equal(0L, await command.ExecuteScalarAsync());
        }
    }
}
