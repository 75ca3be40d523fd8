using System.Net;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Campaigns;

public class CampaignStatusMachineTests(CrmFixture crm) : IClassFixture<CrmFixture>
{
    private static readonly string[] Statuses = ["draft", "scheduled", "sending", "completed", "cancelled"];

    private static readonly HashSet<(string, string)> Legal =
    [
        ("draft", "scheduled"), ("draft", "cancelled"),
        ("scheduled", "draft"), ("scheduled", "sending"), ("scheduled", "cancelled"),
        ("sending", "completed"), ("sending", "cancelled"),
    ];

    // The legal path from draft to each status.
    private static readonly Dictionary<string, string[]> PathTo = new()
    {
        ["draft"] = [],
        ["scheduled"] = ["scheduled"],
        ["sending"] = ["scheduled", "sending"],
        ["completed"] = ["scheduled", "sending", "completed"],
        ["cancelled"] = ["cancelled"],
    };

    public static TheoryData<string, string> EveryPair()
    {
        var data = new TheoryData<string, string>();
        foreach (var from in Statuses)
        {
            foreach (var to in Statuses)
            {
                data.Add(from, to);
            }
        }

        return data;
    }

    private static object Move(string to) => to == "scheduled" ? new { to, scheduledAt = DateTimeOffset.UtcNow.AddDays(1) } : new { to };

    private async Task<(string Token, string Id)> CampaignInAsync(string status)
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var id = (await crm.CreateCampaignAsync(owner.Token)).GetProperty("id").GetString()!;
        foreach (var step in PathTo[status])
        {
            await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Post, $"/api/campaigns/{id}/transitions", owner.Token, Move(step)), HttpStatusCode.OK);
        }

        return (owner.Token, id);
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public async Task Each_transition_is_allowed_exactly_when_the_machine_has_it(string from, string to)
    {
        var (token, id) = await CampaignInAsync(from);

        var response = await crm.SendAsync(HttpMethod.Post, $"/api/campaigns/{id}/transitions", token, Move(to));

        if (Legal.Contains((from, to)))
        {
            var campaign = await HttpAssert.JsonAsync(response, HttpStatusCode.OK);
            Assert.Equal(to, campaign.GetProperty("status").GetString());
            // Scheduling sets the time, unscheduling clears it, later steps keep it as history.
            var scheduled = campaign.GetProperty("scheduledAt").ValueKind != System.Text.Json.JsonValueKind.Null;
            Assert.Equal(to == "scheduled" || (from != "draft" && to != "draft"), scheduled);
        }
        else
        {
            var problem = await HttpAssert.ProblemAsync(response, HttpStatusCode.Conflict, "conflict");
            Assert.Contains($"from {from} to {to}", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("sending")]
    [InlineData("completed")]
    [InlineData("cancelled")]
    public async Task A_campaign_past_scheduling_cannot_be_edited(string status)
    {
        var (token, id) = await CampaignInAsync(status);

        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Patch, $"/api/campaigns/{id}", token, new { name = "late" }), HttpStatusCode.Conflict, "conflict");
    }

    [Fact]
    public async Task A_sending_campaign_cannot_be_deleted()
    {
        var (token, id) = await CampaignInAsync("sending");

        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Delete, $"/api/campaigns/{id}", token), HttpStatusCode.Conflict, "conflict");
    }

    [Theory]
    [InlineData("""{"to":"paused"}""", "to")]
    [InlineData("""{"to":"scheduled"}""", "scheduledAt")]
    [InlineData("""{"to":"scheduled","scheduledAt":"2001-01-01T00:00:00Z"}""", "scheduledAt")]
    [InlineData("""{"to":"cancelled","scheduledAt":"2999-01-01T00:00:00Z"}""", "scheduledAt")]
    public async Task A_bad_transition_request_is_a_400(string json, string field)
    {
        var (token, id) = await CampaignInAsync("draft");

        await CrmFixture.AssertInvalidAsync(await crm.SendJsonAsync(HttpMethod.Post, $"/api/campaigns/{id}/transitions", token, json), field);
    }

    [Fact]
    public async Task Of_two_concurrent_identical_transitions_one_wins_and_the_other_is_a_409()
    {
        var (token, id) = await CampaignInAsync("scheduled");

        var responses = await Task.WhenAll(
            crm.SendAsync(HttpMethod.Post, $"/api/campaigns/{id}/transitions", token, Move("sending")),
            crm.SendAsync(HttpMethod.Post, $"/api/campaigns/{id}/transitions", token, Move("sending")));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], responses.Select(r => r.StatusCode).Order());
    }
}
