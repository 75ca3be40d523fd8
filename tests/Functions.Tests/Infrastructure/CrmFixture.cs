using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace AgentCrm.Functions.Tests.Infrastructure;

/// <summary>
/// One migrated database and app shared by a test class: CRM tests each make their own workspace, which
/// isolates their data, so they need not pay for a database each.
/// </summary>
public sealed class CrmFixture : IAsyncLifetime
{
    public TestDatabase Db { get; private set; } = null!;

    public TestApp App { get; private set; } = null!;

    public TenantSeeder Seed { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync(migrate: true);
        App = await TestApp.StartAsync(Db);
        Seed = new TenantSeeder(Db, App);
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }

        if (Db is not null)
        {
            await Db.DisposeAsync();
        }
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string token, object? body = null, string? ifMatch = null)
    {
        var request = TenantSeeder.Request(method, path, token, body);
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return App.Client.SendAsync(request);
    }

    /// <summary>A body sent exactly as written, for malformed or unusual JSON.</summary>
    public Task<HttpResponseMessage> SendJsonAsync(HttpMethod method, string path, string token, string json)
    {
        var request = TenantSeeder.Request(method, path, token);
        request.Content = new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        return App.Client.SendAsync(request);
    }

    public async Task<JsonElement> CreateContactAsync(string token, object body) =>
        await HttpAssert.JsonAsync(await SendAsync(HttpMethod.Post, "/api/contacts", token, body), HttpStatusCode.Created);

    public async Task<JsonElement> CreateCampaignAsync(string token, object? audience = null, string name = "Spring launch") =>
        await HttpAssert.JsonAsync(await SendAsync(HttpMethod.Post, "/api/campaigns", token,
            new { name, subject = "Hello", body = "<p>Hi there</p>", audience }), HttpStatusCode.Created);

    /// <summary>Checks a 400 validation problem names <paramref name="field"/> in its errors map.</summary>
    public static async Task AssertInvalidAsync(HttpResponseMessage response, string field)
    {
        var problem = await HttpAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "validation");
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var messages), $"errors lacks {field}: {errors}");
        Assert.True(messages.GetArrayLength() > 0);
    }
}
