using System.Net;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Dashboard;

public class DashboardTests(CrmFixture crm) : IClassFixture<CrmFixture>
{
    [Fact]
    public async Task The_dashboard_counts_live_contacts_and_campaigns_by_status_in_this_workspace_only()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var (_, other) = await crm.Seed.WorkspaceWithOwnerAsync();
        await crm.CreateContactAsync(other.Token, new { email = "elsewhere@example.com" });
        foreach (var (email, status) in new[] { ("a@x.io", "active"), ("b@x.io", "active"), ("c@x.io", "bounced"), ("d@x.io", "archived") })
        {
            await crm.CreateContactAsync(owner.Token, new { email, status });
        }

        var gone = (await crm.CreateContactAsync(owner.Token, new { email = "gone@x.io" })).GetProperty("id").GetString();
        await crm.SendAsync(HttpMethod.Delete, $"/api/contacts/{gone}", owner.Token);
        await crm.CreateCampaignAsync(owner.Token);
        var cancelled = (await crm.CreateCampaignAsync(owner.Token)).GetProperty("id").GetString();
        await crm.SendAsync(HttpMethod.Post, $"/api/campaigns/{cancelled}/transitions", owner.Token, new { to = "cancelled" });

        var dashboard = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, "/api/dashboard", owner.Token), HttpStatusCode.OK);

        var contacts = dashboard.GetProperty("contacts");
        Assert.Equal(4, contacts.GetProperty("total").GetInt64());
        Assert.Equal(
            [("active", 2L), ("unsubscribed", 0L), ("bounced", 1L), ("archived", 1L)],
            contacts.GetProperty("byStatus").EnumerateObject().Select(p => (p.Name, p.Value.GetInt64())));
        var campaigns = dashboard.GetProperty("campaigns");
        Assert.Equal(2, campaigns.GetProperty("total").GetInt64());
        Assert.Equal(
            [("draft", 1L), ("scheduled", 0L), ("sending", 0L), ("completed", 0L), ("cancelled", 1L)],
            campaigns.GetProperty("byStatus").EnumerateObject().Select(p => (p.Name, p.Value.GetInt64())));
    }

    [Fact]
    public async Task A_new_workspace_has_an_all_zero_dashboard()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();

        var dashboard = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, "/api/dashboard", owner.Token), HttpStatusCode.OK);

        Assert.Equal(0, dashboard.GetProperty("contacts").GetProperty("total").GetInt64());
        Assert.Equal(0, dashboard.GetProperty("campaigns").GetProperty("total").GetInt64());
    }
}
