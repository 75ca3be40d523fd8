using System.Net;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Contacts;

public class ContactValidationTests(CrmFixture crm) : IClassFixture<CrmFixture>
{
    private static readonly string Long201 = new('n', 201);

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """{"name":"No email"}""", "email" },
        { """{"email":"not-an-email"}""", "email" },
        { """{"email":"two@@example.com"}""", "email" },
        { """{"email":"spaces in@example.com"}""", "email" },
        { """{"email":"nodot@localhost"}""", "email" },
        { $$"""{"email":"{{new string('a', 245)}}@example.com"}""", "email" },
        { $$"""{"email":"a@example.com","name":"{{Long201}}"}""", "name" },
        { $$"""{"email":"a@example.com","company":"{{Long201}}"}""", "company" },
        { """{"email":"a@example.com","name":"nul\u0000inside"}""", "name" },
        { """{"email":"a@example.com","phone":"4155550123"}""", "phone" },
        { """{"email":"a@example.com","phone":"+0155550123"}""", "phone" },
        { """{"email":"a@example.com","phone":"+1234567890123456"}""", "phone" },
        { """{"email":"a@example.com","phone":"+1 415 555 0123"}""", "phone" },
        { """{"email":"a@example.com","status":"deleted"}""", "status" },
        { """{"email":"a@example.com","tags":[""]}""", "tags" },
        { """{"email":"a@example.com","tags":["   "]}""", "tags" },
        { $$"""{"email":"a@example.com","tags":["{{new string('t', 51)}}"]}""", "tags" },
        { $$"""{"email":"a@example.com","tags":[{{string.Join(",", Enumerable.Range(0, 21).Select(i => $"\"t{i}\""))}}]}""", "tags" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task An_invalid_field_on_create_is_a_400_naming_it(string json, string field)
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();

        await CrmFixture.AssertInvalidAsync(await crm.SendJsonAsync(HttpMethod.Post, "/api/contacts", owner.Token, json), field);
    }

    [Theory]
    [InlineData("""{"email":null}""", "email")]
    [InlineData("""{"status":null}""", "status")]
    [InlineData("""{"phone":"555"}""", "phone")]
    [InlineData("""{"tags":["ok",""]}""", "tags")]
    public async Task An_invalid_field_on_patch_is_a_400_naming_it(string json, string field)
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var id = (await crm.CreateContactAsync(owner.Token, new { email = "patch@example.com" })).GetProperty("id").GetString();

        await CrmFixture.AssertInvalidAsync(await crm.SendJsonAsync(HttpMethod.Patch, $"/api/contacts/{id}", owner.Token, json), field);
    }

    [Fact]
    public async Task Every_invalid_field_is_reported_at_once()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();

        var response = await crm.SendJsonAsync(HttpMethod.Post, "/api/contacts", owner.Token, """{"email":"bad","phone":"bad","status":"bad"}""");

        var errors = (await HttpAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "validation")).GetProperty("errors");
        Assert.Equal(["email", "phone", "status"], errors.EnumerateObject().Select(p => p.Name).Order());
    }

    [Theory]
    [InlineData(HttpMethod_Post, "/api/contacts", """{"email":"a@example.com","nickname":"x"}""")]
    [InlineData(HttpMethod_Patch, "/api/contacts/{id}", """{"nickname":"x"}""")]
    public async Task An_unknown_field_is_refused(string method, string path, string json)
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var id = (await crm.CreateContactAsync(owner.Token, new { email = "known@example.com" })).GetProperty("id").GetString();

        await HttpAssert.ProblemAsync(await crm.SendJsonAsync(new HttpMethod(method), path.Replace("{id}", id, StringComparison.Ordinal), owner.Token, json),
            HttpStatusCode.BadRequest, "malformed-json");
    }

    private const string HttpMethod_Post = "POST";
    private const string HttpMethod_Patch = "PATCH";
}
