using System.Net;
using System.Text.Json;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Campaigns;

public class CampaignTests(CrmFixture crm) : IClassFixture<CrmFixture>
{
    [Fact]
    public async Task A_created_campaign_is_a_draft_that_can_be_read_edited_and_deleted()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var created = await crm.CreateCampaignAsync(owner.Token, new { tag = "VIP" });
        var id = created.GetProperty("id").GetString();
        Assert.Equal("draft", created.GetProperty("status").GetString());
        Assert.Equal("vip", created.GetProperty("audience").GetProperty("tag").GetString());

        var patched = await crm.SendAsync(HttpMethod.Patch, $"/api/campaigns/{id}", owner.Token, new { subject = "New subject", audience = new { status = "active" } }, ifMatch: "\"1\"");
        var body = await HttpAssert.JsonAsync(patched, HttpStatusCode.OK);
        Assert.Equal("\"2\"", patched.Headers.ETag?.ToString());
        Assert.Equal("New subject", body.GetProperty("subject").GetString());
        Assert.Equal("Spring launch", body.GetProperty("name").GetString());
        Assert.Equal("active", body.GetProperty("audience").GetProperty("status").GetString());

        var read = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, $"/api/campaigns/{id}", owner.Token), HttpStatusCode.OK);
        Assert.Equal("<p>Hi there</p>", read.GetProperty("body").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await crm.SendAsync(HttpMethod.Delete, $"/api/campaigns/{id}", owner.Token)).StatusCode);
        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Get, $"/api/campaigns/{id}", owner.Token), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task A_stale_if_match_on_edit_or_transition_is_a_412()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var id = (await crm.CreateCampaignAsync(owner.Token)).GetProperty("id").GetString();
        await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Patch, $"/api/campaigns/{id}", owner.Token, new { name = "v2" }), HttpStatusCode.OK);

        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Patch, $"/api/campaigns/{id}", owner.Token, new { name = "v3" }, ifMatch: "\"1\""),
            HttpStatusCode.PreconditionFailed, "precondition-failed");
        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Post, $"/api/campaigns/{id}/transitions", owner.Token, new { to = "cancelled" }, ifMatch: "\"1\""),
            HttpStatusCode.PreconditionFailed, "precondition-failed");
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """{"subject":"s","body":"b"}""", "name" },
        { """{"name":"","subject":"s","body":"b"}""", "name" },
        { $$"""{"name":"{{new string('n', 201)}}","subject":"s","body":"b"}""", "name" },
        { $$"""{"name":"n","subject":"{{new string('s', 301)}}","body":"b"}""", "subject" },
        { $$"""{"name":"n","subject":"s","body":"{{new string('b', 100_001)}}"}""", "body" },
        { """{"name":"n","subject":"s"}""", "body" },
        { """{"name":"n","subject":"s","body":"b","audience":{"status":"gone"}}""", "audience.status" },
        { """{"name":"n","subject":"s","body":"b","audience":{"tag":""}}""", "audience.tag" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task An_invalid_campaign_is_a_400_naming_the_field(string json, string field)
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();

        await CrmFixture.AssertInvalidAsync(await crm.SendJsonAsync(HttpMethod.Post, "/api/campaigns", owner.Token, json), field);
    }

    [Theory]
    [InlineData("""{"name":null}""", "name")]
    [InlineData("""{"subject":""}""", "subject")]
    [InlineData("""{"audience":null}""", "audience")]
    public async Task An_invalid_patch_is_a_400_naming_the_field(string json, string field)
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var id = (await crm.CreateCampaignAsync(owner.Token)).GetProperty("id").GetString();

        await CrmFixture.AssertInvalidAsync(await crm.SendJsonAsync(HttpMethod.Patch, $"/api/campaigns/{id}", owner.Token, json), field);
    }

    [Fact]
    public async Task Campaigns_page_newest_first_and_filter_by_status()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await crm.CreateCampaignAsync(owner.Token, name: $"c{i}")).GetProperty("id").GetString()!);
        }

        ids.Sort((a, b) => string.CompareOrdinal(b, a)); // id descending: UUIDv7s of one millisecond are not in creation order

        await crm.SendAsync(HttpMethod.Post, $"/api/campaigns/{ids[1]}/transitions", owner.Token, new { to = "cancelled" });

        var first = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, "/api/campaigns?limit=3", owner.Token), HttpStatusCode.OK);
        var cursor = first.GetProperty("nextCursor").GetString();
        var second = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, $"/api/campaigns?limit=3&cursor={cursor}", owner.Token), HttpStatusCode.OK);
        Assert.Equal(ids, first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray()).Select(c => c.GetProperty("id").GetString()));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);

        var cancelled = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, "/api/campaigns?status=cancelled", owner.Token), HttpStatusCode.OK);
        Assert.Equal([ids[1]], cancelled.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
        await CrmFixture.AssertInvalidAsync(await crm.SendAsync(HttpMethod.Get, "/api/campaigns?status=paused", owner.Token), "status");
    }

    [Fact]
    public async Task Audience_preview_and_a_campaigns_audience_count_matching_live_contacts()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        for (var i = 0; i < 8; i++)
        {
            var created = await crm.CreateContactAsync(owner.Token, new
            {
                email = $"a{i}@example.com",
                name = i < 6 ? $"Lee {i}" : $"Kim {i}",
                status = i % 2 == 0 ? "active" : "unsubscribed",
                tags = i < 4 ? new List<string> { "spring" } : [],
            });
            if (i == 0)
            {
                await crm.SendAsync(HttpMethod.Delete, $"/api/contacts/{created.GetProperty("id").GetString()}", owner.Token);
            }
        }

        async Task<long> PreviewAsync(object filter) =>
            (await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Post, "/api/campaigns/audience-preview", owner.Token, filter), HttpStatusCode.OK))
                .GetProperty("count").GetInt64();

        Assert.Equal(7, await PreviewAsync(new { }));
        Assert.Equal(3, await PreviewAsync(new { tag = "Spring" }));
        Assert.Equal(3, await PreviewAsync(new { status = "active" }));
        Assert.Equal(2, await PreviewAsync(new { q = "lee", status = "active" }));
        Assert.Equal(1, await PreviewAsync(new { q = "lee", status = "active", tag = "spring" }));
        await CrmFixture.AssertInvalidAsync(await crm.SendAsync(HttpMethod.Post, "/api/campaigns/audience-preview", owner.Token, new { status = "x" }), "status");

        var id = (await crm.CreateCampaignAsync(owner.Token, new { q = "lee", status = "active" })).GetProperty("id").GetString();
        var audience = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, $"/api/campaigns/{id}/audience", owner.Token), HttpStatusCode.OK);
        Assert.Equal(2, audience.GetProperty("count").GetInt64());
        Assert.Equal(["a4@example.com", "a2@example.com"], audience.GetProperty("sample").EnumerateArray().Select(c => c.GetProperty("email").GetString()));

        var everyone = (await crm.CreateCampaignAsync(owner.Token)).GetProperty("id").GetString();
        var all = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, $"/api/campaigns/{everyone}/audience", owner.Token), HttpStatusCode.OK);
        Assert.Equal(7, all.GetProperty("count").GetInt64());
        Assert.Equal(5, all.GetProperty("sample").GetArrayLength());
    }
}
