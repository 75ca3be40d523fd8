using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Functions.Tests.Infrastructure;

/// <summary>
/// The real app, composed exactly as Program does, listening on a free loopback port and called over
/// real HTTP. Tests add settings, services or endpoints; nothing in the pipeline is replaced.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    private TestApp(WebApplication app)
    {
        App = app;
        Client = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => App.Services;

    public static async Task<TestApp> StartAsync(
        TestDatabase? database,
        Dictionary<string, string?>? settings = null,
        Action<WebApplicationBuilder>? configure = null,
        Action<WebApplication>? map = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Postgres:Pooled"] = database?.AppConnectionString ?? "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none",
            ["Postgres:Direct"] = null,
            ["Postgres:Owner"] = database?.ConnectionString,
            ["Http:ShutdownDrainSeconds"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Diagnostics:TestEndpoints"] = "true",
            ["Migrations:RunOnStart"] = "false",
            ["Auth:SigningKey"] = TestSecrets.SigningKey,
            // Redis:Url comes from the environment scripts/test sets. A prefix of its own per app, so apps
            // sharing the server never see each other's keys; two instances of one app share theirs.
            ["Redis:KeyPrefix"] = $"test:{Guid.NewGuid():N}:",
            // Rate limits and quotas only for the tests about them (hundreds of tests sign in from 127.0.0.1).
            ["RateLimits:Enabled"] = "false",
            ["Quotas:Enabled"] = "false",
        };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }

        var app = AgentCrmApp.Build(["--environment", "Development"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(values);
            configure?.Invoke(builder);
        });
        map?.Invoke(app);
        await app.StartAsync();
        return new TestApp(app);
    }

    /// <summary>Builds without starting, for tests of what configuration refuses.</summary>
    public static ConfigurationException BuildFails(Dictionary<string, string?> settings) =>
        Assert.Throws<ConfigurationException>(() => AgentCrmApp.Build(["--environment", "Development"],
            builder => builder.Configuration.AddInMemoryCollection(settings)));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
