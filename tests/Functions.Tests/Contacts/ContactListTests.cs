using System.Net;
using System.Text.Json;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Contacts;

public class ContactListTests(CrmFixture crm) : IClassFixture<CrmFixture>
{
    private sealed record Seeded(string Id, string Email, string Name, string Status, string[] Tags);

    /// <summary>Eleven contacts with varied names, statuses and tags, including LIKE wildcards in names.</summary>
    private async Task<(string Token, List<Seeded> Contacts)> SeedAsync()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var contacts = new List<Seeded>();
        for (var i = 0; i < 11; i++)
        {
            var name = i switch { 0 => "50%_off Ltd", 1 => "50 Percent", 2 => "Back\\slash", _ => (i % 2 == 0 ? "Alice " : "Bob ") + i };
            var status = i % 3 == 0 ? "bounced" : "active";
            string[] tags = i % 4 == 0 ? ["vip", "newsletter"] : ["newsletter"];
            var created = await crm.CreateContactAsync(owner.Token, new { email = $"person{i}@example{i % 2}.com", name, status, tags });
            contacts.Add(new Seeded(created.GetProperty("id").GetString()!, $"person{i}@example{i % 2}.com", name, status, tags));
        }

        // The list's order: id descending. UUIDv7 ids made in the same millisecond differ in their random
        // bits, so that is not exactly creation order.
        contacts.Sort((a, b) => string.CompareOrdinal(b.Id, a.Id));
        return (owner.Token, contacts);
    }

    private async Task<List<string>> WalkAsync(string token, string query, int limit)
    {
        var ids = new List<string>();
        string? cursor = null;
        for (var pages = 0; pages < 50; pages++)
        {
            var url = $"/api/contacts?limit={limit}{query}" + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, url, token), HttpStatusCode.OK);
            var items = page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetString()!).ToList();
            Assert.True(items.Count <= limit);
            ids.AddRange(items);
            if (page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null)
            {
                return ids;
            }

            cursor = page.GetProperty("nextCursor").GetString();
        }

        throw new InvalidOperationException("Pagination did not end.");
    }

    [Fact]
    public async Task Paging_walks_every_contact_once_newest_first_under_each_filter()
    {
        var (token, contacts) = await SeedAsync();
        var cases = new (string Query, Func<Seeded, bool> Matches)[]
        {
            ("", _ => true),
            ("&q=ALI", c => c.Name.StartsWith("Alice", StringComparison.Ordinal)),
            ("&q=person1", c => c.Email.StartsWith("person1", StringComparison.Ordinal)),
            ("&q=" + Uri.EscapeDataString("50%_"), c => c.Name == "50%_off Ltd"),
            ("&q=" + Uri.EscapeDataString("Back\\"), c => c.Name == "Back\\slash"),
            ("&tag=VIP", c => c.Tags.Contains("vip")),
            ("&status=bounced", c => c.Status == "bounced"),
            ("&status=active&tag=vip&q=alice", c => c.Status == "active" && c.Tags.Contains("vip") && c.Name.StartsWith("Alice", StringComparison.Ordinal)),
        };

        foreach (var (query, matches) in cases)
        {
            var expected = contacts.Where(matches).Select(c => c.Id).ToList();
            foreach (var limit in new[] { 1, 3, 100 })
            {
                var walked = await WalkAsync(token, query, limit);
                Assert.True(expected.SequenceEqual(walked), $"{query} limit {limit}: expected {expected.Count}, walked {walked.Count}");
            }
        }
    }

    [Fact]
    public async Task Deleted_contacts_are_not_listed()
    {
        var (token, contacts) = await SeedAsync();
        await crm.SendAsync(HttpMethod.Delete, $"/api/contacts/{contacts[0].Id}", token);

        var walked = await WalkAsync(token, "", 100);

        Assert.Equal(contacts.Skip(1).Select(c => c.Id), walked);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("limit=-1", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=AAAAAAAAAAAAAAAAAAAAAA%3D%3D", "cursor")]
    [InlineData("status=gone", "status")]
    [InlineData("tag=", "tag")]
    public async Task A_bad_query_value_is_a_400_naming_it(string query, string field)
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();

        await CrmFixture.AssertInvalidAsync(await crm.SendAsync(HttpMethod.Get, "/api/contacts?" + query, owner.Token), field);
    }
}
