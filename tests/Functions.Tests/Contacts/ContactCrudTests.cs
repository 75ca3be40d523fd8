using System.Net;
using System.Text.Json;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Contacts;

public class ContactCrudTests(CrmFixture crm) : IClassFixture<CrmFixture>
{
    [Fact]
    public async Task A_created_contact_can_be_read_back_with_its_etag()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();

        var response = await crm.SendAsync(HttpMethod.Post, "/api/contacts", owner.Token,
            new { email = "ada@example.com", name = "Ada Lovelace", phone = "+442071234567", company = "Analytical", tags = new List<string> { "VIP", " vip ", "Math" } });
        var created = await HttpAssert.JsonAsync(response, HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString();

        Assert.Equal($"/api/contacts/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("\"1\"", response.Headers.ETag?.ToString());
        Assert.Equal("active", created.GetProperty("status").GetString());
        Assert.Equal(["vip", "math"], created.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        var read = await crm.SendAsync(HttpMethod.Get, $"/api/contacts/{id}", owner.Token);
        var body = await HttpAssert.JsonAsync(read, HttpStatusCode.OK);
        Assert.Equal("\"1\"", read.Headers.ETag?.ToString());
        Assert.Equal("Ada Lovelace", body.GetProperty("name").GetString());
        Assert.Equal("+442071234567", body.GetProperty("phone").GetString());
        Assert.Equal(1, body.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task A_patch_changes_only_the_fields_it_names_and_null_clears_one()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var id = (await crm.CreateContactAsync(owner.Token, new { email = "grace@example.com", name = "Grace", company = "Navy", tags = new List<string> { "a" } })).GetProperty("id").GetString();

        var response = await crm.SendJsonAsync(HttpMethod.Patch, $"/api/contacts/{id}", owner.Token, """{"name":"Grace Hopper","company":null}""");
        var patched = await HttpAssert.JsonAsync(response, HttpStatusCode.OK);

        Assert.Equal("\"2\"", response.Headers.ETag?.ToString());
        Assert.Equal("Grace Hopper", patched.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, patched.GetProperty("company").ValueKind);
        Assert.Equal("grace@example.com", patched.GetProperty("email").GetString());
        Assert.Equal(["a"], patched.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task A_merge_patch_body_with_null_tags_empties_them()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var id = (await crm.CreateContactAsync(owner.Token, new { email = "merge@example.com", tags = new List<string> { "x" } })).GetProperty("id").GetString();
        var request = TenantSeeder.Request(HttpMethod.Patch, $"/api/contacts/{id}", owner.Token);
        request.Content = new StringContent("""{"tags":null,"status":"archived"}""", System.Text.Encoding.UTF8, "application/merge-patch+json");

        var patched = await HttpAssert.JsonAsync(await crm.App.Client.SendAsync(request), HttpStatusCode.OK);

        Assert.Equal(0, patched.GetProperty("tags").GetArrayLength());
        Assert.Equal("archived", patched.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_patch_with_a_stale_if_match_is_a_412_and_a_current_one_succeeds()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var id = (await crm.CreateContactAsync(owner.Token, new { email = "etag@example.com" })).GetProperty("id").GetString();
        await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Patch, $"/api/contacts/{id}", owner.Token, new { name = "first" }, ifMatch: "\"1\""), HttpStatusCode.OK);

        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Patch, $"/api/contacts/{id}", owner.Token, new { name = "stale" }, ifMatch: "\"1\""),
            HttpStatusCode.PreconditionFailed, "precondition-failed");
        var current = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Patch, $"/api/contacts/{id}", owner.Token, new { name = "second" }, ifMatch: "\"2\""), HttpStatusCode.OK);
        Assert.Equal("second", current.GetProperty("name").GetString());
        await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Patch, $"/api/contacts/{id}", owner.Token, new { name = "any" }, ifMatch: "*"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_deleted_contact_is_gone_and_its_email_can_be_used_again()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var id = (await crm.CreateContactAsync(owner.Token, new { email = "Reuse@Example.com" })).GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.NoContent, (await crm.SendAsync(HttpMethod.Delete, $"/api/contacts/{id}", owner.Token)).StatusCode);

        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Get, $"/api/contacts/{id}", owner.Token), HttpStatusCode.NotFound, "not-found");
        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Delete, $"/api/contacts/{id}", owner.Token), HttpStatusCode.NotFound, "not-found");
        await crm.CreateContactAsync(owner.Token, new { email = "reuse@example.com" });
    }

    [Fact]
    public async Task A_duplicate_email_in_the_same_workspace_is_a_409_whatever_its_case()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        await crm.CreateContactAsync(owner.Token, new { email = "dup@example.com" });

        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Post, "/api/contacts", owner.Token, new { email = "DUP@example.com" }),
            HttpStatusCode.Conflict, "conflict");
    }

    [Fact]
    public async Task Changing_an_email_to_one_already_taken_is_a_409()
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        await crm.CreateContactAsync(owner.Token, new { email = "taken@example.com" });
        var id = (await crm.CreateContactAsync(owner.Token, new { email = "free@example.com" })).GetProperty("id").GetString();

        await HttpAssert.ProblemAsync(await crm.SendAsync(HttpMethod.Patch, $"/api/contacts/{id}", owner.Token, new { email = "taken@example.com" }),
            HttpStatusCode.Conflict, "conflict");
    }

    [Fact]
    public async Task The_same_email_may_exist_in_another_workspace()
    {
        var (_, first) = await crm.Seed.WorkspaceWithOwnerAsync();
        var (_, second) = await crm.Seed.WorkspaceWithOwnerAsync();

        await crm.CreateContactAsync(first.Token, new { email = "shared@example.com" });
        await crm.CreateContactAsync(second.Token, new { email = "shared@example.com" });
    }

    [Theory]
    [InlineData("Robert'); DROP TABLE contacts;--")]
    [InlineData("<script>alert('x')</script>")]
    [InlineData("\" OR 1=1 -- ' %_\\ ☃ 𝄞")]
    public async Task Sql_and_script_looking_strings_are_stored_and_returned_verbatim(string text)
    {
        var (_, owner) = await crm.Seed.WorkspaceWithOwnerAsync();
        var created = await crm.CreateContactAsync(owner.Token, new { email = "verbatim@example.com", name = text, company = text, tags = new List<string> { "<b>" } });

        var read = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, $"/api/contacts/{created.GetProperty("id").GetString()}", owner.Token), HttpStatusCode.OK);

        Assert.Equal(text, read.GetProperty("name").GetString());
        Assert.Equal(text, read.GetProperty("company").GetString());
        Assert.Equal("<b>", read.GetProperty("tags")[0].GetString());
        var list = await HttpAssert.JsonAsync(await crm.SendAsync(HttpMethod.Get, "/api/contacts?q=" + Uri.EscapeDataString(text), owner.Token), HttpStatusCode.OK);
        Assert.Equal(1, list.GetProperty("items").GetArrayLength());
    }
}
