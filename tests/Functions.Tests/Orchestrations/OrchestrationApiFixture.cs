using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentCrm.Core.Durable;
using AgentCrm.Core.Durable.Queues;
using AgentCrm.Functions.Tests.Durable;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Orchestrations;

/// <summary>One app with the engine's test workflows, for the management API tests; each test makes its own workspace.</summary>
public sealed class OrchestrationApiFixture : IAsyncLifetime
{
    public const int MaxPayloadBytes = 4096;
    public const string PoisonQueue = "management-poison";

    public TestDatabase Db { get; private set; } = null!;

    public TestApp App { get; private set; } = null!;

    public TenantSeeder Seed { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync(migrate: true);
        App = await TestApp.StartAsync(Db, new()
        {
            ["Durable:LeaseSeconds"] = "5", ["Durable:PollMaxMs"] = "250", ["Durable:MaxPayloadBytes"] = MaxPayloadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, configure: b => b.Services.AddDurableFunctions(TestWorkflows.Register).AddDurableFunctions(ManagementWorkflows.Register)
            .AddQueueHandler(PoisonQueue, ManagementWorkflows.HandleGatedMessage, new QueueHandlerOptions { MaxDequeueCount = 2, RetryDelay = TimeSpan.FromMilliseconds(10) }));
        Seed = new TenantSeeder(Db, App);
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Db.DisposeAsync();
    }

    public async Task<string> AdminAsync() => (await Seed.WorkspaceWithOwnerAsync()).Owner.Token;

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string token, object? body = null, string? idempotencyKey = null)
    {
        var request = TenantSeeder.Request(method, path, token, body);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return App.Client.SendAsync(request);
    }

    public Task<HttpResponseMessage> RawAsync(HttpMethod method, string path, string token, string body, string contentType = "application/json")
    {
        var request = TenantSeeder.Request(method, path, token);
        request.Content = new StringContent(body, Encoding.UTF8, contentType);
        return App.Client.SendAsync(request);
    }

    /// <summary>Starts an instance over HTTP and returns its id.</summary>
    public async Task<string> StartAsync(string token, string name, object? input = null, string? instanceId = null)
    {
        var response = await SendAsync(HttpMethod.Post, "/api/orchestrations", token, new { name, input, instanceId });
        return (await HttpAssert.JsonAsync(response, HttpStatusCode.Accepted)).GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> StatusAsync(string token, string instanceId, string query = "")
    {
        var response = await SendAsync(HttpMethod.Get, $"/api/orchestrations/{Uri.EscapeDataString(instanceId)}{query}", token);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted, $"GET status answered {(int)response.StatusCode}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Awaits the instance reaching <paramref name="status"/> and returns its state.</summary>
    public async Task<JsonElement> WaitForAsync(string token, string instanceId, string status, string query = "")
    {
        JsonElement state = default;
        await Eventually.TrueAsync(async () => (state = await StatusAsync(token, instanceId, query)).GetProperty("runtimeStatus").GetString() == status);
        return state;
    }
}
